package bayes

import "sync"

// tokenCacheMax bounds the counts a BoltStore keeps in memory: about
// 10 MiB, and more tokens than SpamAssassin's default database holds
// (bayes_expiry_max_db_size 150000), so that a trained database is read
// from memory after warm-up.
const tokenCacheMax = 300_000

// tokenCache holds token counts read from a bbolt file. bbolt locks its
// file while open, so no other process writes it meanwhile: the counts
// change only through this store's Learn, Forget and Expire, which drop
// what they change. A lookup reading the file while one of those commits
// could still see the old counts; gen tells put that it must not keep
// them.
type tokenCache struct {
	mu    sync.RWMutex
	users map[string]map[uint64]Counts
	n     int
	gen   uint64
	max   int
}

// get fills out with the cached counts of toks and returns the indexes
// it lacks, with the generation to hand to put.
func (c *tokenCache) get(user string, toks []Hash, out []Counts) (miss []int, gen uint64) {
	c.mu.RLock()
	defer c.mu.RUnlock()
	m := c.users[user]
	for i, t := range toks {
		if v, ok := m[cacheKey(t)]; ok {
			out[i] = v
		} else {
			miss = append(miss, i)
		}
	}
	return miss, c.gen
}

// put keeps the counts read for toks[miss], unless a write came between
// the get that returned gen and now. A full cache starts over: tokens in
// use come back at once, and no bookkeeping per entry is needed.
func (c *tokenCache) put(user string, gen uint64, toks []Hash, counts []Counts, miss []int) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if gen != c.gen {
		return
	}
	if c.n+len(miss) > c.max {
		c.users, c.n = nil, 0
	}
	if c.users == nil {
		c.users = map[string]map[uint64]Counts{}
	}
	m := c.users[user]
	if m == nil {
		m = map[uint64]Counts{}
		c.users[user] = m
	}
	for _, i := range miss {
		k := cacheKey(toks[i])
		if _, ok := m[k]; !ok {
			c.n++
		}
		m[k] = counts[i]
	}
}

// drop forgets toks of user (all of the user's tokens when toks is nil)
// after a write.
func (c *tokenCache) drop(user string, toks []Hash) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.gen++
	m := c.users[user]
	if toks == nil {
		c.n -= len(m)
		delete(c.users, user)
		return
	}
	for _, t := range toks {
		if _, ok := m[cacheKey(t)]; ok {
			delete(m, cacheKey(t))
			c.n--
		}
	}
}

// cacheKey is h as an integer: maps look those up faster than arrays.
func cacheKey(h Hash) uint64 {
	return uint64(h[0]) | uint64(h[1])<<8 | uint64(h[2])<<16 | uint64(h[3])<<24 | uint64(h[4])<<32
}
