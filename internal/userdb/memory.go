package userdb

import (
	"context"
	"sort"
	"sync"

	"github.com/gomilter/gomilter/internal/passwd"
)

// Memory is an in-memory passdb/userdb, the reference store for tests of
// code that consumes PassDB/UserDB (auth, LMTP). It is safe for concurrent
// use.
type Memory struct {
	mu    sync.RWMutex
	pass  map[string]Credentials
	users map[string]User
	fail  error
}

// NewMemory returns an empty store.
func NewMemory() *Memory {
	return &Memory{pass: map[string]Credentials{}, users: map[string]User{}}
}

// Add stores a user with a stored password ("{SCHEME}data") and userdb
// fields (may be nil).
func (m *Memory) Add(user, stored string, fields map[string]string) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.pass[user] = Credentials{User: user, Password: stored}
	m.users[user] = User{User: user, Fields: fields}
}

// Remove deletes a user.
func (m *Memory) Remove(user string) {
	m.mu.Lock()
	defer m.mu.Unlock()
	delete(m.pass, user)
	delete(m.users, user)
}

// SetFailure makes every lookup return err (nil restores normal answers);
// use a *TempError to simulate an outage.
func (m *Memory) SetFailure(err error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.fail = err
}

// Lookup implements PassDB.
func (m *Memory) Lookup(_ context.Context, user string, _ RequestInfo) (Credentials, error) {
	m.mu.RLock()
	defer m.mu.RUnlock()
	if m.fail != nil {
		return Credentials{}, m.fail
	}
	c, ok := m.pass[user]
	if !ok {
		return Credentials{}, ErrNotFound
	}
	return c, nil
}

// LookupUser implements UserDB.
func (m *Memory) LookupUser(_ context.Context, user string, _ RequestInfo) (User, error) {
	m.mu.RLock()
	defer m.mu.RUnlock()
	if m.fail != nil {
		return User{}, m.fail
	}
	u, ok := m.users[user]
	if !ok {
		return User{}, ErrNotFound
	}
	return u, nil
}

// Iterate implements Iterator (sorted).
func (m *Memory) Iterate(ctx context.Context, fn func(string) error) error {
	m.mu.RLock()
	names := make([]string, 0, len(m.pass))
	for u := range m.pass {
		names = append(names, u)
	}
	m.mu.RUnlock()
	sort.Strings(names)
	for _, u := range names {
		if err := fn(u); err != nil {
			return err
		}
	}
	return ctx.Err()
}

// Schemes implements SchemeLister.
func (m *Memory) Schemes() []string {
	m.mu.RLock()
	defer m.mu.RUnlock()
	set := map[string]bool{}
	for _, c := range m.pass {
		if h, err := passwd.Parse(c.Password, c.DefaultScheme); err == nil {
			set[h.Scheme] = true
		} else {
			set["UNKNOWN"] = true
		}
	}
	out := make([]string, 0, len(set))
	for s := range set {
		out = append(out, s)
	}
	sort.Strings(out)
	return out
}

var (
	_ PassDB       = (*Memory)(nil)
	_ UserDB       = (*Memory)(nil)
	_ Iterator     = (*Memory)(nil)
	_ SchemeLister = (*Memory)(nil)
	_ PassDB       = (*PasswdFile)(nil)
	_ UserDB       = (*PasswdFile)(nil)
	_ PassDB       = (*SQL)(nil)
	_ UserDB       = (*SQL)(nil)
	_ Iterator     = (*SQL)(nil)
	_ PassDB       = (*Cache)(nil)
)
