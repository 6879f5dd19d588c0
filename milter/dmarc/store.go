package dmarc

import (
	"context"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"net/netip"
	"sync/atomic"
	"time"

	bolt "go.etcd.io/bbolt"
)

// Entry is what we keep of one evaluated message for aggregate reports
// (RFC 9990 section 2.1: enough to recompute the disposition).
type Entry struct {
	Time         time.Time    `json:"t"`
	SourceIP     netip.Addr   `json:"ip"`
	HeaderFrom   string       `json:"hfrom"`
	EnvelopeFrom string       `json:"efrom,omitempty"` // domain
	EnvelopeTo   string       `json:"eto,omitempty"`   // domain
	Published    Published    `json:"pub"`
	Disposition  Policy       `json:"dis"` // what we applied: none, quarantine, reject
	DKIMAligned  bool         `json:"dkim"`
	SPFAligned   bool         `json:"spf"`
	Overrides    []Override   `json:"ovr,omitempty"`
	DKIM         []AuthResult `json:"dkimres,omitempty"`
	SPF          AuthResult   `json:"spfres"`
}

// Published is the policy record as the report shows it.
type Published struct {
	Domain    string    `json:"d"` // where the record was found
	Policy    Policy    `json:"p"`
	SubPolicy Policy    `json:"sp"`
	NPPolicy  Policy    `json:"np,omitempty"`
	DKIM      Alignment `json:"adkim"`
	SPF       Alignment `json:"aspf"`
	Testing   bool      `json:"t,omitempty"`
	FO        string    `json:"fo,omitempty"`
	Discovery string    `json:"disc"` // "treewalk" or "psl"
	RUA       []string  `json:"rua,omitempty"`
}

// Override is a policy override reason (RFC 9990 PolicyOverrideReason).
type Override struct {
	Type    string `json:"type"`
	Comment string `json:"comment,omitempty"`
}

// NewEntry builds the report entry for a message. Messages without a
// policy record are not reported (there is nobody to send them to).
func NewEntry(now time.Time, ip netip.Addr, in In, res Result, d Decision, legacy bool) (Entry, bool) {
	if res.Record == nil || (res.Result != ResultPass && res.Result != ResultFail) {
		return Entry{}, false
	}
	rec := res.Record
	e := Entry{Time: now.UTC(), SourceIP: ip, HeaderFrom: res.FromDomain, EnvelopeFrom: normalize(in.SPF.Domain),
		DKIMAligned: res.DKIMAligned, SPFAligned: res.SPFAligned, DKIM: in.DKIM, SPF: in.SPF,
		Published: Published{Domain: res.PolicyDomain, Policy: rec.Policy, SubPolicy: rec.SubPolicy, DKIM: rec.DKIM,
			SPF: rec.SPF, Testing: rec.Testing, FO: rec.FO, Discovery: "treewalk", RUA: rec.RUA}}
	if rec.HasNP {
		e.Published.NPPolicy = rec.NPPolicy
	}
	if legacy {
		e.Published.Discovery = "psl"
	}
	e.Disposition = [...]Policy{PolicyNone, PolicyQuarantine, PolicyReject}[d.Action]
	if d.Override != "" {
		e.Overrides = []Override{{Type: d.Override, Comment: d.Comment}}
	}
	return e, true
}

// Store keeps report entries. Implementations must be safe for
// concurrent use.
type Store interface {
	Add(ctx context.Context, e Entry) error
	// Each calls fn for every entry with from <= Time < to, oldest first.
	Each(ctx context.Context, from, to time.Time, fn func(Entry) error) error
	// Prune deletes entries older than before.
	Prune(ctx context.Context, before time.Time) error
	Close() error
}

// BoltStore is the default Store: one bbolt file, keys ordered by time.
type BoltStore struct {
	db  *bolt.DB
	seq atomic.Uint64
}

var bucket = []byte("dmarc-entries")

// OpenBolt opens (creating if needed) the store at path, waiting at most
// timeout for the file lock (another gomilter process may hold it).
func OpenBolt(path string, timeout time.Duration) (*BoltStore, error) {
	db, err := bolt.Open(path, 0o600, &bolt.Options{Timeout: timeout})
	if err != nil {
		return nil, fmt.Errorf("dmarc: open report store: %w", err)
	}
	err = db.Update(func(tx *bolt.Tx) error {
		_, err := tx.CreateBucketIfNotExists(bucket)
		return err
	})
	if err != nil {
		db.Close()
		return nil, err
	}
	return &BoltStore{db: db}, nil
}

// key is the big-endian time in ns plus a sequence number, so keys sort
// by time and never collide.
func (s *BoltStore) key(t time.Time) []byte {
	k := make([]byte, 16)
	binary.BigEndian.PutUint64(k, uint64(t.UnixNano()))
	binary.BigEndian.PutUint64(k[8:], s.seq.Add(1))
	return k
}

// Add stores e.
func (s *BoltStore) Add(_ context.Context, e Entry) error {
	v, err := json.Marshal(e)
	if err != nil {
		return err
	}
	return s.db.Update(func(tx *bolt.Tx) error {
		return tx.Bucket(bucket).Put(s.key(e.Time), v)
	})
}

// Each implements Store.
func (s *BoltStore) Each(ctx context.Context, from, to time.Time, fn func(Entry) error) error {
	return s.db.View(func(tx *bolt.Tx) error {
		c := tx.Bucket(bucket).Cursor()
		end := uint64(to.UnixNano())
		for k, v := c.Seek(timePrefix(from)); k != nil && binary.BigEndian.Uint64(k) < end; k, v = c.Next() {
			if err := ctx.Err(); err != nil {
				return err
			}
			var e Entry
			if err := json.Unmarshal(v, &e); err != nil {
				continue // a damaged entry must not stop the report
			}
			if err := fn(e); err != nil {
				return err
			}
		}
		return nil
	})
}

// Prune implements Store.
func (s *BoltStore) Prune(_ context.Context, before time.Time) error {
	end := uint64(before.UnixNano())
	return s.db.Update(func(tx *bolt.Tx) error {
		b := tx.Bucket(bucket)
		var old [][]byte // deleting under a moving cursor skips keys
		c := b.Cursor()
		for k, _ := c.First(); k != nil && binary.BigEndian.Uint64(k) < end; k, _ = c.Next() {
			old = append(old, append([]byte(nil), k...))
		}
		for _, k := range old {
			if err := b.Delete(k); err != nil {
				return err
			}
		}
		return nil
	})
}

// Close implements Store.
func (s *BoltStore) Close() error { return s.db.Close() }

func timePrefix(t time.Time) []byte {
	k := make([]byte, 8)
	if t.UnixNano() > 0 {
		binary.BigEndian.PutUint64(k, uint64(t.UnixNano()))
	}
	return k
}

var _ Store = (*BoltStore)(nil)
