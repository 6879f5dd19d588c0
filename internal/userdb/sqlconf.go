package userdb

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
)

// SQLConfig is a parsed dovecot-sql.conf.ext.
type SQLConfig struct {
	Driver            string            // mysql | pgsql (sqlite is not supported)
	Connect           map[string]string // host=, port=, dbname=, user=, password=, ...
	Hosts             []string          // every host= (Dovecot round-robins them)
	DefaultPassScheme string            // default "MD5"
	PasswordQuery     string
	UserQuery         string
	IterateQuery      string
}

// known keys of dovecot-sql.conf.ext (Dovecot 2.3 doc "SQL").
var sqlConfKeys = map[string]bool{
	"driver": true, "connect": true, "default_pass_scheme": true, "password_query": true,
	"user_query": true, "iterate_query": true,
	// accepted for compatibility, not used:
	"password_prefetch_query": true, "userdb_warning_disable": true,
}

const maxSQLConfSize = 1 << 20

// LoadSQLConfig reads a dovecot-sql.conf.ext file, following !include and
// !include_try relative to its directory.
func LoadSQLConfig(path string) (*SQLConfig, error) {
	kv := map[string]string{}
	perr := readSQLConf(path, kv, 0, false)
	c, berr := buildSQLConfig(kv, path)
	if err := errors.Join(perr, berr); err != nil {
		return nil, err
	}
	return c, nil
}

// ParseSQLConfig reads dovecot-sql.conf.ext syntax from r (no includes).
func ParseSQLConfig(r io.Reader) (*SQLConfig, error) {
	kv := map[string]string{}
	perr := parseSQLConf(r, "input", kv, nil)
	c, berr := buildSQLConfig(kv, "input")
	if err := errors.Join(perr, berr); err != nil {
		return nil, err
	}
	return c, nil
}

func readSQLConf(path string, kv map[string]string, depth int, try bool) error {
	if depth > 8 {
		return fmt.Errorf("%s: !include nested too deeply", path)
	}
	f, err := os.Open(path)
	if err != nil {
		if try && errors.Is(err, os.ErrNotExist) {
			return nil
		}
		return err
	}
	defer f.Close()
	return parseSQLConf(f, path, kv, func(inc string, try bool) error {
		if !filepath.IsAbs(inc) {
			inc = filepath.Join(filepath.Dir(path), inc)
		}
		return readSQLConf(inc, kv, depth+1, try)
	})
}

// parseSQLConf reads "key = value" lines with '#' comments, backslash line
// continuation and optional double quotes. All errors are collected.
func parseSQLConf(r io.Reader, name string, kv map[string]string, include func(string, bool) error) error {
	sc := bufio.NewScanner(io.LimitReader(r, maxSQLConfSize))
	sc.Buffer(make([]byte, 0, 4096), maxSQLConfSize)
	var errs []error
	var pending string
	start := 0
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimRight(sc.Text(), "\r")
		if pending == "" {
			start = n
		}
		if strings.HasSuffix(line, "\\") {
			pending += strings.TrimSuffix(line, "\\") + " "
			continue
		}
		line, pending = pending+line, ""
		if err := parseSQLConfLine(line, kv, include); err != nil {
			errs = append(errs, fmt.Errorf("%s:%d: %w", name, start, err))
		}
	}
	if err := sc.Err(); err != nil {
		errs = append(errs, fmt.Errorf("%s: %w", name, err))
	}
	return errors.Join(errs...)
}

func parseSQLConfLine(line string, kv map[string]string, include func(string, bool) error) error {
	t := strings.TrimSpace(line)
	if t == "" || strings.HasPrefix(t, "#") {
		return nil
	}
	if d, ok := strings.CutPrefix(t, "!include"); ok {
		try := strings.HasPrefix(d, "_try")
		d = strings.Trim(strings.TrimSpace(strings.TrimPrefix(d, "_try")), `"`)
		if include == nil {
			return fmt.Errorf("!include not allowed here")
		}
		return include(d, try)
	}
	k, v, ok := strings.Cut(t, "=")
	if !ok {
		return fmt.Errorf("expected key = value")
	}
	k, v = strings.TrimSpace(k), strings.TrimSpace(v)
	if !sqlConfKeys[k] {
		return fmt.Errorf("%s: unknown setting", k)
	}
	if len(v) >= 2 && v[0] == '"' && v[len(v)-1] == '"' {
		v = v[1 : len(v)-1]
	}
	kv[k] = strings.Join(strings.Fields(v), " ")
	return nil
}

func buildSQLConfig(kv map[string]string, name string) (*SQLConfig, error) {
	c := &SQLConfig{Driver: kv["driver"], DefaultPassScheme: kv["default_pass_scheme"],
		PasswordQuery: kv["password_query"], UserQuery: kv["user_query"],
		IterateQuery: kv["iterate_query"], Connect: map[string]string{}}
	if c.DefaultPassScheme == "" {
		c.DefaultPassScheme = "MD5"
	}
	var errs []error
	if c.Driver != "mysql" && c.Driver != "pgsql" {
		errs = append(errs, fmt.Errorf("%s: driver: want mysql or pgsql, got %q", name, c.Driver))
	}
	for _, kvp := range splitConnect(kv["connect"]) {
		k, v, _ := strings.Cut(kvp, "=")
		if k == "host" {
			c.Hosts = append(c.Hosts, v)
		}
		c.Connect[k] = v
	}
	if c.PasswordQuery == "" && c.UserQuery == "" {
		errs = append(errs, fmt.Errorf("%s: neither password_query nor user_query set", name))
	}
	return c, errors.Join(errs...)
}

// splitConnect splits "host=a dbname=b password='x y'" on spaces outside
// quotes.
func splitConnect(s string) []string {
	var out []string
	var cur strings.Builder
	var quote byte
	for i := 0; i < len(s); i++ {
		ch := s[i]
		switch {
		case quote != 0 && ch == quote:
			quote = 0
		case quote == 0 && (ch == '\'' || ch == '"'):
			quote = ch
		case quote == 0 && ch == ' ':
			if cur.Len() > 0 {
				out = append(out, cur.String())
				cur.Reset()
			}
		default:
			cur.WriteByte(ch)
		}
	}
	if cur.Len() > 0 {
		out = append(out, cur.String())
	}
	return out
}
