package userdb

import (
	"context"
	"errors"
	"sync"
	"time"
)

// CacheOptions configures Cache.
type CacheOptions struct {
	// TTL keeps found users (default 1m); NegativeTTL keeps "not found"
	// (default 30s, 0 = use default, negative = do not cache negatives).
	TTL, NegativeTTL time.Duration
	// Size bounds the entries per table (default 10000).
	Size int
}

// Cache wraps a PassDB (and UserDB/Iterator if the inner store has them)
// with positive and negative TTL caching, keyed by user name and service.
// Temporary failures are never cached. Only use it when the queries depend
// on nothing but the user and service (no %r, %w...).
type Cache struct {
	inner PassDB
	opts  CacheOptions
	mu    sync.Mutex
	pass  map[string]cacheEntry[Credentials]
	users map[string]cacheEntry[User]
}

type cacheEntry[T any] struct {
	v       T
	err     error
	expires time.Time
}

// NewCache wraps inner.
func NewCache(inner PassDB, o CacheOptions) *Cache {
	if o.TTL <= 0 {
		o.TTL = time.Minute
	}
	if o.NegativeTTL == 0 {
		o.NegativeTTL = 30 * time.Second
	}
	if o.Size <= 0 {
		o.Size = 10000
	}
	return &Cache{inner: inner, opts: o, pass: map[string]cacheEntry[Credentials]{},
		users: map[string]cacheEntry[User]{}}
}

// Lookup implements PassDB.
func (c *Cache) Lookup(ctx context.Context, user string, req RequestInfo) (Credentials, error) {
	return cached(c, c.pass, req.Service+"\x00"+user, func() (Credentials, error) {
		return c.inner.Lookup(ctx, user, req)
	})
}

// LookupUser implements UserDB when the inner store does.
func (c *Cache) LookupUser(ctx context.Context, user string, req RequestInfo) (User, error) {
	u, ok := c.inner.(UserDB)
	if !ok {
		return User{}, &TempError{Err: errors.New("userdb: store has no user lookup")}
	}
	return cached(c, c.users, req.Service+"\x00"+user, func() (User, error) {
		return u.LookupUser(ctx, user, req)
	})
}

// Iterate passes through (never cached).
func (c *Cache) Iterate(ctx context.Context, fn func(string) error) error {
	it, ok := c.inner.(Iterator)
	if !ok {
		return errors.New("userdb: store cannot iterate")
	}
	return it.Iterate(ctx, fn)
}

// Schemes passes through when the inner store knows its schemes.
func (c *Cache) Schemes() []string {
	if sl, ok := c.inner.(SchemeLister); ok {
		return sl.Schemes()
	}
	return nil
}

// Flush empties the cache (e.g. on SIGHUP or CACHE-FLUSH).
func (c *Cache) Flush() {
	c.mu.Lock()
	defer c.mu.Unlock()
	clear(c.pass)
	clear(c.users)
}

func cached[T any](c *Cache, m map[string]cacheEntry[T], key string, load func() (T, error)) (T, error) {
	now := time.Now()
	c.mu.Lock()
	e, ok := m[key]
	c.mu.Unlock()
	if ok && now.Before(e.expires) {
		return e.v, e.err
	}
	v, err := load()
	ttl := c.opts.TTL
	switch {
	case errors.Is(err, ErrNotFound):
		ttl = c.opts.NegativeTTL
	case err != nil:
		return v, err // temporary: never cached
	}
	if ttl <= 0 {
		return v, err
	}
	c.mu.Lock()
	if len(m) >= c.opts.Size {
		for k, old := range m {
			if now.After(old.expires) || len(m) >= c.opts.Size {
				delete(m, k)
			}
			if len(m) < c.opts.Size*7/8 {
				break
			}
		}
	}
	m[key] = cacheEntry[T]{v: v, err: err, expires: now.Add(ttl)}
	c.mu.Unlock()
	return v, err
}
