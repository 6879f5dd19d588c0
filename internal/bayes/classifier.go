package bayes

import (
	"bytes"
	"context"
	"crypto/sha1"
	"encoding/hex"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/gomilter/gomilter/internal/mailmsg"
	"github.com/prometheus/client_golang/prometheus"
)

// Defaults of SpamAssassin's Bayes configuration.
const (
	DefaultMinSpam       = 200    // bayes_min_spam_num
	DefaultMinHam        = 200    // bayes_min_ham_num
	DefaultAutoLearnHam  = 0.1    // bayes_auto_learn_threshold_nonspam
	DefaultAutoLearnSpam = 12.0   // bayes_auto_learn_threshold_spam
	DefaultMaxTokens     = 150000 // bayes_expiry_max_db_size
)

// Options configure a Classifier. Zero values take the defaults.
type Options struct {
	// Store holds the database (required): OpenBolt, NewRedisStore or
	// NewMemoryStore.
	Store Store
	// MinSpam and MinHam are how many messages of each class must have been
	// learned before Score answers (default 200 each).
	MinSpam, MinHam uint64
	// AutoLearn holds the auto-learn thresholds (see AutoLearn).
	AutoLearn AutoLearnThresholds
	// MaxTokens bounds each database for Expire (default 150000,
	// SpamAssassin's bayes_expiry_max_db_size).
	MaxTokens int
	// IgnoreHeaders are more header fields whose values are not tokenized,
	// beyond the built-in list (SpamAssassin's bayes_ignore_header; see
	// ReadIgnoreHeaders). Changing them changes the tokens: relearn.
	IgnoreHeaders []string
	// Metadata, if set, returns pseudo-header fields tokenized like
	// headers: SpamAssassin adds its relay analysis as
	// x-spam-relays-{trusted,untrusted,internal,external} (lower-case
	// names, values "[ ip=... rdns=... helo=... by=... ident= envfrom= ...
	// ]"), which the rule engine can supply here.
	Metadata func(*mailmsg.Message) []mailmsg.Field
	// Skip, if set, exempts the messages it reports from Bayes: Learn
	// leaves the database alone and Score gives no probability
	// (SpamAssassin's bayes_ignore_from and bayes_ignore_to).
	Skip func(*mailmsg.Message) bool
	// Registerer receives the gomilter_bayes_* metrics; nil registers none.
	Registerer prometheus.Registerer
	// RobinsonS and RobinsonX are Robinson's f(w) constants (defaults
	// DefaultRobinsonS, DefaultRobinsonX; SAConstantsS/X for SpamAssassin's).
	RobinsonS, RobinsonX float64
}

// AutoLearnThresholds decide which scanned messages are learned without a
// human: those scoring below Ham (default 0.1) as ham, those scoring at or
// above Spam (default 12.0) as spam. Scores exclude the Bayes rules, as in
// SpamAssassin's AutoLearnThreshold plugin.
type AutoLearnThresholds struct {
	Ham, Spam float64
	// Disabled turns auto-learning off.
	Disabled bool
}

// Classifier learns and scores messages.
type Classifier struct {
	store   Store
	minSpam uint64
	minHam  uint64
	auto    AutoLearnThresholds
	rs, rx  float64
	maxToks int
	ignore  map[string]bool
	meta    func(*mailmsg.Message) []mailmsg.Field
	skip    func(*mailmsg.Message) bool
	m       *metrics
}

// New returns a classifier over opts.Store.
func New(opts Options) (*Classifier, error) {
	if opts.Store == nil {
		return nil, errors.New("bayes: Options.Store is required")
	}
	c := &Classifier{store: opts.Store, minSpam: opts.MinSpam, minHam: opts.MinHam, auto: opts.AutoLearn}
	var err error
	if c.m, err = newMetrics(opts.Registerer); err != nil {
		return nil, err
	}
	c.meta, c.skip = opts.Metadata, opts.Skip
	c.ignore = make(map[string]bool, len(opts.IgnoreHeaders))
	for _, h := range opts.IgnoreHeaders {
		c.ignore[strings.ToLower(h)] = true
	}
	c.maxToks = opts.MaxTokens
	if c.maxToks == 0 {
		c.maxToks = DefaultMaxTokens
	}
	c.rs, c.rx = opts.RobinsonS, opts.RobinsonX
	if c.rs == 0 && c.rx == 0 {
		c.rs, c.rx = DefaultRobinsonS, DefaultRobinsonX
	}
	if c.rs <= 0 || c.rx <= 0 || c.rx >= 1 {
		return nil, fmt.Errorf("bayes: Robinson s=%g x=%g out of range", c.rs, c.rx)
	}
	if c.minSpam == 0 {
		c.minSpam = DefaultMinSpam
	}
	if c.minHam == 0 {
		c.minHam = DefaultMinHam
	}
	if c.auto.Ham == 0 && c.auto.Spam == 0 {
		c.auto.Ham, c.auto.Spam = DefaultAutoLearnHam, DefaultAutoLearnSpam
	}
	if c.auto.Ham >= c.auto.Spam && !c.auto.Disabled {
		return nil, fmt.Errorf("bayes: auto-learn ham threshold %.2f must be below spam threshold %.2f", c.auto.Ham, c.auto.Spam)
	}
	return c, nil
}

func (c *Classifier) tokenize(msg *mailmsg.Message) map[Hash]string {
	var meta []mailmsg.Field
	if c.meta != nil {
		meta = c.meta(msg)
	}
	return tokenize(msg, c.ignore, meta)
}

// Tokens is a message as the classifier sees it. A filter that scores a
// message and may then auto-learn it tokenizes it once for both.
type Tokens struct {
	msg    *mailmsg.Message
	hashes []Hash
	skip   bool          // Options.Skip exempts the message
	took   time.Duration // tokenizing, counted in the score duration
}

// Tokenize prepares msg for ScoreTokens and LearnTokens. meta stands in
// for Options.Metadata(msg), for a caller that has already analysed the
// message; the result must be the same.
func (c *Classifier) Tokenize(msg *mailmsg.Message, meta []mailmsg.Field) *Tokens {
	if c.skip != nil && c.skip(msg) {
		return &Tokens{msg: msg, skip: true}
	}
	start := time.Now()
	h := hashes(tokenize(msg, c.ignore, meta))
	return &Tokens{msg: msg, hashes: h, took: time.Since(start)}
}

// Hashes returns the message's token hashes, sorted.
func (t *Tokens) Hashes() []Hash {
	out := slices.Clone(t.hashes)
	slices.SortFunc(out, func(a, b Hash) int { return bytes.Compare(a[:], b[:]) })
	return out
}

func (c *Classifier) tokens(msg *mailmsg.Message) *Tokens {
	var meta []mailmsg.Field
	if c.meta != nil && (c.skip == nil || !c.skip(msg)) {
		meta = c.meta(msg)
	}
	return c.Tokenize(msg, meta)
}

// MessageID is the id under which msg is remembered as learned: a hash of
// its Message-ID field and its body, so that the same message delivered
// twice (or learned again by hand) is recognised.
func MessageID(msg *mailmsg.Message) string {
	h := sha1.New()
	mid, _ := msg.Get("Message-ID")
	h.Write([]byte(mid))
	h.Write([]byte{0})
	h.Write(msg.Body)
	return hex.EncodeToString(h.Sum(nil))
}

func hashes(toks map[Hash]string) []Hash {
	out := make([]Hash, 0, len(toks))
	for h := range toks {
		out = append(out, h)
	}
	return out
}

// Learn records msg as spam or ham in user's database ("" = global).
// learned is false when the message was already learned as that class,
// or Options.Skip exempts it.
func (c *Classifier) Learn(ctx context.Context, msg *mailmsg.Message, spam bool, user string) (learned bool, err error) {
	return c.LearnTokens(ctx, c.tokens(msg), spam, user)
}

// LearnTokens is Learn for a message already tokenized.
func (c *Classifier) LearnTokens(ctx context.Context, t *Tokens, spam bool, user string) (learned bool, err error) {
	if t.skip {
		return false, nil
	}
	learned, err = c.store.Learn(ctx, user, MessageID(t.msg), t.hashes, spam, messageTime(t.msg, time.Now()))
	if err != nil {
		return false, fmt.Errorf("bayes: learn: %w", err)
	}
	if spam {
		c.m.learn("spam", learned)
	} else {
		c.m.learn("ham", learned)
	}
	return learned, nil
}

// Forget removes a learned message; false when it was not learned.
func (c *Classifier) Forget(ctx context.Context, msg *mailmsg.Message, user string) (bool, error) {
	ok, err := c.store.Forget(ctx, user, MessageID(msg), hashes(c.tokenize(msg)))
	if err != nil {
		return false, fmt.Errorf("bayes: forget: %w", err)
	}
	c.m.learn("forget", ok)
	return ok, nil
}

// Expire drops the least recently learned tokens of user's database when
// it holds more than Options.MaxTokens, keeping three quarters of that.
// Stores that are not Expirers report 0. Call it after bulk
// learning and periodically (SpamAssassin checks every 12 hours).
func (c *Classifier) Expire(ctx context.Context, user string) (int, error) {
	e, ok := c.store.(Expirer)
	if !ok {
		return 0, nil
	}
	n, err := e.Expire(ctx, user, c.maxToks)
	if err != nil {
		return 0, fmt.Errorf("bayes: expire: %w", err)
	}
	return n, nil
}

// Score returns the probability that msg is spam. ok is false, with no
// error, when the database has not learned enough messages, no token of
// the message is significant or Options.Skip exempts it: then no BAYES_xx
// rule applies.
func (c *Classifier) Score(ctx context.Context, msg *mailmsg.Message, user string) (prob float64, ok bool, err error) {
	return c.ScoreTokens(ctx, c.tokens(msg), user)
}

// ScoreTokens is Score for a message already tokenized.
func (c *Classifier) ScoreTokens(ctx context.Context, t *Tokens, user string) (prob float64, ok bool, err error) {
	if t.skip {
		return 0, false, nil
	}
	start := time.Now()
	defer func() {
		if err == nil {
			c.m.score(prob, ok, (t.took + time.Since(start)).Seconds())
		}
	}()
	nspam, nham, err := c.store.Totals(ctx, user)
	if err != nil {
		return 0, false, fmt.Errorf("bayes: score: %w", err)
	}
	if nspam < c.minSpam || nham < c.minHam {
		return 0, false, nil
	}
	return c.scoreTokens(ctx, user, t.hashes, nspam, nham)
}

func (c *Classifier) scoreTokens(ctx context.Context, user string, toks []Hash, nspam, nham uint64) (float64, bool, error) {
	counts, err := c.store.Tokens(ctx, user, toks)
	if err != nil {
		return 0, false, fmt.Errorf("bayes: score: %w", err)
	}
	probs := make([]float64, 0, len(counts))
	for _, cnt := range counts {
		if p, ok := tokenProb(cnt, nspam, nham, c.rs, c.rx); ok {
			probs = append(probs, p)
		}
	}
	prob, ok := combine(probs, nspam, nham)
	return prob, ok, nil
}

// AutoLearnDecision says whether a message that scored score points
// (without the Bayes rules) should be learned, and as which class. As in
// SpamAssassin, spam additionally needs at least 3 points from header rules
// and 3 from body rules, so that one kind of evidence alone cannot train.
func (c *Classifier) AutoLearnDecision(score, headerPoints, bodyPoints float64) (learn, spam bool) {
	if c.auto.Disabled {
		return false, false
	}
	switch {
	case score < c.auto.Ham:
		return true, false
	case score >= c.auto.Spam:
		return headerPoints >= 3 && bodyPoints >= 3, true
	}
	return false, false
}

// AutoLearn applies AutoLearnDecision and learns the message when it says
// so. It reports what happened: "ham", "spam", "no" or "unavailable" (an
// error), the words SpamAssassin puts in autolearn= of X-Spam-Status.
func (c *Classifier) AutoLearn(ctx context.Context, msg *mailmsg.Message, user string, score, headerPoints, bodyPoints float64) (string, error) {
	learn, spam := c.AutoLearnDecision(score, headerPoints, bodyPoints)
	if !learn {
		return "no", nil
	}
	if _, err := c.Learn(ctx, msg, spam, user); err != nil {
		return "unavailable", err
	}
	if spam {
		return "spam", nil
	}
	return "ham", nil
}
