package bayes

import (
	"bytes"
	"context"
	"slices"
	"sync"
	"time"
)

// Store keeps token counts, class totals and the learned-message ids, per
// user ("" is the global database). Implementations must make Learn and
// Forget atomic: a message is either fully counted or not at all.
type Store interface {
	// Totals returns how many spam and ham messages user's database learned.
	Totals(ctx context.Context, user string) (nspam, nham uint64, err error)
	// Tokens returns the counts of toks, in order; unknown tokens are zero.
	Tokens(ctx context.Context, user string, toks []Hash) ([]Counts, error)
	// Learn counts toks as one spam (or ham) message identified by msgID.
	// When msgID was already learned as the same class it does nothing and
	// returns false; when it was learned as the other class its counts move.
	// atime stamps the tokens for expiry: the message's own time (see
	// messageTime), 0 for now.
	Learn(ctx context.Context, user, msgID string, toks []Hash, spam bool, atime uint32) (bool, error)
	// Forget removes a learned message; false when msgID was not learned.
	Forget(ctx context.Context, user, msgID string, toks []Hash) (bool, error)
	// Close releases the store.
	Close() error
}

// Expirer is implemented by stores that can drop old tokens to bound the
// database size, as SpamAssassin's bayes_expiry_max_db_size does.
type Expirer interface {
	// Expire removes the least recently learned tokens of user when there
	// are more than maxTokens, keeping about three quarters of maxTokens.
	Expire(ctx context.Context, user string, maxTokens int) (removed int, err error)
}

// tokAge is a token and when it was last learned.
type tokAge struct {
	tok   Hash
	atime uint32
}

// expiryVictims returns the least recently learned tokens to delete so
// that 3/4 of maxTokens stay, or nothing when there are at most maxTokens.
// Ties in learned time (bulk learning within one second) are broken by
// hash, so the database shrinks even then.
func expiryVictims(all []tokAge, maxTokens int) []Hash {
	if maxTokens <= 0 || len(all) <= maxTokens {
		return nil
	}
	slices.SortFunc(all, func(a, b tokAge) int {
		if a.atime != b.atime {
			return int(int64(a.atime) - int64(b.atime))
		}
		return bytes.Compare(a.tok[:], b.tok[:])
	})
	out := make([]Hash, 0, len(all)-maxTokens*3/4)
	for _, ta := range all[:len(all)-maxTokens*3/4] {
		out = append(out, ta.tok)
	}
	return out
}

func nowUnix() uint32 { return uint32(time.Now().Unix()) }

// orNow is atime, or the current time for 0.
func orNow(atime uint32) uint32 {
	if atime == 0 {
		return nowUnix()
	}
	return atime
}

// seen class markers stored per message id.
const (
	classSpam = 's'
	classHam  = 'h'
)

func classOf(spam bool) byte {
	if spam {
		return classSpam
	}
	return classHam
}

// MemoryStore is a Store in memory, for tests and one-shot tools.
type MemoryStore struct {
	mu    sync.Mutex
	users map[string]*memUser
}

type memUser struct {
	nspam, nham uint64
	toks        map[Hash]Counts
	atime       map[Hash]uint32
	seen        map[string]byte
}

// NewMemoryStore returns an empty in-memory store.
func NewMemoryStore() *MemoryStore { return &MemoryStore{users: map[string]*memUser{}} }

func (m *MemoryStore) user(u string) *memUser {
	x := m.users[u]
	if x == nil {
		x = &memUser{toks: map[Hash]Counts{}, atime: map[Hash]uint32{}, seen: map[string]byte{}}
		m.users[u] = x
	}
	return x
}

// Totals implements Store.
func (m *MemoryStore) Totals(_ context.Context, user string) (uint64, uint64, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	u := m.user(user)
	return u.nspam, u.nham, nil
}

// Tokens implements Store.
func (m *MemoryStore) Tokens(_ context.Context, user string, toks []Hash) ([]Counts, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	u := m.user(user)
	out := make([]Counts, len(toks))
	for i, t := range toks {
		out[i] = u.toks[t]
	}
	return out, nil
}

// Learn implements Store.
func (m *MemoryStore) Learn(_ context.Context, user, msgID string, toks []Hash, spam bool, atime uint32) (bool, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	u := m.user(user)
	want := classOf(spam)
	old, ok := u.seen[msgID]
	if ok && old == want {
		return false, nil
	}
	if ok {
		u.apply(toks, old == classSpam, -1)
	}
	u.apply(toks, spam, +1)
	now := orNow(atime)
	for _, t := range toks {
		u.atime[t] = now
	}
	u.seen[msgID] = want
	return true, nil
}

// Forget implements Store.
func (m *MemoryStore) Forget(_ context.Context, user, msgID string, toks []Hash) (bool, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	u := m.user(user)
	old, ok := u.seen[msgID]
	if !ok {
		return false, nil
	}
	u.apply(toks, old == classSpam, -1)
	delete(u.seen, msgID)
	return true, nil
}

// Close implements Store.
func (m *MemoryStore) Close() error { return nil }

// Expire implements Expirer.
func (m *MemoryStore) Expire(_ context.Context, user string, maxTokens int) (int, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	u := m.user(user)
	all := make([]tokAge, 0, len(u.toks))
	for t := range u.toks {
		all = append(all, tokAge{t, u.atime[t]})
	}
	victims := expiryVictims(all, maxTokens)
	for _, t := range victims {
		delete(u.toks, t)
		delete(u.atime, t)
	}
	return len(victims), nil
}

func (u *memUser) apply(toks []Hash, spam bool, delta int) {
	if spam {
		u.nspam = addClamp64(u.nspam, delta)
	} else {
		u.nham = addClamp64(u.nham, delta)
	}
	for _, t := range toks {
		c := addCount(u.toks[t], spam, delta)
		if c == (Counts{}) {
			delete(u.toks, t)
			delete(u.atime, t)
		} else {
			u.toks[t] = c
		}
	}
}

// addCount adds delta to the spam or ham count, never below zero.
func addCount(c Counts, spam bool, delta int) Counts {
	p := &c.Ham
	if spam {
		p = &c.Spam
	}
	switch {
	case delta < 0 && *p < uint32(-delta):
		*p = 0
	default:
		*p = uint32(int64(*p) + int64(delta))
	}
	return c
}

func addClamp64(v uint64, delta int) uint64 {
	if delta < 0 && v < uint64(-delta) {
		return 0
	}
	return uint64(int64(v) + int64(delta))
}
