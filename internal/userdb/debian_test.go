package userdb

import (
	"context"
	"os"
	"strings"
	"testing"

	"github.com/gomilter/gomilter/internal/testenv"
)

// debianSQLConf takes the dovecot-sql.conf.ext Debian installs and
// uncomments its default password_query, user_query and iterate_query
// examples, as an administrator would, then sets driver and connect.
func debianSQLConf(t *testing.T, connect string) string {
	t.Helper()
	b, err := os.ReadFile("/etc/dovecot/dovecot-sql.conf.ext")
	if err != nil {
		testenv.Missing(t, "Debian's /etc/dovecot/dovecot-sql.conf.ext: %v", err)
	}
	var out []string
	seen := map[string]bool{}
	cont := false
	for _, line := range strings.Split(string(b), "\n") {
		key := strings.TrimSpace(strings.SplitN(strings.TrimPrefix(line, "#"), "=", 2)[0])
		first := strings.HasPrefix(line, "#") && !strings.HasPrefix(line, "# ") &&
			(key == "password_query" || key == "user_query" || key == "iterate_query") && !seen[key]
		if first || (cont && strings.HasPrefix(line, "#  ")) {
			seen[key] = seen[key] || first
			line = strings.TrimPrefix(line, "#")
			cont = strings.HasSuffix(line, "\\")
		} else {
			cont = false
		}
		out = append(out, line)
	}
	return strings.Join(out, "\n") + "\ndriver = mysql\nconnect = " + connect + "\n"
}

func TestDebianSQLConfExamples(t *testing.T) {
	tdb := createMySQL(t)
	tdb.Admin.MustExec(`CREATE TABLE ` + tdb.Name + `.users (username varchar(64), domain varchar(64),
		password varchar(255), home varchar(255), uid int, gid int)`)
	tdb.Admin.MustExec(`INSERT INTO `+tdb.Name+`.users VALUES ('dora', 'example.net', ?, '/home/dora', 1500, 1500)`,
		"{PLAIN}dora-pw")
	conf, err := ParseSQLConfig(strings.NewReader(debianSQLConf(t, "host=127.0.0.1 dbname="+tdb.Name+" user=root")))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(conf.PasswordQuery, "username = '%n' AND domain = '%d'") || conf.UserQuery == "" ||
		conf.IterateQuery == "" || conf.DefaultPassScheme != "MD5" {
		t.Fatalf("parsed Debian config = %+v", conf)
	}
	s, err := OpenSQL(conf, SQLOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	ctx := context.Background()
	c, err := s.Lookup(ctx, "dora@example.net", RequestInfo{})
	if err != nil || c.User != "dora@example.net" || c.Password != "{PLAIN}dora-pw" {
		t.Errorf("Lookup = %+v, %v", c, err)
	}
	u, err := s.LookupUser(ctx, "dora@example.net", RequestInfo{})
	if err != nil || u.Fields["home"] != "/home/dora" || u.Fields["uid"] != "1500" {
		t.Errorf("LookupUser = %+v, %v", u, err)
	}
	var names []string
	if err := s.Iterate(ctx, func(n string) error { names = append(names, n); return nil }); err != nil || len(names) != 1 {
		t.Errorf("Iterate = %v, %v", names, err)
	}
}
