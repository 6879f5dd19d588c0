package sieve

import (
	"fmt"
	"os"
	"sync"
	"time"
)

// Cache compiles scripts from files once and reuses them until the file's
// size or modification time changes. It is safe for concurrent use.
type Cache struct {
	opts Options
	max  int

	mu      sync.Mutex
	entries map[string]*cacheEntry
}

type cacheEntry struct {
	mtime  time.Time
	size   int64
	script *Script
	err    error
}

// NewCache returns a cache compiling with opts; max bounds the number of
// scripts kept (default 1024); beyond it an arbitrary entry is dropped.
func NewCache(opts Options, max int) *Cache {
	if max <= 0 {
		max = 1024
	}
	return &Cache{opts: opts, max: max, entries: map[string]*cacheEntry{}}
}

// Load returns the compiled script at path, compiling it if the file is
// new or changed. Compile errors are cached too, so a broken script is not
// recompiled for every message.
func (c *Cache) Load(path string) (*Script, error) {
	st, err := os.Stat(path)
	if err != nil {
		return nil, err
	}
	c.mu.Lock()
	e := c.entries[path]
	c.mu.Unlock()
	if e != nil && e.mtime.Equal(st.ModTime()) && e.size == st.Size() {
		return e.script, e.err
	}
	if st.Size() > int64(c.opts.withDefaults().MaxScriptSize) {
		return nil, fmt.Errorf("sieve: %s: script too large (%d bytes)", path, st.Size())
	}
	src, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	o := c.opts
	if o.Name == "" {
		o.Name = path
	}
	s, cerr := Compile(src, o)
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.entries) >= c.max {
		for k := range c.entries {
			delete(c.entries, k)
			break
		}
	}
	c.entries[path] = &cacheEntry{mtime: st.ModTime(), size: st.Size(), script: s, err: cerr}
	return s, cerr
}

// DirResolver resolves includes from two directories: :personal scripts
// from Personal, :global ones from Global, as "<dir>/<name>.sieve"
// (Pigeonhole's file: script storage).
type DirResolver struct {
	Personal, Global string
}

// Include implements IncludeResolver.
func (d DirResolver) Include(name string, global bool) ([]byte, string, error) {
	dir := d.Personal
	if global {
		dir = d.Global
	}
	if dir == "" || !validScriptName(name) {
		return nil, "", ErrNotFound
	}
	p := dir + string(os.PathSeparator) + name + ".sieve"
	b, err := os.ReadFile(p)
	if os.IsNotExist(err) {
		return nil, "", ErrNotFound
	}
	return b, p, err
}
