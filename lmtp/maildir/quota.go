package maildir

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"
)

// ParseQuotaRule reads the storage limit of a Dovecot quota_rule value
// ("*:storage=1G", "*:bytes=1024000", "*:storage=100M:messages=1000").
// storage= without a unit is kilobytes and bytes= is bytes, as in
// Dovecot's quota-rule.c. 0 means no limit. Rules for one mailbox only
// (not "*") and relative (+/-/%) values give 0: they need Dovecot's
// global rule to mean anything.
func ParseQuotaRule(rule string) (int64, error) {
	name, rest, ok := strings.Cut(strings.TrimSpace(rule), ":")
	if !ok || name != "*" {
		return 0, nil
	}
	for _, kv := range strings.Split(rest, ":") {
		k, v, _ := strings.Cut(kv, "=")
		mult := int64(1)
		switch strings.ToLower(k) {
		case "storage":
			mult = 1024
		case "bytes":
		default:
			continue
		}
		return parseSize(v, mult)
	}
	return 0, nil
}

func parseSize(v string, mult int64) (int64, error) {
	v = strings.TrimSpace(v)
	if v == "" || strings.ContainsAny(v[:1], "+-") || strings.HasSuffix(v, "%") {
		return 0, nil
	}
	i := 0
	for i < len(v) && v[i] >= '0' && v[i] <= '9' {
		i++
	}
	n, err := strconv.ParseInt(v[:i], 10, 64)
	if err != nil {
		return 0, fmt.Errorf("maildir: bad quota value %q", v)
	}
	switch strings.ToUpper(strings.TrimSpace(v[i:])) {
	case "":
	case "B":
		mult = 1
	case "K", "KB":
		mult = 1 << 10
	case "M", "MB":
		mult = 1 << 20
	case "G", "GB":
		mult = 1 << 30
	case "T", "TB":
		mult = 1 << 40
	default:
		return 0, fmt.Errorf("maildir: bad quota unit in %q", v)
	}
	return n * mult, nil
}

// maxMaildirsize bounds how much of a maildirsize file is read; Maildir++
// writers recalculate it at 5120 bytes.
const maxMaildirsize = 1 << 20

// readMaildirsize sums a Maildir++ maildirsize file: the first line holds
// the limits, every further line "<bytes> <count>" deltas.
func readMaildirsize(path string) (bytes, count int64, err error) {
	f, err := os.Open(path)
	if err != nil {
		return 0, 0, err
	}
	defer f.Close()
	sc := bufio.NewScanner(io.LimitReader(f, maxMaildirsize))
	first := true
	for sc.Scan() {
		if first {
			first = false
			continue
		}
		fs := strings.Fields(sc.Text())
		if len(fs) == 0 {
			continue
		}
		b, err1 := strconv.ParseInt(fs[0], 10, 64)
		var c int64
		var err2 error
		if len(fs) > 1 {
			c, err2 = strconv.ParseInt(fs[1], 10, 64)
		}
		if err1 != nil || err2 != nil {
			return 0, 0, fmt.Errorf("maildir: corrupt maildirsize line %q", sc.Text())
		}
		bytes, count = bytes+b, count+c
	}
	return bytes, count, sc.Err()
}

// walkUsage adds up the messages of INBOX and every folder (both
// layouts: any new/ or cur/ below root), taking S= from file names and
// stat only for names without it.
func walkUsage(root string) (bytes, count int64, err error) {
	err = filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			if errors.Is(err, fs.ErrNotExist) {
				return nil
			}
			return err
		}
		if !d.IsDir() || (d.Name() != "new" && d.Name() != "cur") {
			return nil
		}
		b, c, err := dirUsage(p)
		bytes, count = bytes+b, count+c
		if err != nil {
			return err
		}
		return filepath.SkipDir
	})
	return bytes, count, err
}

func dirUsage(dir string) (bytes, count int64, err error) {
	entries, err := os.ReadDir(dir)
	if errors.Is(err, fs.ErrNotExist) {
		return 0, 0, nil
	}
	if err != nil {
		return 0, 0, err
	}
	for _, e := range entries {
		if !e.Type().IsRegular() {
			continue
		}
		count++
		if s, ok := sizeFromName(e.Name()); ok {
			bytes += s
		} else if info, err := e.Info(); err == nil {
			bytes += info.Size()
		}
	}
	return bytes, count, nil
}

// sizeFromName reads ",S=<n>" from a Maildir file name.
func sizeFromName(name string) (int64, bool) {
	i := strings.Index(name, ",S=")
	if i < 0 {
		return 0, false
	}
	s := name[i+3:]
	end := strings.IndexAny(s, ",:")
	if end >= 0 {
		s = s[:end]
	}
	n, err := strconv.ParseInt(s, 10, 64)
	return n, err == nil
}

// QuotaCache answers "how much does this Maildir hold" without walking
// it for every delivery: maildirsize when present, else a walk whose
// result is kept for TTL and bumped by our own deliveries.
type QuotaCache struct {
	TTL time.Duration // default 1 minute

	mu      sync.Mutex
	entries map[string]*usageEntry
}

type usageEntry struct {
	bytes, count int64
	at           time.Time
}

// maxQuotaEntries bounds the cache; when full it is emptied.
const maxQuotaEntries = 10000

// Usage returns bytes and messages stored under root.
func (q *QuotaCache) Usage(root string) (int64, int64, error) {
	if b, c, err := readMaildirsize(filepath.Join(root, "maildirsize")); err == nil {
		return b, c, nil
	}
	ttl := q.TTL
	if ttl <= 0 {
		ttl = time.Minute
	}
	q.mu.Lock()
	e := q.entries[root]
	if e != nil && time.Since(e.at) < ttl {
		b, c := e.bytes, e.count
		q.mu.Unlock()
		return b, c, nil
	}
	q.mu.Unlock()
	b, c, err := walkUsage(root)
	if err != nil {
		return 0, 0, err
	}
	q.mu.Lock()
	if q.entries == nil || len(q.entries) >= maxQuotaEntries {
		q.entries = map[string]*usageEntry{}
	}
	q.entries[root] = &usageEntry{bytes: b, count: c, at: time.Now()}
	q.mu.Unlock()
	return b, c, nil
}

// Added records a delivery of size bytes: appended to maildirsize when
// the Maildir has one (as Maildir++ deliverers do), and to the cached walk.
func (q *QuotaCache) Added(m *Maildir, size int64) {
	path := filepath.Join(m.Root, "maildirsize")
	if f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND, 0); err == nil {
		fmt.Fprintf(f, "%d 1\n", size)
		f.Close()
	}
	q.mu.Lock()
	defer q.mu.Unlock()
	if e := q.entries[m.Root]; e != nil {
		e.bytes += size
		e.count++
	}
}

// OverQuota applies Dovecot's rule for LDA/LMTP: a message that fits is
// fine; one that does not is still allowed while the user was under the
// limit and stays within the grace (10% of the limit), so that the last
// message brings the user over instead of bouncing.
func OverQuota(used, size, limit int64) bool {
	if limit <= 0 || used+size <= limit {
		return false
	}
	return used >= limit || used+size > limit+limit/10
}
