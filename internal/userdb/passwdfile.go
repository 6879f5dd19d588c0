package userdb

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/gomilter/gomilter/internal/passwd"
)

// PasswdFileDefaultScheme is Dovecot's default_pass_scheme for passwd-file.
const PasswdFileDefaultScheme = "CRYPT"

// maxPasswdFileSize bounds how much of a passwd-file is read.
const maxPasswdFileSize = 64 << 20

// passwdEntry is one line of a Dovecot passwd-file:
// user:password:uid:gid:(gecos):home:(shell):extra_fields
type passwdEntry struct {
	user     string
	password string
	userdb   map[string]string // uid, gid, home + userdb_* extras
	passdb   map[string]string // other extra fields (nologin, nodelay...)
}

// ParsePasswdFile reads a passwd-file. Errors name the line; blank lines and
// '#' comments are skipped. Later duplicates of a user are ignored, as in
// Dovecot.
func ParsePasswdFile(r io.Reader) (map[string]*passwdEntry, error) {
	users := map[string]*passwdEntry{}
	sc := bufio.NewScanner(io.LimitReader(r, maxPasswdFileSize))
	sc.Buffer(make([]byte, 0, 4096), 1<<20)
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimRight(sc.Text(), "\r")
		if strings.TrimSpace(line) == "" || strings.HasPrefix(line, "#") {
			continue
		}
		e, err := parsePasswdLine(line)
		if err != nil {
			return nil, fmt.Errorf("line %d: %w", n, err)
		}
		if _, dup := users[e.user]; !dup {
			users[e.user] = e
		}
	}
	return users, sc.Err()
}

func parsePasswdLine(line string) (*passwdEntry, error) {
	f := strings.SplitN(line, ":", 8)
	if f[0] == "" {
		return nil, fmt.Errorf("empty user name")
	}
	e := &passwdEntry{user: f[0], userdb: map[string]string{}, passdb: map[string]string{}}
	get := func(i int) string {
		if i < len(f) {
			return f[i]
		}
		return ""
	}
	e.password = get(1)
	for i, k := range []string{2: "uid", 3: "gid", 5: "home"} {
		if k != "" && get(i) != "" {
			e.userdb[k] = get(i)
		}
	}
	for _, kv := range strings.Fields(get(7)) {
		k, v, _ := strings.Cut(kv, "=")
		if uk, ok := strings.CutPrefix(k, "userdb_"); ok {
			e.userdb[uk] = v
		} else {
			e.passdb[k] = v
		}
	}
	return e, nil
}

// PasswdFile is a Dovecot passwd-file used as passdb and userdb. It reloads
// the file when its modification time or size changes (checked at most once
// a second), keeping the old contents if the new file does not parse.
type PasswdFile struct {
	path          string
	defaultScheme string
	mu            sync.RWMutex
	users         map[string]*passwdEntry
	mtime         time.Time
	size          int64
	checked       time.Time
}

// OpenPasswdFile loads path. defaultScheme applies to passwords without a
// "{SCHEME}" prefix (empty = CRYPT, Dovecot's default for passwd-file).
func OpenPasswdFile(path, defaultScheme string) (*PasswdFile, error) {
	if defaultScheme == "" {
		defaultScheme = PasswdFileDefaultScheme
	}
	if !passwd.Known(defaultScheme) {
		return nil, fmt.Errorf("userdb: unknown default scheme %q", defaultScheme)
	}
	p := &PasswdFile{path: path, defaultScheme: defaultScheme}
	if err := p.load(); err != nil {
		return nil, err
	}
	return p, nil
}

func (p *PasswdFile) load() error {
	b, err := os.ReadFile(p.path)
	if err != nil {
		return err
	}
	st, err := os.Stat(p.path)
	if err != nil {
		return err
	}
	users, err := ParsePasswdFile(bytes.NewReader(b))
	if err != nil {
		return fmt.Errorf("%s: %w", p.path, err)
	}
	p.mu.Lock()
	p.users, p.mtime, p.size, p.checked = users, st.ModTime(), st.Size(), time.Now()
	p.mu.Unlock()
	return nil
}

// refresh reloads the file if it changed; errors keep the old data.
func (p *PasswdFile) refresh() {
	p.mu.RLock()
	fresh := time.Since(p.checked) < time.Second
	p.mu.RUnlock()
	if fresh {
		return
	}
	st, err := os.Stat(p.path)
	p.mu.Lock()
	p.checked = time.Now()
	changed := err == nil && (!st.ModTime().Equal(p.mtime) || st.Size() != p.size)
	p.mu.Unlock()
	if changed {
		_ = p.load()
	}
}

func (p *PasswdFile) entry(user string) (*passwdEntry, bool) {
	p.refresh()
	p.mu.RLock()
	defer p.mu.RUnlock()
	e, ok := p.users[user]
	return e, ok
}

// Lookup implements PassDB.
func (p *PasswdFile) Lookup(_ context.Context, user string, _ RequestInfo) (Credentials, error) {
	e, ok := p.entry(user)
	if !ok {
		return Credentials{}, ErrNotFound
	}
	c := Credentials{User: e.user, Password: e.password, DefaultScheme: p.defaultScheme,
		Fields: e.passdb}
	if _, ok := e.passdb["nopassword"]; ok {
		c.NoPassword = true
	}
	return c, nil
}

// LookupUser implements UserDB.
func (p *PasswdFile) LookupUser(_ context.Context, user string, _ RequestInfo) (User, error) {
	e, ok := p.entry(user)
	if !ok {
		return User{}, ErrNotFound
	}
	return User{User: e.user, Fields: e.userdb}, nil
}

// Iterate implements Iterator (sorted by name).
func (p *PasswdFile) Iterate(ctx context.Context, fn func(string) error) error {
	p.refresh()
	p.mu.RLock()
	names := make([]string, 0, len(p.users))
	for u := range p.users {
		names = append(names, u)
	}
	p.mu.RUnlock()
	sort.Strings(names)
	for _, u := range names {
		if err := ctx.Err(); err != nil {
			return err
		}
		if err := fn(u); err != nil {
			return err
		}
	}
	return nil
}

// Schemes implements SchemeLister: the canonical schemes of all entries
// (an unparsable entry is reported as "UNKNOWN").
func (p *PasswdFile) Schemes() []string {
	p.refresh()
	p.mu.RLock()
	defer p.mu.RUnlock()
	set := map[string]bool{}
	for _, e := range p.users {
		h, err := passwd.Parse(e.password, p.defaultScheme)
		if err != nil {
			set["UNKNOWN"] = true
			continue
		}
		set[h.Scheme] = true
	}
	out := make([]string, 0, len(set))
	for s := range set {
		out = append(out, s)
	}
	sort.Strings(out)
	return out
}
