package spam

import (
	"context"
	"crypto/sha1"
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"regexp"
	"sort"
	"strings"
	"time"

	bolt "go.etcd.io/bbolt"
)

// Bayes in the manner of SA's Plugin::Bayes: tokens from the rendered body,
// URIs and selected headers; Robinson's f(w) per token; chi-squared
// (Fisher) combining of the 150 most significant tokens.

const (
	bayesMinLearned   = 200 // bayes_min_spam_num / bayes_min_ham_num
	bayesSignificant  = 150 // N_SIGNIFICANT_TOKENS
	bayesMinStrength  = 0.346
	bayesS            = 0.030
	bayesX            = 0.538
	bayesMaxTokenLen  = 15
	bayesMaxTokens    = 5000 // per message, bounds work on huge mails
	bucketTokens      = "tokens"
	bucketMeta        = "meta"
	bucketSeen        = "seen"
	seenSpam, seenHam = 's', 'h'
)

type bayesStore struct {
	db         *bolt.DB
	minLearned uint32 // messages of each class needed before scoring
}

func openBayes(path string) (*bayesStore, error) {
	db, err := bolt.Open(path, 0o600, &bolt.Options{Timeout: 5 * time.Second})
	if err != nil {
		return nil, fmt.Errorf("spam: bayes db: %w", err)
	}
	err = db.Update(func(tx *bolt.Tx) error {
		for _, b := range []string{bucketTokens, bucketMeta, bucketSeen} {
			if _, err := tx.CreateBucketIfNotExists([]byte(b)); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		db.Close()
		return nil, err
	}
	return &bayesStore{db: db, minLearned: bayesMinLearned}, nil
}

func (b *bayesStore) close() error { return b.db.Close() }

func getCounts(v []byte) (s, h uint32) {
	if len(v) == 8 {
		return binary.BigEndian.Uint32(v), binary.BigEndian.Uint32(v[4:])
	}
	return 0, 0
}

func putCounts(s, h uint32) []byte {
	v := make([]byte, 8)
	binary.BigEndian.PutUint32(v, s)
	binary.BigEndian.PutUint32(v[4:], h)
	return v
}

// totals returns the number of spam and ham messages learned.
func (b *bayesStore) totals() (ns, nh uint32) {
	if b == nil {
		return 0, 0
	}
	b.db.View(func(tx *bolt.Tx) error {
		ns, nh = getCounts(tx.Bucket([]byte(bucketMeta)).Get([]byte("n")))
		return nil
	})
	return ns, nh
}

func (b *bayesStore) ready() bool {
	ns, nh := b.totals()
	return ns >= b.minLearned && nh >= b.minLearned
}

// tokenKey hashes a token to 5 bytes, as SA's stores do.
func tokenKey(t string) []byte {
	h := sha1.Sum([]byte(t))
	return h[:5]
}

// learn adds (or, when the message was learned as the other class,
// moves) one message's tokens. It reports false when already learned.
func (b *bayesStore) learn(id string, toks []string, spam bool) (bool, error) {
	want := byte(seenHam)
	if spam {
		want = seenSpam
	}
	learned := false
	err := b.db.Update(func(tx *bolt.Tx) error {
		seen := tx.Bucket([]byte(bucketSeen))
		prev := seen.Get([]byte(id))
		if len(prev) == 1 && prev[0] == want {
			return nil
		}
		if len(prev) == 1 {
			if err := adjust(tx, toks, prev[0] == seenSpam, -1); err != nil {
				return err
			}
		}
		if err := adjust(tx, toks, spam, 1); err != nil {
			return err
		}
		learned = true
		return seen.Put([]byte(id), []byte{want})
	})
	return learned, err
}

func adjust(tx *bolt.Tx, toks []string, spam bool, delta int64) error {
	tb, mb := tx.Bucket([]byte(bucketTokens)), tx.Bucket([]byte(bucketMeta))
	add := func(v uint32) uint32 { return uint32(max(0, int64(v)+delta)) }
	for _, t := range toks {
		k := tokenKey(t)
		s, h := getCounts(tb.Get(k))
		if spam {
			s = add(s)
		} else {
			h = add(h)
		}
		if err := tb.Put(k, putCounts(s, h)); err != nil {
			return err
		}
	}
	ns, nh := getCounts(mb.Get([]byte("n")))
	if spam {
		ns = add(ns)
	} else {
		nh = add(nh)
	}
	return mb.Put([]byte("n"), putCounts(ns, nh))
}

// probability combines the message's token probabilities.
func (b *bayesStore) probability(toks []string) (float64, bool) {
	var probs []float64
	var ns, nh uint32
	b.db.View(func(tx *bolt.Tx) error {
		ns, nh = getCounts(tx.Bucket([]byte(bucketMeta)).Get([]byte("n")))
		tb := tx.Bucket([]byte(bucketTokens))
		for _, t := range toks {
			s, h := getCounts(tb.Get(tokenKey(t)))
			if s+h == 0 || ns == 0 || nh == 0 {
				continue
			}
			p := float64(s) * float64(nh) / (float64(h)*float64(ns) + float64(s)*float64(nh))
			n := float64(s + h)
			p = (bayesS*bayesX + n*p) / (bayesS + n)
			if math.Abs(p-0.5) >= bayesMinStrength {
				probs = append(probs, p)
			}
		}
		return nil
	})
	if len(probs) == 0 || ns < b.minLearned || nh < b.minLearned {
		return 0.5, false
	}
	sort.Slice(probs, func(i, j int) bool { return math.Abs(probs[i]-0.5) > math.Abs(probs[j]-0.5) })
	if len(probs) > bayesSignificant {
		probs = probs[:bayesSignificant]
	}
	return chiCombine(float64(ns), float64(nh), probs), true
}

// chiCombine is Fisher's method as in SA's Bayes::CombineChi, with the
// learned spam/ham ratio as prior.
func chiCombine(ns, nh float64, probs []float64) float64 {
	lnS, lnH := math.Log(ns/(ns+nh)), math.Log(nh/(ns+nh))
	for _, p := range probs {
		lnS += math.Log(1 - p)
		lnH += math.Log(p)
	}
	s := 1 - chi2q(-2*lnS, len(probs))
	h := 1 - chi2q(-2*lnH, len(probs))
	return ((s - h) + 1) / 2
}

func chi2q(x2 float64, halfv int) float64 {
	m := x2 / 2
	term := math.Exp(-m)
	sum := term
	for i := 1; i < halfv; i++ {
		term *= m / float64(i)
		sum += term
	}
	return math.Min(sum, 1)
}

var (
	bayesWord = regexp.MustCompile(`[^\s\x00-\x1f"'()\[\]{}<>,;:!?*=/\\|]+`)
	// bayesSkipHdr are headers whose words say nothing about the class
	// (or only about our own site), like SA's bayes_ignore_header set.
	bayesSkipHdr = setOf(`received date delivered-to x-original-to x-spam-relays-trusted
		content-length lines status x-status x-uid x-keywords x-imap x-mozilla-status
		x-mozilla-status2 x-virus-scanned x-virus-status`)
	bayesTrim  = ".-_"
	uriHostTok = regexp.MustCompile(`(?i)^[a-z][a-z0-9+.-]*://([^/?#:@]+)`)
)

// bayesTokens lists a message's distinct tokens.
func (m *msgState) bayesTokens() []string {
	m.render()
	seen := map[string]bool{}
	var out []string
	add := func(t string) {
		if !seen[t] && len(out) < bayesMaxTokens {
			seen[t] = true
			out = append(out, t)
		}
	}
	word := func(prefix, w string) {
		w = strings.Trim(w, bayesTrim)
		if len(w) < 3 {
			return
		}
		if len(w) > bayesMaxTokenLen {
			add(prefix + "sk:" + strings.ToLower(w[:7]))
			return
		}
		if strings.ToUpper(w) != w {
			w = strings.ToLower(w)
		}
		add(prefix + w)
	}
	for _, ln := range m.bodyLines[1:] {
		for _, w := range bayesWord.FindAllString(ln, -1) {
			word("", w)
		}
	}
	for _, h := range m.hdrs {
		if bayesSkipHdr[strings.ToLower(h.name)] || strings.HasPrefix(strings.ToLower(h.name), "x-spam-") {
			continue
		}
		for _, w := range bayesWord.FindAllString(latin1s(h.dec), -1) {
			word("H"+strings.ToLower(h.name)+":", w)
		}
	}
	for _, u := range m.uriList() {
		if mm := uriHostTok.FindStringSubmatch(u); mm != nil {
			add("U:" + strings.ToLower(mm[1]))
		}
	}
	for _, r := range m.relayInfo().untrusted {
		add("H*r:ip*" + r.ip)
		if r.rdns == "" {
			add("H*r:rdns-none")
		}
	}
	return out
}

// messageID keys the "seen" bucket: Message-Id plus a body digest, so a
// re-learned message is recognised.
func (m *msgState) learnID() string {
	mid, _ := m.lastHeader("Message-Id")
	_, body := splitHeaderBody(m.full)
	h := sha1.Sum(body)
	return fmt.Sprintf("%s\x00%x", mid, h[:8])
}

// ErrNoBayes is returned by Learn when the engine has no Bayes database.
var ErrNoBayes = errors.New("spam: Bayes is not enabled (Options.BayesPath, use_bayes)")

// Learn trains the Bayes database with one raw message as spam or ham
// (sa-learn --spam/--ham). It reports whether the database changed.
func (e *Engine) Learn(ctx context.Context, raw []byte, spam bool) (bool, error) {
	if e.bayes == nil {
		return false, ErrNoBayes
	}
	if err := ctx.Err(); err != nil {
		return false, err
	}
	m := newMsgState(e, nil, raw)
	m.set = e.sets[0]
	return e.bayes.learn(m.learnID(), m.bayesTokens(), spam)
}

// BayesCounts returns how many spam and ham messages were learned.
func (e *Engine) BayesCounts() (spam, ham int) {
	s, h := e.bayes.totals()
	return int(s), int(h)
}

func (m *msgState) bayesScore() (float64, bool) {
	if m.bayesProb != nil {
		return *m.bayesProb, true
	}
	if m.e.bayes == nil {
		return 0.5, false
	}
	p, ok := m.e.bayes.probability(m.bayesTokens())
	if ok {
		m.bayesProb = &p
	}
	return p, ok
}

func init() {
	regEval("check_bayes", boolEval(func(m *msgState, args []string) bool {
		if len(args) < 2 {
			return false
		}
		p, ok := m.bayesScore()
		if !ok {
			return false
		}
		lo := atof(args[0])
		return (lo == 0 || p > lo) && (args[1] == "undef" || p <= atof(args[1]))
	}))
}
