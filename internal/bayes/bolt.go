package bayes

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"time"

	bolt "go.etcd.io/bbolt"
)

// BoltStore is a Store in one bbolt file: the default for a single host.
// Each user has a bucket "u/<user>" holding the token counts ("t": 5-byte
// hash -> spam count, ham count and last-learned time, big-endian uint32s),
// the learned message ids ("s": id -> 's' or 'h') and the class totals
// ("m"). It implements Expirer.
type BoltStore struct {
	db    *bolt.DB
	cache tokenCache
}

// BoltOptions tune OpenBolt.
type BoltOptions struct {
	// Timeout waits this long for the file lock another process holds
	// (default 5s).
	Timeout time.Duration
	// NoSync skips fsync per transaction: much faster bulk learning, at the
	// risk of losing the last updates on a crash. Call Sync at the end.
	NoSync bool
	// ReadOnly opens the file for scoring only.
	ReadOnly bool
}

var (
	bktTokens = []byte("t")
	bktSeen   = []byte("s")
	bktMeta   = []byte("m")
	keyNSpam  = []byte("nspam")
	keyNHam   = []byte("nham")
)

// OpenBolt opens or creates the database file at path (mode 0600).
func OpenBolt(path string, opts BoltOptions) (*BoltStore, error) {
	if opts.Timeout == 0 {
		opts.Timeout = 5 * time.Second
	}
	db, err := bolt.Open(path, 0o600, &bolt.Options{Timeout: opts.Timeout, NoSync: opts.NoSync, ReadOnly: opts.ReadOnly})
	if err != nil {
		return nil, fmt.Errorf("bayes: open %s: %w", path, err)
	}
	return &BoltStore{db: db, cache: tokenCache{max: tokenCacheMax}}, nil
}

func userBucket(user string) []byte { return []byte("u/" + user) }

// Sync flushes the file to disk (needed after learning with NoSync).
func (b *BoltStore) Sync() error { return b.db.Sync() }

// Close implements Store.
func (b *BoltStore) Close() error { return b.db.Close() }

// Totals implements Store.
func (b *BoltStore) Totals(ctx context.Context, user string) (nspam, nham uint64, err error) {
	err = b.db.View(func(tx *bolt.Tx) error {
		ub := tx.Bucket(userBucket(user))
		if ub == nil {
			return nil
		}
		nspam, nham = readTotals(ub.Bucket(bktMeta))
		return nil
	})
	return nspam, nham, err
}

// Tokens implements Store. Counts come from the cache where it has them;
// the file is read only for the rest.
func (b *BoltStore) Tokens(ctx context.Context, user string, toks []Hash) ([]Counts, error) {
	out := make([]Counts, len(toks))
	miss, gen := b.cache.get(user, toks, out)
	if len(miss) == 0 {
		return out, nil
	}
	err := b.db.View(func(tx *bolt.Tx) error {
		ub := tx.Bucket(userBucket(user))
		if ub == nil {
			return nil
		}
		tb := ub.Bucket(bktTokens)
		for _, i := range miss {
			out[i] = decodeCounts(tb.Get(toks[i][:]))
		}
		return nil
	})
	if err == nil {
		b.cache.put(user, gen, toks, out, miss)
	}
	return out, err
}

// Learn implements Store.
func (b *BoltStore) Learn(ctx context.Context, user, msgID string, toks []Hash, spam bool, atime uint32) (learned bool, err error) {
	err = b.db.Update(func(tx *bolt.Tx) error {
		ub, err := ensureUser(tx, user)
		if err != nil {
			return err
		}
		want := classOf(spam)
		old := ub.Bucket(bktSeen).Get([]byte(msgID))
		if len(old) == 1 && old[0] == want {
			return nil
		}
		if len(old) == 1 {
			if err := boltApply(ub, toks, old[0] == classSpam, -1, 0); err != nil {
				return err
			}
		}
		if err := boltApply(ub, toks, spam, +1, orNow(atime)); err != nil {
			return err
		}
		learned = true
		return ub.Bucket(bktSeen).Put([]byte(msgID), []byte{want})
	})
	if learned || err != nil {
		b.cache.drop(user, toks)
	}
	return learned, err
}

// Forget implements Store.
func (b *BoltStore) Forget(ctx context.Context, user, msgID string, toks []Hash) (forgot bool, err error) {
	err = b.db.Update(func(tx *bolt.Tx) error {
		ub := tx.Bucket(userBucket(user))
		if ub == nil {
			return nil
		}
		old := ub.Bucket(bktSeen).Get([]byte(msgID))
		if len(old) != 1 {
			return nil
		}
		if err := boltApply(ub, toks, old[0] == classSpam, -1, 0); err != nil {
			return err
		}
		forgot = true
		return ub.Bucket(bktSeen).Delete([]byte(msgID))
	})
	if forgot || err != nil {
		b.cache.drop(user, toks)
	}
	return forgot, err
}

func ensureUser(tx *bolt.Tx, user string) (*bolt.Bucket, error) {
	ub, err := tx.CreateBucketIfNotExists(userBucket(user))
	if err != nil {
		return nil, err
	}
	for _, name := range [][]byte{bktTokens, bktSeen, bktMeta} {
		if _, err := ub.CreateBucketIfNotExists(name); err != nil {
			return nil, err
		}
	}
	return ub, nil
}

// boltApply adds delta to the class total and to each token's count;
// tokens that drop to zero in both classes are deleted. A non-zero atime
// becomes the tokens' last-learned time.
func boltApply(ub *bolt.Bucket, toks []Hash, spam bool, delta int, atime uint32) error {
	meta, tb := ub.Bucket(bktMeta), ub.Bucket(bktTokens)
	if meta == nil || tb == nil {
		return errors.New("corrupt user bucket")
	}
	key := keyNHam
	if spam {
		key = keyNSpam
	}
	var buf [8]byte
	binary.BigEndian.PutUint64(buf[:], addClamp64(readU64(meta.Get(key)), delta))
	if err := meta.Put(key, buf[:]); err != nil {
		return err
	}
	for _, t := range toks {
		old := tb.Get(t[:])
		c := addCount(decodeCounts(old), spam, delta)
		at := atime
		if at == 0 {
			at = decodeAtime(old)
		}
		var err error
		if c == (Counts{}) {
			err = tb.Delete(t[:])
		} else {
			err = tb.Put(t[:], encodeCounts(c, at))
		}
		if err != nil {
			return err
		}
	}
	return nil
}

func readTotals(meta *bolt.Bucket) (uint64, uint64) {
	if meta == nil {
		return 0, 0
	}
	return readU64(meta.Get(keyNSpam)), readU64(meta.Get(keyNHam))
}

func readU64(b []byte) uint64 {
	if len(b) != 8 {
		return 0
	}
	return binary.BigEndian.Uint64(b)
}

func encodeCounts(c Counts, atime uint32) []byte {
	b := make([]byte, 12)
	binary.BigEndian.PutUint32(b, c.Spam)
	binary.BigEndian.PutUint32(b[4:], c.Ham)
	binary.BigEndian.PutUint32(b[8:], atime)
	return b
}

func decodeCounts(b []byte) Counts {
	if len(b) < 8 {
		return Counts{}
	}
	return Counts{binary.BigEndian.Uint32(b), binary.BigEndian.Uint32(b[4:])}
}

func decodeAtime(b []byte) uint32 {
	if len(b) < 12 {
		return 0
	}
	return binary.BigEndian.Uint32(b[8:])
}

// Expire implements Expirer.
func (b *BoltStore) Expire(ctx context.Context, user string, maxTokens int) (removed int, err error) {
	err = b.db.Update(func(tx *bolt.Tx) error {
		ub := tx.Bucket(userBucket(user))
		if ub == nil || ub.Bucket(bktTokens) == nil {
			return nil
		}
		tb := ub.Bucket(bktTokens)
		all := make([]tokAge, 0, tb.Stats().KeyN)
		tb.ForEach(func(k, v []byte) error {
			var h Hash
			copy(h[:], k)
			all = append(all, tokAge{h, decodeAtime(v)})
			return nil
		})
		victims := expiryVictims(all, maxTokens)
		for _, h := range victims {
			if err := tb.Delete(h[:]); err != nil {
				return err
			}
		}
		removed = len(victims)
		return nil
	})
	b.cache.drop(user, nil)
	return removed, err
}
