package dns

import (
	"context"
	"fmt"
	"sync"
)

// call is one upstream resolution shared by every concurrent caller asking
// the same question.
type call struct {
	done    chan struct{}
	ans     answer
	err     error
	waiters int
	cancel  context.CancelFunc
}

// flights de-duplicates identical in-flight resolutions (like
// golang.org/x/sync/singleflight, plus cancellation: the shared query is
// cancelled once every caller waiting on it has given up).
type flights struct {
	mu sync.Mutex
	m  map[cacheKey]*call
}

// do returns the result of fn for k, running fn at most once at a time per
// key. fn runs on its own goroutine with a context detached from any single
// caller; do returns early with ctx.Err() when ctx ends.
func (f *flights) do(ctx context.Context, k cacheKey, fn func(context.Context) (answer, error)) (answer, error) {
	f.mu.Lock()
	if f.m == nil {
		f.m = make(map[cacheKey]*call)
	}
	c, ok := f.m[k]
	if !ok {
		fctx, cancel := context.WithCancel(context.WithoutCancel(ctx))
		c = &call{done: make(chan struct{}), cancel: cancel}
		f.m[k] = c
		go f.run(fctx, k, c, fn)
	}
	c.waiters++
	f.mu.Unlock()

	select {
	case <-c.done:
		return c.ans, c.err
	case <-ctx.Done():
		f.leave(k, c)
		return answer{}, ctx.Err()
	}
}

func (f *flights) run(ctx context.Context, k cacheKey, c *call, fn func(context.Context) (answer, error)) {
	defer func() {
		// A panic here would kill the daemon: turn it into a temporary failure.
		if p := recover(); p != nil {
			c.ans, c.err = answer{}, fmt.Errorf("panic in resolver: %v", p)
		}
		f.mu.Lock()
		if f.m[k] == c {
			delete(f.m, k)
		}
		f.mu.Unlock()
		c.cancel()
		close(c.done)
	}()
	c.ans, c.err = fn(ctx)
}

// leave drops one waiter from c and cancels c when nobody waits any more.
func (f *flights) leave(k cacheKey, c *call) {
	f.mu.Lock()
	defer f.mu.Unlock()
	c.waiters--
	if c.waiters > 0 {
		return
	}
	c.cancel()
	if f.m[k] == c {
		delete(f.m, k) // a new caller must not join a cancelled query
	}
}
