package userdb

import (
	"strings"
	"testing"
)

func FuzzParseSQLConfig(f *testing.F) {
	f.Add(postfixAdminSQLConf)
	f.Add("driver = pgsql\nconnect = \"host=/run/pg dbname=x\"\npassword_query = SELECT 1 \\\n WHERE a='%u'\n")
	f.Fuzz(func(t *testing.T, s string) {
		c, err := ParseSQLConfig(strings.NewReader(s))
		if err != nil {
			return
		}
		if c.Driver != "mysql" && c.Driver != "pgsql" {
			t.Fatalf("accepted driver %q", c.Driver)
		}
		for _, q := range []string{c.PasswordQuery, c.UserQuery, c.IterateQuery} {
			compileQuery(q, func(int) string { return "?" })
		}
	})
}

func FuzzParsePasswdFile(f *testing.F) {
	f.Add(samplePasswdFile)
	f.Add("u:{PLAIN}p:1:2::/h::userdb_mail=maildir:~/M nopassword\n")
	f.Fuzz(func(t *testing.T, s string) {
		users, err := ParsePasswdFile(strings.NewReader(s))
		if err != nil {
			return
		}
		for name, e := range users {
			if name == "" || strings.Contains(name, ":") || strings.ContainsAny(e.password, "\n") {
				t.Fatalf("bad entry %q %+v", name, e)
			}
		}
	})
}

func FuzzQueryTemplate(f *testing.F) {
	f.Add("SELECT password FROM mailbox WHERE username = '%u' AND active = '1'", "a@b")
	f.Add("SELECT 1 WHERE x = '%2.3Ln@%{domain}' AND y = %s", "x'y@z")
	f.Fuzz(func(t *testing.T, query, user string) {
		tmpl, err := compileQuery(query, func(int) string { return "?" })
		if err != nil {
			return
		}
		if strings.Count(tmpl.sql, "?") < len(tmpl.args) {
			t.Fatalf("placeholders lost: %q -> %q %q", query, tmpl.sql, tmpl.args)
		}
		if strings.Contains(user, "'") {
			args, err := tmpl.bind(RequestInfo{}, user)
			if err == nil && len(args) > 0 && strings.Contains(tmpl.sql, user) && !strings.Contains(query, user) {
				t.Fatalf("user text leaked into SQL: %q", tmpl.sql)
			}
		}
	})
}
