package lmtp

import (
	"context"
	"encoding/binary"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	bolt "go.etcd.io/bbolt"
)

// ResponseStore remembers, per key, until when an auto-response or a
// duplicate-test ID stays "seen": Pigeonhole's vacation and duplicate
// tracking (RFC 5230 :days, RFC 7352).
type ResponseStore interface {
	// Seen reports whether key was marked and has not expired.
	Seen(ctx context.Context, key string) (bool, error)
	// Mark records key for period.
	Mark(ctx context.Context, key string, period time.Duration) error
}

// MemoryStore is a ResponseStore in memory (tests, or no state dir).
type MemoryStore struct {
	mu sync.Mutex
	m  map[string]time.Time
}

// NewMemoryStore returns an empty MemoryStore.
func NewMemoryStore() *MemoryStore { return &MemoryStore{m: map[string]time.Time{}} }

// Seen implements ResponseStore.
func (s *MemoryStore) Seen(_ context.Context, key string) (bool, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return time.Now().Before(s.m[key]), nil
}

// Mark implements ResponseStore.
func (s *MemoryStore) Mark(_ context.Context, key string, period time.Duration) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.m) > 100000 {
		now := time.Now()
		for k, v := range s.m {
			if now.After(v) {
				delete(s.m, k)
			}
		}
	}
	s.m[key] = time.Now().Add(period)
	return nil
}

// BoltStore is a ResponseStore in a bbolt file (state_dir/lmtp.db).
type BoltStore struct {
	db    *bolt.DB
	marks atomic.Uint64
}

var bucketResponses = []byte("responses")

// OpenStore opens (creating) the bbolt file at path.
func OpenStore(path string) (*BoltStore, error) {
	db, err := bolt.Open(path, 0o600, &bolt.Options{Timeout: 5 * time.Second})
	if err != nil {
		return nil, fmt.Errorf("lmtp: response store: %w", err)
	}
	err = db.Update(func(tx *bolt.Tx) error {
		_, err := tx.CreateBucketIfNotExists(bucketResponses)
		return err
	})
	if err != nil {
		db.Close()
		return nil, err
	}
	return &BoltStore{db: db}, nil
}

// Close closes the file.
func (s *BoltStore) Close() error { return s.db.Close() }

// Seen implements ResponseStore.
func (s *BoltStore) Seen(_ context.Context, key string) (bool, error) {
	var seen bool
	err := s.db.View(func(tx *bolt.Tx) error {
		v := tx.Bucket(bucketResponses).Get([]byte(key))
		if len(v) == 8 {
			seen = time.Now().Unix() < int64(binary.BigEndian.Uint64(v))
		}
		return nil
	})
	return seen, err
}

// Mark implements ResponseStore; expired keys are pruned now and then.
func (s *BoltStore) Mark(_ context.Context, key string, period time.Duration) error {
	until := make([]byte, 8)
	binary.BigEndian.PutUint64(until, uint64(time.Now().Add(period).Unix()))
	return s.db.Update(func(tx *bolt.Tx) error {
		b := tx.Bucket(bucketResponses)
		if s.marks.Add(1)%1000 == 0 {
			pruneExpired(b)
		}
		return b.Put([]byte(key), until)
	})
}

func pruneExpired(b *bolt.Bucket) {
	now := time.Now().Unix()
	var old [][]byte
	b.ForEach(func(k, v []byte) error {
		if len(v) != 8 || int64(binary.BigEndian.Uint64(v)) <= now {
			old = append(old, append([]byte(nil), k...))
		}
		return nil
	})
	for _, k := range old {
		b.Delete(k)
	}
}
