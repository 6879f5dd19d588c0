package spam

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strconv"
	"strings"

	"github.com/gomilter/gomilter/internal/bayes"
	"github.com/gomilter/gomilter/internal/mailmsg"
	"github.com/prometheus/client_golang/prometheus"
	"golang.org/x/net/idna"
)

// Bayes is internal/bayes: one classifier and one database format for the
// milter, `gomilter spam learn` and spamd's TELL. The engine decides which
// score set applies, maps the probability onto SpamAssassin's BAYES_xx
// rules (check_bayes ranges from 23_bayes.cf) and supplies what only it
// knows: the configuration's bayes_* settings and the relay analysis,
// through BayesOptions.

// ErrNoBayes is returned by Learn when the engine has no Bayes database.
var ErrNoBayes = errors.New("spam: Bayes is not enabled (Options.BayesPath, use_bayes)")

type bayesDB struct {
	c               *bayes.Classifier
	store           bayes.Store
	minSpam, minHam uint64
}

func (e *Engine) openBayes(path string, reg prometheus.Registerer) (*bayesDB, error) {
	st, err := bayes.OpenBolt(path, bayes.BoltOptions{})
	if err != nil {
		return nil, fmt.Errorf("spam: bayes: %w", err)
	}
	opts := e.BayesOptions()
	opts.Store, opts.Registerer = st, reg
	c, err := bayes.New(opts)
	if err != nil {
		st.Close()
		return nil, err
	}
	return &bayesDB{c: c, store: st, minSpam: opts.MinSpam, minHam: opts.MinHam}, nil
}

// BayesOptions returns the internal/bayes settings the engine's BAYES_xx
// rules score with (Store and Registerer left empty): the configuration's
// bayes_ignore_header, bayes_ignore_from and bayes_ignore_to,
// bayes_min_spam_num and bayes_min_ham_num, the auto-learn thresholds, and
// the relay analysis as x-spam-relays-* metadata. Anything that learns
// into a database these rules read (gomilter spam learn) must use them, or
// it learns tokens the scanner never produces.
func (e *Engine) BayesOptions() bayes.Options {
	c := e.conf
	opts := bayes.Options{
		MinSpam:       c.BayesMinSpam,
		MinHam:        c.BayesMinHam,
		IgnoreHeaders: append([]string(nil), c.BayesIgnoreHeaders...),
		Metadata:      e.bayesMetadata,
		AutoLearn: bayes.AutoLearnThresholds{Ham: c.AutoLearnHamThreshold, Spam: c.AutoLearnSpamThresh,
			Disabled: !c.BayesAutoLearn || c.AutoLearnHamThreshold >= c.AutoLearnSpamThresh},
	}
	// bayes.New takes 0 for its default (200); an explicit 0 in local.cf
	// means "score from the first message", which 1 comes closest to.
	opts.MinSpam, opts.MinHam = max(opts.MinSpam, 1), max(opts.MinHam, 1)
	if len(c.addrLists["bayes_ignore_from"]) > 0 || len(c.addrLists["bayes_ignore_to"]) > 0 {
		opts.Skip = e.bayesIgnored
	}
	return opts
}

// LoadBayesOptions reads the configuration files as Load does, without
// compiling a rule, and returns the engine's BayesOptions: for tools that
// only learn (gomilter spam learn), so that they tokenize as the scanner
// will. Unreadable files are errors; an empty configuration is not.
func LoadBayesOptions(opts Options) (bayes.Options, []string, error) {
	if len(opts.RuleDirs) == 0 {
		opts.RuleDirs = []string{"/usr/share/spamassassin"}
	}
	if opts.SiteDir == "" {
		opts.SiteDir = "/etc/spamassassin"
	} else if opts.SiteDir == "-" {
		opts.SiteDir = ""
	}
	c := newConf()
	for _, f := range loadOrder(opts.RuleDirs, opts.SiteDir, opts.LocalCF) {
		if err := c.parseFile(f); err != nil {
			return bayes.Options{}, c.Warnings, fmt.Errorf("spam: %w", err)
		}
	}
	e := &Engine{conf: c, opts: opts}
	return e.BayesOptions(), c.Warnings, nil
}

// headerState is a msgState over msg's header alone: enough for the
// relay analysis and address lookups, without parsing the body.
func (e *Engine) headerState(msg *mailmsg.Message) *msgState {
	var b strings.Builder
	for _, f := range msg.Header {
		b.WriteString(strings.ReplaceAll(f.Raw(), "\r\n", "\n"))
	}
	return &msgState{e: e, hdrs: parseHeaderBlock([]byte(b.String())),
		getCache: map[string][]string{}, hits: map[string]float64{}, evalCache: map[string]any{}}
}

// bayesMetadata returns SpamAssassin's message metadata, which its Bayes
// tokenizes like header fields: the author and envelope-sender domains and
// the four relay lists (Message::Metadata::Received), names in lower case
// and sorted as SpamAssassin emits them. Only header fields are read, not
// the SMTP envelope, so that a message learned later from a mailbox yields
// the same tokens as when it was scanned.
func (e *Engine) bayesMetadata(msg *mailmsg.Message) []mailmsg.Field {
	return e.headerState(msg).bayesMetadata()
}

// bayesMetadata is Engine.bayesMetadata from a message already analysed
// for the rules: its relays are not parsed again.
func (m *msgState) bayesMetadata() []mailmsg.Field {
	var out []mailmsg.Field
	if doms := hostsOf(m.headerValues("From", []string{"addr"})); len(doms) > 0 {
		out = append(out, mailmsg.Field{Name: "x-authordomain", Value: strings.Join(doms, " ")})
	}
	if env := parseAddresses(m.headerEnvelopeFrom()); len(env) > 0 {
		if doms := hostsOf([]string{env[0].addr}); len(doms) > 0 {
			out = append(out, mailmsg.Field{Name: "x-senderdomain", Value: doms[0]})
		}
	}
	for _, which := range []string{"external", "internal", "trusted", "untrusted"} {
		out = append(out, mailmsg.Field{Name: "x-spam-relays-" + which, Value: m.relayString(which)})
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}

// hostsOf returns the distinct domains of addrs, lower case and in ASCII
// (IDNA) form, as SpamAssassin's idn_to_ascii gives them.
func hostsOf(addrs []string) []string {
	var out []string
	seen := map[string]bool{}
	for _, a := range addrs {
		i := strings.LastIndexByte(a, '@')
		if i < 0 || i == len(a)-1 {
			continue
		}
		h := strings.ToLower(a[i+1:])
		if ascii, err := idna.Lookup.ToASCII(h); err == nil {
			h = ascii
		}
		if !seen[h] {
			seen[h] = true
			out = append(out, h)
		}
	}
	return out
}

// bayesIgnored is SpamAssassin's Bayes ignore_message: a sender in
// bayes_ignore_from or a recipient in bayes_ignore_to keeps the message
// out of Bayes, both learning and scoring.
func (e *Engine) bayesIgnored(msg *mailmsg.Message) bool {
	c := e.conf
	from, to := c.addrLists["bayes_ignore_from"], c.addrLists["bayes_ignore_to"]
	if len(from) == 0 && len(to) == 0 {
		return false
	}
	m := e.headerState(msg)
	if len(from) > 0 && m.fromMatches(from) {
		return true
	}
	return len(to) > 0 && toInList("bayes_ignore_to")(m, nil) > 0
}

func (b *bayesDB) close() error { return b.store.Close() }

// ready reports whether enough mail was learned for the Bayes score set
// (bayes_min_spam_num / bayes_min_ham_num).
func (b *bayesDB) ready(ctx context.Context) bool {
	if b == nil {
		return false
	}
	s, h, err := b.store.Totals(ctx, "")
	return err == nil && s >= b.minSpam && h >= b.minHam
}

// Learn trains the Bayes database with one raw message as spam or ham
// (sa-learn --spam/--ham). It reports whether the database changed.
func (e *Engine) Learn(ctx context.Context, raw []byte, spam bool) (bool, error) {
	if e.bayes == nil {
		return false, ErrNoBayes
	}
	return e.bayes.c.Learn(ctx, bayes.ParseMessage(raw), spam, "")
}

// BayesCounts returns how many spam and ham messages were learned.
func (e *Engine) BayesCounts() (spam, ham int) {
	if e.bayes == nil {
		return 0, 0
	}
	s, h, _ := e.bayes.store.Totals(context.Background(), "")
	return int(s), int(h)
}

// scoreBayes computes the message's probability once, before the rules.
func (m *msgState) scoreBayes(ctx context.Context) {
	p, ok, err := m.e.bayes.c.ScoreTokens(ctx, m.bayesTokens(), "")
	if err == nil && ok {
		m.bayesProb = &p
	}
}

// bayesTokens tokenizes the message once for scoring and auto-learning,
// with the metadata of the relays the rules analysed.
func (m *msgState) bayesTokens() *bayes.Tokens {
	if m.btoks == nil {
		m.btoks = m.e.bayes.c.Tokenize(bayes.ParseMessage(m.raw), m.bayesMetadata())
	}
	return m.btoks
}

func (m *msgState) bayesScore() (float64, bool) {
	if m.bayesProb == nil {
		return 0.5, false
	}
	return *m.bayesProb, true
}

func (p *confParser) bayesMin(key, val string) {
	v, err := strconv.ParseUint(strings.TrimSpace(val), 10, 64)
	if err != nil {
		p.warnf("%s: bad count %q", key, val)
		return
	}
	if key == "bayes_min_ham_num" {
		p.c.BayesMinHam = v
	} else {
		p.c.BayesMinSpam = v
	}
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
		max := 1.0
		if args[1] != "undef" {
			max = atof(args[1])
		}
		return bayes.InRange(p, atof(args[0]), max)
	}))
}
