package dns

import (
	"container/list"
	"sync"
	"time"

	mdns "github.com/miekg/dns"
)

// TTL bounds for cached answers.
const (
	maxPositiveTTL = time.Hour       // long TTLs would hide record changes
	maxNegativeTTL = 5 * time.Minute // RFC 2308 section 5 suggests 1-3 h; mail wants fresh
)

type cacheKey struct {
	name  string // canonical FQDN
	qtype uint16
}

// answer is the outcome of one resolution: records of the queried type at
// the end of the CNAME chain, or a permanent negative class. Temporary
// failures are never stored.
type answer struct {
	rrs  []mdns.RR
	kind error // nil, ErrNotFound or ErrNoData
	ttl  time.Duration
}

type cacheEntry struct {
	key     cacheKey
	ans     answer
	expires time.Time
}

// cache is a bounded LRU of answers, safe for concurrent use.
type cache struct {
	mu    sync.Mutex
	max   int
	ll    *list.List // front = most recently used
	items map[cacheKey]*list.Element
}

func newCache(size int) *cache {
	if size <= 0 {
		return nil
	}
	return &cache{max: size, ll: list.New(), items: make(map[cacheKey]*list.Element)}
}

// get returns the answer for k if present and not expired at now.
func (c *cache) get(k cacheKey, now time.Time) (answer, bool) {
	if c == nil {
		return answer{}, false
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	el, ok := c.items[k]
	if !ok {
		return answer{}, false
	}
	e := el.Value.(*cacheEntry)
	if !now.Before(e.expires) {
		c.ll.Remove(el)
		delete(c.items, k)
		return answer{}, false
	}
	c.ll.MoveToFront(el)
	return e.ans, true
}

// put stores a for k until now+a.ttl, evicting the least recently used
// entry when full. A zero TTL is not stored.
func (c *cache) put(k cacheKey, a answer, now time.Time) {
	if c == nil || a.ttl <= 0 {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	e := &cacheEntry{key: k, ans: a, expires: now.Add(a.ttl)}
	if el, ok := c.items[k]; ok {
		el.Value = e
		c.ll.MoveToFront(el)
		return
	}
	c.items[k] = c.ll.PushFront(e)
	for c.ll.Len() > c.max {
		last := c.ll.Back()
		c.ll.Remove(last)
		delete(c.items, last.Value.(*cacheEntry).key)
	}
}

// flush empties the cache (e.g. after a configuration reload).
func (c *cache) flush() {
	if c == nil {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	c.ll.Init()
	clear(c.items)
}
