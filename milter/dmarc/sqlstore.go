package dmarc

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"regexp"
	"strings"
	"time"
)

// SQLStore keeps report entries in MySQL/MariaDB or PostgreSQL, for
// sites that run several milters against one database. The caller opens
// db with the driver ("mysql" or "postgres") and passes the dialect.
type SQLStore struct {
	db                  *sql.DB
	insert, each, prune *sql.Stmt
}

var tableName = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]{0,62}$`)

// OpenSQL creates the table if needed and prepares the statements.
// dialect is "mysql" or "postgres"; table defaults to dmarc_entries.
func OpenSQL(ctx context.Context, db *sql.DB, dialect, table string) (*SQLStore, error) {
	if table == "" {
		table = "dmarc_entries"
	}
	if !tableName.MatchString(table) {
		return nil, fmt.Errorf("dmarc: bad table name %q", table)
	}
	var create, ph string
	switch dialect {
	case "mysql":
		create = "CREATE TABLE IF NOT EXISTS " + table + " (id BIGINT AUTO_INCREMENT PRIMARY KEY, ts BIGINT NOT NULL, data TEXT NOT NULL, INDEX (ts))"
		ph = "?"
	case "postgres":
		create = "CREATE TABLE IF NOT EXISTS " + table + " (id BIGSERIAL PRIMARY KEY, ts BIGINT NOT NULL, data TEXT NOT NULL)"
		ph = "$"
	default:
		return nil, fmt.Errorf("dmarc: unknown SQL dialect %q", dialect)
	}
	if _, err := db.ExecContext(ctx, create); err != nil {
		return nil, fmt.Errorf("dmarc: create %s: %w", table, err)
	}
	if dialect == "postgres" {
		if _, err := db.ExecContext(ctx, "CREATE INDEX IF NOT EXISTS "+table+"_ts ON "+table+" (ts)"); err != nil {
			return nil, err
		}
	}
	s := &SQLStore{db: db}
	q := func(text string) string { return placeholders(text, ph) }
	var err error
	for _, p := range []struct {
		stmt **sql.Stmt
		text string
	}{
		{&s.insert, "INSERT INTO " + table + " (ts, data) VALUES (?, ?)"},
		{&s.each, "SELECT data FROM " + table + " WHERE ts >= ? AND ts < ? ORDER BY ts, id"},
		{&s.prune, "DELETE FROM " + table + " WHERE ts < ?"},
	} {
		if *p.stmt, err = db.PrepareContext(ctx, q(p.text)); err != nil {
			s.Close()
			return nil, err
		}
	}
	return s, nil
}

// placeholders turns "?" into "$1", "$2"... for PostgreSQL.
func placeholders(q, ph string) string {
	if ph == "?" {
		return q
	}
	var b strings.Builder
	n := 0
	for _, c := range q {
		if c == '?' {
			n++
			fmt.Fprintf(&b, "$%d", n)
			continue
		}
		b.WriteRune(c)
	}
	return b.String()
}

// Add implements Store.
func (s *SQLStore) Add(ctx context.Context, e Entry) error {
	v, err := json.Marshal(e)
	if err != nil {
		return err
	}
	_, err = s.insert.ExecContext(ctx, e.Time.UnixNano(), string(v))
	return err
}

// Each implements Store.
func (s *SQLStore) Each(ctx context.Context, from, to time.Time, fn func(Entry) error) error {
	rows, err := s.each.QueryContext(ctx, from.UnixNano(), to.UnixNano())
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		var v string
		if err := rows.Scan(&v); err != nil {
			return err
		}
		var e Entry
		if json.Unmarshal([]byte(v), &e) != nil {
			continue
		}
		if err := fn(e); err != nil {
			return err
		}
	}
	return rows.Err()
}

// Prune implements Store.
func (s *SQLStore) Prune(ctx context.Context, before time.Time) error {
	_, err := s.prune.ExecContext(ctx, before.UnixNano())
	return err
}

// Close closes the statements; the caller owns db.
func (s *SQLStore) Close() error {
	for _, st := range []*sql.Stmt{s.insert, s.each, s.prune} {
		if st != nil {
			st.Close()
		}
	}
	return nil
}

var _ Store = (*SQLStore)(nil)
