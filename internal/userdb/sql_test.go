package userdb

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"github.com/gomilter/gomilter/internal/userdb/userdbtest"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/jmoiron/sqlx"

	"github.com/gomilter/gomilter/internal/passwd"
	"github.com/gomilter/gomilter/internal/testenv"
)

// createMySQL is an empty PostfixAdmin database on the machine's MariaDB.
func createMySQL(t *testing.T) *userdbtest.DB { return userdbtest.NewEmpty(t) }

// PostfixAdminPasswordQuery also checks domain.active.
const PostfixAdminPasswordQuery = userdbtest.PasswordQuery

func seedPostfixAdmin(t *testing.T, db *sqlx.DB, prefix string) map[string]string {
	t.Helper()
	md5c, _ := passwd.Generate("MD5-CRYPT", "alicepw", "", passwd.GenOptions{})
	sha, _ := passwd.Generate("SHA512-CRYPT", "bobpw", "", passwd.GenOptions{})
	db.MustExec("INSERT INTO " + prefix + "domain (domain, active) VALUES ('example.org', 1), ('dead.example', 0)")
	users := map[string]string{
		"alice@example.org": strings.TrimPrefix(md5c, "{MD5-CRYPT}"), // bare $1$ as PostfixAdmin stores
		"bob@example.org":   sha,
		"off@example.org":   "{PLAIN}offpw",
		"zed@dead.example":  "{PLAIN}zedpw",
	}
	for u, pw := range users {
		local, dom, _ := strings.Cut(u, "@")
		active := 1
		if local == "off" {
			active = 0
		}
		db.MustExec("INSERT INTO "+prefix+"mailbox (username, password, maildir, quota, local_part, domain, active) "+
			"VALUES (?, ?, ?, 1024000, ?, ?, ?)", u, pw, dom+"/"+local+"/", local, dom, active)
	}
	return users
}

func TestSQLPostfixAdminMySQL(t *testing.T) {
	tdb := createMySQL(t)
	users := seedPostfixAdmin(t, tdb.Admin, tdb.Name+".")
	proxy := userdbtest.NewProxy(t, "127.0.0.1:3306")
	host, port, _ := net.SplitHostPort(proxy.Addr())
	conf, err := ParseSQLConfig(strings.NewReader("driver = mysql\n" +
		"connect = host=" + host + " port=" + port + " dbname=" + tdb.Name + " user=root\n" +
		"default_pass_scheme = SHA512-CRYPT\n" +
		"password_query = " + PostfixAdminPasswordQuery + "\n" +
		"user_query = SELECT CONCAT('/var/mail/vmail/', maildir) AS home, 1001 AS uid, 1001 AS gid, " +
		"CONCAT('*:bytes=', quota) AS quota_rule FROM mailbox WHERE username = '%u' AND active = '1'\n" +
		"iterate_query = SELECT username AS user FROM mailbox WHERE active = '1'\n"))
	if err != nil {
		t.Fatal(err)
	}
	s, err := OpenSQL(conf, SQLOptions{QueryTimeout: 2 * time.Second, DialTimeout: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	ctx := context.Background()
	for user, pw := range map[string]string{"alice@example.org": "alicepw", "bob@example.org": "bobpw"} {
		c, err := s.Lookup(ctx, user, RequestInfo{Service: "smtp"})
		if err != nil || c.User != user || c.Password != users[user] {
			t.Fatalf("Lookup(%s) = %+v, %v", user, c, err)
		}
		if ok, err := passwd.Verify(c.Password, c.DefaultScheme, pw, user); !ok || err != nil {
			t.Errorf("Verify(%s) = %v, %v", user, ok, err)
		}
	}
	// MariaDB's latin1 collation matches case-insensitively; user= is canonical.
	if c, err := s.Lookup(ctx, "ALICE@example.org", RequestInfo{}); err != nil || c.User != "alice@example.org" {
		t.Errorf("case-insensitive lookup = %+v, %v", c, err)
	}
	for _, u := range []string{"off@example.org", "zed@dead.example", "nobody@example.org", "x' OR '1'='1"} {
		if _, err := s.Lookup(ctx, u, RequestInfo{}); !errors.Is(err, ErrNotFound) {
			t.Errorf("Lookup(%q) = %v, want ErrNotFound", u, err)
		}
	}
	u, err := s.LookupUser(ctx, "bob@example.org", RequestInfo{})
	if err != nil || u.Fields["home"] != "/var/mail/vmail/example.org/bob/" || u.Fields["quota_rule"] != "*:bytes=1024000" {
		t.Errorf("LookupUser = %+v, %v", u, err)
	}
	var n int
	s.Iterate(ctx, func(string) error { n++; return nil })
	if n != 3 {
		t.Errorf("Iterate found %d active mailboxes, want 3", n)
	}
	proxy.Stop()
	_, err = s.Lookup(ctx, "bob@example.org", RequestInfo{})
	if !IsTemporary(err) {
		t.Errorf("Lookup with database unreachable = %v, want TempError", err)
	}
}

func TestSQLMultipleRowsIsTemporary(t *testing.T) {
	tdb := createMySQL(t)
	seedPostfixAdmin(t, tdb.Admin, tdb.Name+".")
	conf := &SQLConfig{Driver: "mysql", Hosts: []string{"127.0.0.1"},
		Connect:       map[string]string{"dbname": tdb.Name, "user": "root"},
		PasswordQuery: "SELECT username AS user, password FROM mailbox WHERE domain = '%d'"}
	s, err := OpenSQL(conf, SQLOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if _, err := s.Lookup(context.Background(), "x@example.org", RequestInfo{}); !IsTemporary(err) {
		t.Errorf("multiple rows = %v, want TempError", err)
	}
}

func TestSQLPostgreSQL(t *testing.T) {
	testenv.Service(t, "127.0.0.1:5432")
	admin, err := sqlx.Open("postgres", "postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable")
	if err != nil {
		t.Fatal(err)
	}
	defer admin.Close()
	b := make([]byte, 6)
	rand.Read(b)
	name := "gomilter_test_auth_" + hex.EncodeToString(b)
	admin.MustExec("CREATE DATABASE " + name)
	t.Cleanup(func() { admin.Exec("DROP DATABASE " + name + " WITH (FORCE)") })
	db := sqlx.MustOpen("postgres", "postgres://postgres@127.0.0.1:5432/"+name+"?sslmode=disable")
	defer db.Close()
	db.MustExec(`CREATE TABLE domain (domain varchar(255) PRIMARY KEY, active boolean NOT NULL DEFAULT true)`)
	db.MustExec(`CREATE TABLE mailbox (username varchar(255) PRIMARY KEY, password varchar(255) NOT NULL,
		maildir varchar(255) NOT NULL, local_part varchar(255) NOT NULL, domain varchar(255) NOT NULL,
		active boolean NOT NULL DEFAULT true)`)
	db.MustExec(`INSERT INTO domain VALUES ('example.org', true)`)
	db.MustExec(`INSERT INTO mailbox VALUES ('pg@example.org', '{PLAIN}pgpw', 'example.org/pg/', 'pg', 'example.org', true),
		('off@example.org', '{PLAIN}x', 'example.org/off/', 'off', 'example.org', false)`)
	conf, err := ParseSQLConfig(strings.NewReader("driver = pgsql\nconnect = host=127.0.0.1 dbname=" + name +
		" user=postgres\npassword_query = SELECT m.username AS user, m.password FROM mailbox m " +
		"JOIN domain d ON d.domain = m.domain WHERE m.username = '%u' AND m.local_part = '%n' AND m.active = 't' AND d.active = 't'\n" +
		"user_query = SELECT '/var/mail/' || maildir AS home FROM mailbox WHERE username = '%Lu'\n"))
	if err != nil {
		t.Fatal(err)
	}
	s, err := OpenSQL(conf, SQLOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	ctx := context.Background()
	c, err := s.Lookup(ctx, "pg@example.org", RequestInfo{})
	if err != nil || c.Password != "{PLAIN}pgpw" || c.User != "pg@example.org" {
		t.Errorf("Lookup = %+v, %v", c, err)
	}
	if _, err := s.Lookup(ctx, "off@example.org", RequestInfo{}); !errors.Is(err, ErrNotFound) {
		t.Errorf("inactive = %v", err)
	}
	if u, err := s.LookupUser(ctx, "PG@example.org", RequestInfo{}); err != nil || u.Fields["home"] != "/var/mail/example.org/pg/" {
		t.Errorf("LookupUser = %+v, %v", u, err)
	}
}

// TestSQLSeveralHosts: connect= with two host= entries, the first one
// unreachable (nothing listens on 127.0.0.2:3306); every lookup still
// succeeds through the second, whichever host the round-robin starts with.
func TestSQLSeveralHosts(t *testing.T) {
	tdb := createMySQL(t)
	seedPostfixAdmin(t, tdb.Admin, tdb.Name+".")
	if c, err := net.DialTimeout("tcp", "127.0.0.2:3306", time.Second); err == nil {
		c.Close()
		t.Fatal("127.0.0.2:3306 answers; the test needs it unreachable")
	}
	conf, err := ParseSQLConfig(strings.NewReader("driver = mysql\n" +
		"connect = host=127.0.0.2 host=127.0.0.1 dbname=" + tdb.Name + " user=root\n" +
		"password_query = " + PostfixAdminPasswordQuery + "\n"))
	if err != nil {
		t.Fatal(err)
	}
	if len(conf.Hosts) != 2 {
		t.Fatalf("hosts = %v", conf.Hosts)
	}
	s, err := OpenSQL(conf, SQLOptions{DialTimeout: 500 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	for i := 0; i < 4; i++ {
		if _, err := s.Lookup(context.Background(), "bob@example.org", RequestInfo{}); err != nil {
			t.Fatalf("lookup %d: %v", i, err)
		}
	}
}
