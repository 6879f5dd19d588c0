package dovecotauth

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"sync"
	"time"
)

// cacheKey is HMAC-SHA256(random server key, user NUL password NUL stored):
// the cache never holds a password or anything offline-guessable without
// the in-memory key, and a changed stored hash misses automatically.
type cacheKey [sha256.Size]byte

// verifyCache remembers successful password verifications for a TTL.
type verifyCache struct {
	secret []byte
	ttl    time.Duration
	size   int
	mu     sync.Mutex
	m      map[cacheKey]time.Time
}

func newVerifyCache(ttl time.Duration, size int) (*verifyCache, error) {
	secret := make([]byte, 32)
	if _, err := rand.Read(secret); err != nil {
		return nil, err
	}
	return &verifyCache{secret: secret, ttl: ttl, size: size, m: make(map[cacheKey]time.Time)}, nil
}

func (c *verifyCache) key(user, password, stored string) cacheKey {
	m := hmac.New(sha256.New, c.secret)
	m.Write([]byte(user))
	m.Write([]byte{0})
	m.Write([]byte(password))
	m.Write([]byte{0})
	m.Write([]byte(stored))
	var k cacheKey
	m.Sum(k[:0])
	return k
}

func (c *verifyCache) hit(k cacheKey) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	exp, ok := c.m[k]
	if ok && time.Now().After(exp) {
		delete(c.m, k)
		return false
	}
	return ok
}

func (c *verifyCache) add(k cacheKey) {
	now := time.Now()
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.m) >= c.size {
		c.evict(now)
	}
	c.m[k] = now.Add(c.ttl)
}

// evict drops expired entries, or an arbitrary eighth if none expired.
func (c *verifyCache) evict(now time.Time) {
	n := 0
	for k, exp := range c.m {
		if now.After(exp) {
			delete(c.m, k)
			n++
		}
	}
	for k := range c.m {
		if n >= c.size/8+1 {
			return
		}
		delete(c.m, k)
		n++
	}
}
