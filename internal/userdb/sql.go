package userdb

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/go-sql-driver/mysql"
	"github.com/jmoiron/sqlx"
	_ "github.com/lib/pq" // PostgreSQL driver, registered as "postgres"
)

// SQLOptions tunes the connection pool and timeouts.
type SQLOptions struct {
	MaxOpenConns    int           // default 10
	MaxIdleConns    int           // default 5
	ConnMaxLifetime time.Duration // default 5m
	// DialTimeout bounds a new connection (default 3s); QueryTimeout bounds
	// each query (default 5s, below Postfix's 10 s auth timeout).
	DialTimeout, QueryTimeout time.Duration
	Logger                    *slog.Logger
}

func (o *SQLOptions) setDefaults() {
	if o.MaxOpenConns <= 0 {
		o.MaxOpenConns = 10
	}
	if o.MaxIdleConns <= 0 {
		o.MaxIdleConns = 5
	}
	if o.ConnMaxLifetime <= 0 {
		o.ConnMaxLifetime = 5 * time.Minute
	}
	if o.DialTimeout <= 0 {
		o.DialTimeout = 3 * time.Second
	}
	if o.QueryTimeout <= 0 {
		o.QueryTimeout = 5 * time.Second
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
}

// SQL is a passdb/userdb over MySQL/MariaDB or PostgreSQL driven by the
// queries of a dovecot-sql.conf.ext.
type SQL struct {
	hosts []*sqlHost
	next  atomic.Uint32
	conf  *SQLConfig
	opts  SQLOptions
	pass  *queryTemplate
	user  *queryTemplate
	iter  *queryTemplate
}

// sqlHost is the pool for one host= of the connect string (Dovecot spreads
// queries over all of them) and its lazily prepared statements.
type sqlHost struct {
	db        *sqlx.DB
	mu        sync.Mutex
	stmts     map[*queryTemplate]*sqlx.Stmt
	downUntil atomic.Int64 // unix nanos; a failed host is skipped until then
}

// hostRetryDelay is how long a failed host is skipped while others exist.
const hostRetryDelay = 5 * time.Second

// OpenSQL connects (lazily: a database that is down at start-up yields
// temporary failures until it is back) and compiles the queries.
func OpenSQL(conf *SQLConfig, opts SQLOptions) (*SQL, error) {
	opts.setDefaults()
	s := &SQL{conf: conf, opts: opts}
	hosts := conf.Hosts
	if len(hosts) == 0 {
		hosts = []string{"localhost"}
	}
	for _, h := range hosts {
		driver, dsn, err := conf.dsn(h, opts)
		if err != nil {
			s.Close()
			return nil, err
		}
		db, err := sqlx.Open(driver, dsn)
		if err != nil {
			s.Close()
			return nil, fmt.Errorf("userdb: %w", err)
		}
		db.SetMaxOpenConns(opts.MaxOpenConns)
		db.SetMaxIdleConns(opts.MaxIdleConns)
		db.SetConnMaxLifetime(opts.ConnMaxLifetime)
		s.hosts = append(s.hosts, &sqlHost{db: db, stmts: map[*queryTemplate]*sqlx.Stmt{}})
	}
	if err := s.compile(); err != nil {
		s.Close()
		return nil, err
	}
	return s, nil
}

func (s *SQL) compile() error {
	ph := func(int) string { return "?" }
	if s.conf.Driver == "pgsql" {
		ph = func(i int) string { return "$" + strconv.Itoa(i) }
	}
	for _, q := range []struct {
		text string
		dst  **queryTemplate
	}{{s.conf.PasswordQuery, &s.pass}, {s.conf.UserQuery, &s.user}, {s.conf.IterateQuery, &s.iter}} {
		if q.text == "" {
			continue
		}
		t, err := compileQuery(q.text, ph)
		if err != nil {
			return fmt.Errorf("userdb: query %q: %w", q.text, err)
		}
		*q.dst = t
	}
	return nil
}

// Close closes the prepared statements and the pools.
func (s *SQL) Close() error {
	for _, h := range s.hosts {
		h.mu.Lock()
		for _, st := range h.stmts {
			st.Close()
		}
		h.mu.Unlock()
		h.db.Close()
	}
	return nil
}

// stmt prepares a query on first use (the database may be down at start).
func (h *sqlHost) stmt(ctx context.Context, t *queryTemplate) (*sqlx.Stmt, error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if st := h.stmts[t]; st != nil {
		return st, nil
	}
	st, err := h.db.PreparexContext(ctx, t.sql)
	if err != nil {
		return nil, err
	}
	h.stmts[t] = st
	return st, nil
}

// dsn builds the driver name and DSN from the connect= settings.
func (c *SQLConfig) dsn(host string, o SQLOptions) (string, string, error) {
	p := c.Connect
	switch c.Driver {
	case "mysql":
		cfg := mysql.NewConfig()
		cfg.User, cfg.Passwd, cfg.DBName = p["user"], p["password"], p["dbname"]
		cfg.Net, cfg.Addr = "tcp", net.JoinHostPort(host, cmpOr(p["port"], "3306"))
		if strings.HasPrefix(host, "/") {
			cfg.Net, cfg.Addr = "unix", host
		}
		cfg.Timeout, cfg.ReadTimeout, cfg.WriteTimeout = o.DialTimeout, o.QueryTimeout, o.QueryTimeout
		cfg.Params = map[string]string{"charset": "utf8mb4"}
		return "mysql", cfg.FormatDSN(), nil
	case "pgsql":
		u := url.URL{Scheme: "postgres", Host: net.JoinHostPort(host, cmpOr(p["port"], "5432")),
			Path: "/" + p["dbname"]}
		if p["user"] != "" {
			u.User = url.UserPassword(p["user"], p["password"])
		}
		q := url.Values{"sslmode": {cmpOr(p["sslmode"], "disable")},
			"connect_timeout": {strconv.Itoa(max(1, int(o.DialTimeout.Seconds())))}}
		if strings.HasPrefix(host, "/") {
			u.Host = ""
			q.Set("host", host)
		}
		u.RawQuery = q.Encode()
		return "postgres", u.String(), nil
	}
	return "", "", fmt.Errorf("userdb: unsupported driver %q", c.Driver)
}

func cmpOr(a, b string) string {
	if a != "" {
		return a
	}
	return b
}

// queryRows runs t for user and returns every row as column->value (NULLs
// left out). Hosts are used round-robin; a host that fails is skipped for
// the next one. Database errors become *TempError.
func (s *SQL) queryRows(ctx context.Context, t *queryTemplate, user string, req RequestInfo, limit int) ([]map[string]string, error) {
	args, err := t.bind(req, user)
	if err != nil {
		return nil, err
	}
	start := int(s.next.Add(1))
	var lastErr error = &TempError{Err: errors.New("no database host available")}
	// First pass skips hosts marked down; the second tries those anyway.
	tried := make([]bool, len(s.hosts))
	for pass := 0; pass < 2; pass++ {
		for k := range s.hosts {
			i := (start + k) % len(s.hosts)
			h := s.hosts[i]
			if tried[i] || (pass == 0 && time.Now().UnixNano() < h.downUntil.Load()) {
				continue
			}
			tried[i] = true
			rows, hostFailed, err := s.queryHost(ctx, h, t, args, limit)
			if !hostFailed || ctx.Err() != nil {
				return rows, err
			}
			h.downUntil.Store(time.Now().Add(hostRetryDelay).UnixNano())
			lastErr = err
		}
	}
	return nil, lastErr
}

// queryHost runs one query on one host; hostFailed reports a connection or
// statement error (worth trying another host), as opposed to a data error.
func (s *SQL) queryHost(ctx context.Context, h *sqlHost, t *queryTemplate, args []any, limit int) (_ []map[string]string, hostFailed bool, _ error) {
	ctx, cancel := context.WithTimeout(ctx, s.opts.QueryTimeout)
	defer cancel()
	st, err := h.stmt(ctx, t)
	if err != nil {
		return nil, true, &TempError{Err: err}
	}
	rows, err := st.QueryxContext(ctx, args...)
	if err != nil {
		return nil, true, &TempError{Err: err}
	}
	defer rows.Close()
	var out []map[string]string
	for rows.Next() {
		if len(out) >= limit {
			return nil, false, &TempError{Err: errors.New("query returned multiple matches")}
		}
		row, err := scanRow(rows)
		if err != nil {
			return nil, true, &TempError{Err: err}
		}
		out = append(out, row)
	}
	if err := rows.Err(); err != nil {
		return nil, true, &TempError{Err: err}
	}
	return out, false, nil
}

func scanRow(rows *sqlx.Rows) (map[string]string, error) {
	cols, err := rows.Columns()
	if err != nil {
		return nil, err
	}
	vals := make([]sql.NullString, len(cols))
	ptrs := make([]any, len(cols))
	for i := range vals {
		ptrs[i] = &vals[i]
	}
	if err := rows.Scan(ptrs...); err != nil {
		return nil, err
	}
	m := make(map[string]string, len(cols))
	for i, c := range cols {
		if vals[i].Valid {
			m[strings.ToLower(c)] = vals[i].String
		}
	}
	return m, nil
}

// Lookup implements PassDB with password_query: exactly one row, else
// ErrNotFound (none) or a temporary error (several, as Dovecot).
func (s *SQL) Lookup(ctx context.Context, user string, req RequestInfo) (Credentials, error) {
	if s.pass == nil {
		return Credentials{}, &TempError{Err: errors.New("no password_query configured")}
	}
	rows, err := s.queryRows(ctx, s.pass, user, req, 1)
	if err != nil {
		return Credentials{}, err
	}
	if len(rows) == 0 {
		return Credentials{}, ErrNotFound
	}
	return credentialsFromRow(rows[0], s.conf.DefaultPassScheme), nil
}

func credentialsFromRow(row map[string]string, scheme string) Credentials {
	c := Credentials{Password: row["password"], DefaultScheme: scheme, Fields: map[string]string{}}
	if v, ok := row["user"]; ok {
		c.User = v
	} else if n, ok := row["username"]; ok {
		c.User = n
		if d := row["domain"]; d != "" && !strings.Contains(n, "@") {
			c.User = n + "@" + d
		}
	}
	if _, ok := row["nopassword"]; ok {
		c.NoPassword = true
	}
	for k, v := range row {
		switch k {
		case "password", "user", "username", "domain", "nopassword":
		default:
			c.Fields[k] = v
		}
	}
	return c
}

// LookupUser implements UserDB with user_query.
func (s *SQL) LookupUser(ctx context.Context, user string, req RequestInfo) (User, error) {
	if s.user == nil {
		return User{}, &TempError{Err: errors.New("no user_query configured")}
	}
	rows, err := s.queryRows(ctx, s.user, user, req, 1)
	if err != nil {
		return User{}, err
	}
	if len(rows) == 0 {
		return User{}, ErrNotFound
	}
	u := User{Fields: map[string]string{}}
	for k, v := range rows[0] {
		if k == "user" {
			u.User = v
			continue
		}
		u.Fields[k] = v
	}
	return u, nil
}

// Iterate implements Iterator with iterate_query (columns user, or
// username + domain).
func (s *SQL) Iterate(ctx context.Context, fn func(string) error) error {
	if s.iter == nil {
		return errors.New("userdb: no iterate_query configured")
	}
	rows, err := s.queryRows(ctx, s.iter, "", RequestInfo{}, 1<<20)
	if err != nil {
		return err
	}
	for _, r := range rows {
		c := credentialsFromRow(r, "")
		if c.User == "" {
			continue
		}
		if err := fn(c.User); err != nil {
			return err
		}
	}
	return nil
}
