// Package userdbtest provides test fixtures for credential stores: a
// throwaway MariaDB database with PostfixAdmin's schema, and a TCP proxy a
// test can stop to make a database unreachable for its client only (never
// stop the machine's database).
package userdbtest

import (
	"crypto/rand"
	"encoding/hex"
	"io"
	"net"
	"strings"
	"sync"
	"testing"

	_ "github.com/go-sql-driver/mysql" // MariaDB driver
	"github.com/jmoiron/sqlx"

	"github.com/gomilter/gomilter/internal/passwd"
	"github.com/gomilter/gomilter/internal/testenv"
)

// MySQLAddr is the machine's MariaDB.
const MySQLAddr = "127.0.0.1:3306"

// PostfixAdmin 3.3 tables (the columns mail servers use), as upgrade.php
// creates them for MySQL.
var postfixAdminSchema = []string{
	`CREATE TABLE domain (domain varchar(255) NOT NULL PRIMARY KEY, description varchar(255) NOT NULL DEFAULT '',
	  aliases int NOT NULL DEFAULT 0, mailboxes int NOT NULL DEFAULT 0, maxquota bigint NOT NULL DEFAULT 0,
	  quota bigint NOT NULL DEFAULT 0, transport varchar(255) NOT NULL DEFAULT 'virtual',
	  backupmx tinyint(1) NOT NULL DEFAULT 0, active tinyint(1) NOT NULL DEFAULT 1) DEFAULT CHARSET=latin1`,
	`CREATE TABLE mailbox (username varchar(255) NOT NULL PRIMARY KEY, password varchar(255) NOT NULL,
	  name varchar(255) NOT NULL DEFAULT '', maildir varchar(255) NOT NULL, quota bigint NOT NULL DEFAULT 0,
	  local_part varchar(255) NOT NULL, domain varchar(255) NOT NULL, active tinyint(1) NOT NULL DEFAULT 1)
	  DEFAULT CHARSET=latin1`,
}

// PasswordQuery is the PostfixAdmin password_query that also checks
// domain.active, as production setups do.
const PasswordQuery = `SELECT mailbox.username AS user, mailbox.password FROM mailbox ` +
	`JOIN domain ON domain.domain = mailbox.domain ` +
	`WHERE mailbox.username = '%u' AND mailbox.active = '1' AND domain.active = '1'`

// UserQuery is DOVECOT.txt's user_query.
const UserQuery = `SELECT CONCAT('/var/mail/vmail/', maildir) AS home, 1001 AS uid, 1001 AS gid, ` +
	`CONCAT('*:bytes=', quota) AS quota_rule FROM mailbox WHERE username = '%u' AND active = '1'`

// DB is a throwaway PostfixAdmin database, dropped at test cleanup.
type DB struct {
	Name     string
	Admin    *sqlx.DB
	Accounts []Account // seeded accounts with their stored hashes
}

// Account is a seeded mailbox.
type Account struct {
	User, Password, Stored string
	Active, DomainActive   bool
}

// Accounts are what Seed inserts: alice (bare $1$ md5crypt, PostfixAdmin's
// default), bob ({SHA512-CRYPT}), off (inactive mailbox), zed (inactive
// domain).
var Accounts = []Account{
	{User: "alice@example.org", Password: "alice-pw", Active: true, DomainActive: true},
	{User: "bob@example.org", Password: "bob-pw", Active: true, DomainActive: true},
	{User: "off@example.org", Password: "off-pw", Active: false, DomainActive: true},
	{User: "zed@dead.example", Password: "zed-pw", Active: true, DomainActive: false},
}

// NewPostfixAdmin creates gomilter_test_auth_<random> with the schema and
// the seeded Accounts.
func NewPostfixAdmin(tb testing.TB) *DB {
	tb.Helper()
	d := NewEmpty(tb)
	d.seed(tb)
	return d
}

// NewEmpty creates gomilter_test_auth_<random> with PostfixAdmin's tables
// and no rows, dropped at test cleanup.
func NewEmpty(tb testing.TB) *DB {
	tb.Helper()
	testenv.Service(tb, MySQLAddr)
	admin, err := sqlx.Open("mysql", "root@tcp("+MySQLAddr+")/")
	if err != nil {
		tb.Fatal(err)
	}
	b := make([]byte, 6)
	rand.Read(b)
	d := &DB{Name: "gomilter_test_auth_" + hex.EncodeToString(b), Admin: admin}
	admin.MustExec("CREATE DATABASE " + d.Name)
	tb.Cleanup(func() { admin.Exec("DROP DATABASE " + d.Name); admin.Close() })
	for _, q := range postfixAdminSchema {
		admin.MustExec(strings.Replace(q, "CREATE TABLE ", "CREATE TABLE "+d.Name+".", 1))
	}
	return d
}

func (d *DB) seed(tb testing.TB) {
	d.Admin.MustExec("INSERT INTO " + d.Name + ".domain (domain, active) VALUES ('example.org', 1), ('dead.example', 0)")
	d.Accounts = append([]Account(nil), Accounts...)
	for i := range d.Accounts {
		a := &d.Accounts[i]
		stored, err := passwd.Generate("SHA512-CRYPT", a.Password, "", passwd.GenOptions{})
		if a.User == "alice@example.org" {
			stored, err = passwd.Generate("MD5-CRYPT", a.Password, "", passwd.GenOptions{})
			stored = strings.TrimPrefix(stored, "{MD5-CRYPT}")
		}
		if err != nil {
			tb.Fatal(err)
		}
		a.Stored = stored
		local, dom, _ := strings.Cut(a.User, "@")
		d.Admin.MustExec("INSERT INTO "+d.Name+".mailbox (username, password, maildir, quota, local_part, domain, active) "+
			"VALUES (?, ?, ?, 1024000, ?, ?, ?)", a.User, stored, dom+"/"+local+"/", local, dom, a.Active)
	}
}

// SQLConf renders a dovecot-sql.conf.ext for this database reached at addr
// (host:port, e.g. a Proxy).
func (d *DB) SQLConf(addr string) string {
	host, port, _ := net.SplitHostPort(addr)
	return "driver = mysql\n" +
		"connect = host=" + host + " port=" + port + " dbname=" + d.Name + " user=root\n" +
		"default_pass_scheme = MD5-CRYPT\n" +
		"password_query = " + PasswordQuery + "\n" +
		"user_query = " + UserQuery + "\n" +
		"iterate_query = SELECT username AS user FROM mailbox WHERE active = '1'\n"
}

// Proxy forwards a loopback port to a target until Stop, which also cuts
// every open connection.
type Proxy struct {
	l       net.Listener
	mu      sync.Mutex
	conns   []net.Conn
	stalled bool
}

// NewProxy starts a proxy to target; it stops at test cleanup.
func NewProxy(tb testing.TB, target string) *Proxy {
	tb.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatal(err)
	}
	p := &Proxy{l: l}
	go p.accept(target)
	tb.Cleanup(p.Stop)
	return p
}

func (p *Proxy) accept(target string) {
	for {
		c, err := p.l.Accept()
		if err != nil {
			return
		}
		p.mu.Lock()
		stalled := p.stalled
		if stalled {
			p.conns = append(p.conns, c) // accepted, never answered
		}
		p.mu.Unlock()
		if stalled {
			continue
		}
		u, err := net.Dial("tcp", target)
		if err != nil {
			c.Close()
			continue
		}
		p.mu.Lock()
		p.conns = append(p.conns, c, u)
		p.mu.Unlock()
		go func() { io.Copy(u, c); u.Close() }()
		go func() { io.Copy(c, u); c.Close() }()
	}
}

// Addr is the proxy's listening address.
func (p *Proxy) Addr() string { return p.l.Addr().String() }

// Stall makes the database slow instead of down: open connections are cut
// and new ones are accepted but never answered, so clients hit their
// timeouts.
func (p *Proxy) Stall() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.stalled = true
	for _, c := range p.conns {
		c.Close()
	}
	p.conns = nil
}

// Stop closes the listener and all proxied connections.
func (p *Proxy) Stop() {
	p.l.Close()
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, c := range p.conns {
		c.Close()
	}
	p.conns = nil
}
