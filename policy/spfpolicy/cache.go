package spfpolicy

import (
	"net/netip"
	"strings"
	"sync"
	"time"

	"github.com/gomilter/gomilter/policy"
)

// cacheKey identifies one SPF decision within one message (Postfix's
// "instance" attribute is constant for one message on one connection).
type cacheKey struct {
	instance string
	ip       netip.Addr
	helo     string
	sender   string
}

type cacheEntry struct {
	action  policy.Action
	expires time.Time
}

// cache is a bounded map with expiry. When full it first drops expired
// entries, then the whole map: entries only matter for the few seconds a
// message's recipients take, so a rare reset costs one re-evaluation.
type cache struct {
	mu   sync.Mutex
	m    map[cacheKey]cacheEntry
	size int
	ttl  time.Duration
	now  func() time.Time
}

func newCache(size int, ttl time.Duration, now func() time.Time) *cache {
	return &cache{m: make(map[cacheKey]cacheEntry), size: size, ttl: ttl, now: now}
}

// get returns the cached action and whether it was a PREPEND already
// delivered for this instance.
func (c *cache) get(k cacheKey) (policy.Action, bool, bool) {
	if k.instance == "" {
		return "", false, false
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	e, ok := c.m[k]
	if !ok || c.now().After(e.expires) {
		return "", false, false
	}
	return e.action, strings.EqualFold(e.action.Verb(), "prepend"), true
}

func (c *cache) put(k cacheKey, a policy.Action) {
	if k.instance == "" {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	now := c.now()
	if len(c.m) >= c.size {
		for key, e := range c.m {
			if now.After(e.expires) {
				delete(c.m, key)
			}
		}
		if len(c.m) >= c.size {
			clear(c.m)
		}
	}
	c.m[k] = cacheEntry{action: a, expires: now.Add(c.ttl)}
}
