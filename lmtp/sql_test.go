package lmtp

import (
	"crypto/rand"
	"encoding/hex"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/gomilter/gomilter/internal/testenv"
	"github.com/gomilter/gomilter/internal/userdb"
	"github.com/jmoiron/sqlx"
)

// TestPostfixAdminMySQL delivers to users of a PostfixAdmin database on
// the machine's MariaDB through a dovecot-sql.conf.ext with the canonical
// user_query: home from mailbox.maildir, quota_rule from mailbox.quota.
// An inactive mailbox is unknown (550); over quota is 552; the database
// going away is 451.
func TestPostfixAdminMySQL(t *testing.T) {
	testenv.Service(t, "127.0.0.1:3306")
	admin, err := sqlx.Open("mysql", "root@tcp(127.0.0.1:3306)/")
	if err != nil {
		t.Fatal(err)
	}
	b := make([]byte, 6)
	rand.Read(b)
	name := "gomilter_test_lmtp_" + hex.EncodeToString(b)
	admin.MustExec("CREATE DATABASE " + name)
	t.Cleanup(func() { admin.Exec("DROP DATABASE " + name); admin.Close() })
	admin.MustExec(`CREATE TABLE ` + name + `.mailbox (username varchar(255) NOT NULL PRIMARY KEY,
	  password varchar(255) NOT NULL, maildir varchar(255) NOT NULL, quota bigint NOT NULL DEFAULT 0,
	  local_part varchar(255) NOT NULL, domain varchar(255) NOT NULL, active tinyint(1) NOT NULL DEFAULT 1) DEFAULT CHARSET=latin1`)
	for _, row := range []struct {
		user  string
		quota int
		on    int
	}{{"alice@example.org", 0, 1}, {"tiny@example.org", 100, 1}, {"off@example.org", 0, 0}} {
		local, dom, _ := strings.Cut(row.user, "@")
		admin.MustExec("INSERT INTO "+name+".mailbox VALUES (?, 'x', ?, ?, ?, ?, ?)", row.user, dom+"/"+local+"/", row.quota, local, dom, row.on)
	}
	vmail := t.TempDir()
	conf, err := userdb.ParseSQLConfig(strings.NewReader("driver = mysql\nconnect = host=127.0.0.1 dbname=" + name + " user=root\n" +
		"user_query = SELECT CONCAT('" + vmail + "/', maildir) AS home, 5000 AS uid, 5000 AS gid, " +
		"CONCAT('*:bytes=', quota) AS quota_rule FROM mailbox WHERE username = '%u' AND active = '1'\n"))
	if err != nil {
		t.Fatal(err)
	}
	db, err := userdb.OpenSQL(conf, userdb.SQLOptions{QueryTimeout: 2 * time.Second, DialTimeout: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	e := newTestEnv(t, nil)
	e.srv.SetBackend(&UserDB{DB: db, MailLocation: "maildir:~/"})
	c := e.dial()
	c.send("LHLO mx", "MAIL FROM:<a@example.net>", "RCPT TO:<alice@example.org>", "RCPT TO:<off@example.org>",
		"RCPT TO:<Tiny@Example.org>", "DATA")
	c.expect("250 *")
	c.expect("250 *")
	c.expect("250 *")
	c.expect("550 5.1.1 <off@example.org> *")
	c.expect("250 *")
	c.expect("354 *")
	c.data("Subject: sql\r\n\r\n" + strings.Repeat("x", 200) + "\r\n")
	c.expect("250 2.0.0 <alice@example.org> * Saved")
	c.expect("552 5.2.2 <Tiny@Example.org> *")
	if got := files(t, filepath.Join(vmail, "example.org", "alice")); len(got) != 1 {
		t.Errorf("alice's Maildir (~/ = PostfixAdmin maildir) has %v", got)
	}
	db.Close()
	c.send("RSET", "MAIL FROM:<a@example.net>", "RCPT TO:<alice@example.org>")
	c.expect("250 *")
	c.expect("250 *")
	c.expect("451 4.3.0 <alice@example.org> Temporary internal error")
}
