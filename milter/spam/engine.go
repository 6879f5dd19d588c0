package spam

import (
	"context"
	"fmt"
	"log/slog"
	"sort"
	"strings"
	"time"

	"github.com/gomilter/gomilter/internal/mailmsg"
	"github.com/prometheus/client_golang/prometheus"
)

// Options configures Load. Zero values select Debian's SpamAssassin
// layout.
type Options struct {
	// RuleDirs hold the distribution rules (*.cf). Default
	// /usr/share/spamassassin (sa-update output, when present, should be
	// listed instead).
	RuleDirs []string
	// SiteDir holds *.pre and site *.cf (local.cf). Default
	// /etc/spamassassin. Set to "-" to read none.
	SiteDir string
	// LocalCF is an extra file read last (after SiteDir).
	LocalCF string
	// Hostname appears in X-Spam-Checker-Version. Default "localhost".
	Hostname string
	// Now is the clock used for date tests; default time.Now.
	Now func() time.Time
	// Registerer receives gomilter_spam_* metrics; nil means none.
	Registerer prometheus.Registerer
	// TimeLimit bounds the rule work for one message (SA's time_limit);
	// when it runs out, remaining rules are skipped and Result.TimedOut
	// is set. Default 10s. A ctx deadline also stops the work.
	TimeLimit time.Duration
	// BayesPath is the bbolt token database (created if missing). Empty
	// disables Bayes; with use_bayes 1 and at least 200 spam and 200 ham
	// learned, messages are scored with SA's Bayes score sets.
	BayesPath string
	// Resolver turns the network tests on: SA's DNS blocklist rules
	// (DNSEval, URIDNSBL) run, and scores come from score sets 1 and 3.
	// nil leaves them off, like spamassassin -L. *dns.Resolver of
	// internal/dns implements it.
	Resolver Resolver
	// Logger receives warnings raised while checking (a blocklist
	// refusing our queries); nil discards them.
	Logger *slog.Logger
}

// Engine is a loaded rule set; it is safe for concurrent Check calls.
type Engine struct {
	conf    *Conf
	opts    Options
	sets    map[int]*ruleSet // 0, and 2 with Bayes; their SA score set adds net*1
	NotImpl []string         // eval functions referenced but not implemented
	Backtrk int              // rules on the backtracking regex engine
	metrics *metrics
	bayes   *bayesDB
	usable  []*Rule    // compiled rules with implemented evals
	dns     *dnsEngine // nil: network tests off
	// lineSets scan each message once per kind for the lines each rule
	// could match (see lineSet).
	lineSets map[RuleKind]*lineSet
	slots    map[string]int32 // every rule's index in msgState.vals
	hdrSpecs []*hdrSpec       // header rules' left sides (see hdrSpec)
}

// ruleSet is what runs for one SA score set.
type ruleSet struct {
	set      int
	active   []*Rule
	metas    []*Rule // in dependency order
	byKind   map[RuleKind][]*Rule
	ruleList []string
}

// Load reads the configuration and compiles every rule. warnings lists
// per-line problems (unknown directives, bad regexes); err is returned
// only when nothing usable could be loaded.
func Load(opts Options) (*Engine, []string, error) {
	if len(opts.RuleDirs) == 0 {
		opts.RuleDirs = []string{"/usr/share/spamassassin"}
	}
	if opts.SiteDir == "" {
		opts.SiteDir = "/etc/spamassassin"
	} else if opts.SiteDir == "-" {
		opts.SiteDir = ""
	}
	if opts.Hostname == "" {
		opts.Hostname = "localhost"
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.TimeLimit <= 0 {
		opts.TimeLimit = 10 * time.Second
	}
	c := newConf()
	files := loadOrder(opts.RuleDirs, opts.SiteDir, opts.LocalCF)
	if len(files) == 0 {
		return nil, nil, fmt.Errorf("spam: no rule files in %v", opts.RuleDirs)
	}
	for _, f := range files {
		if err := c.parseFile(f); err != nil {
			return nil, c.Warnings, fmt.Errorf("spam: %w", err)
		}
	}
	return newEngine(c, opts)
}

// LoadConf builds an engine from already-parsed text (tests, fuzzing).
func LoadConf(name, text string, opts Options) (*Engine, []string, error) {
	c := newConf()
	for p := range implementedPlugins {
		c.plugins[p] = true
	}
	if err := c.parse(name, strings.NewReader(text)); err != nil {
		return nil, c.Warnings, err
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.Hostname == "" {
		opts.Hostname = "localhost"
	}
	if opts.TimeLimit <= 0 {
		opts.TimeLimit = 10 * time.Second
	}
	return newEngine(c, opts)
}

func newEngine(c *Conf, opts Options) (*Engine, []string, error) {
	met, err := newMetrics(opts.Registerer)
	if err != nil {
		return nil, c.Warnings, err
	}
	e := &Engine{conf: c, opts: opts, metrics: met, sets: map[int]*ruleSet{}}
	c.applyReplaceTags()
	c.freemailIdx, c.freemailWLIdx = newDomainGlobIndex(c.freemail), newGlobIndex(c.freemailWL)
	net := netBit(c, opts) // score sets 1 and 3 with network tests
	notImpl := map[string]bool{}
	var usable []*Rule
	for _, name := range sortedKeys(c.Rules) {
		r := c.Rules[name]
		if r.Kind < 0 {
			continue // score/describe without a definition
		}
		if !r.hasScore {
			v := 1.0
			if strings.HasPrefix(name, "T_") {
				v = 0.01
			}
			if _, nice := r.TFlags["nice"]; nice {
				v = -v
			}
			r.Score = [4]float64{v, v, v, v}
		}
		if err := e.compile(r); err != nil {
			c.Warnings = append(c.Warnings, fmt.Sprintf("rule %s: %v", name, err))
			continue
		}
		if r.Eval != nil && evalFuncs[r.Eval.Func] == nil {
			if (&ruleSet{set: net}).runnable(r) {
				notImpl[r.Eval.Func] = true
			}
			continue
		}
		usable = append(usable, r)
	}
	e.NotImpl = sortedKeys(notImpl)
	e.usable = usable
	// Every rule gets a slot in msgState.vals, and meta rules read their
	// operands from there.
	e.slots = make(map[string]int32, len(c.Rules))
	for i, name := range sortedKeys(c.Rules) {
		e.slots[name] = int32(i)
	}
	slot := func(n string) int32 {
		if i, ok := e.slots[n]; ok {
			return i
		}
		return -1
	}
	for _, r := range c.Rules {
		if r.meta != nil {
			r.meta = bindSlots(r.meta, slot)
		}
	}
	if e.dns, err = newDNSEngine(e, opts); err != nil {
		return nil, c.Warnings, err
	}
	sets := []int{0}
	if c.UseBayes && opts.BayesPath != "" {
		sets = append(sets, 2)
	}
	for _, set := range sets {
		e.sets[set] = buildSet(set|net, usable, c.Rules)
	}
	if len(sets) > 1 {
		b, err := e.openBayes(opts.BayesPath, opts.Registerer)
		if err != nil {
			return nil, c.Warnings, err
		}
		e.bayes = b
	}
	e.lineSets = newLineSets(usable)
	e.hdrSpecs = newHdrSpecs(usable)
	go warmGates(usable, e.lineSets, e.hdrSpecs)
	return e, c.Warnings, nil
}

// warmGates builds the rules' DFA gates (about 0.4 s for Debian's rules)
// in the background right after loading, so that the first messages do not
// each wait for the gates they need; a message that needs one still being
// built waits only for that one.
func warmGates(rules []*Rule, sets map[RuleKind]*lineSet, specs []*hdrSpec) {
	for _, s := range sets {
		s.get()
	}
	for _, s := range specs {
		s.get()
		s.getGroups()
	}
	for _, r := range rules {
		if r.re != nil {
			r.re.Gate()
		}
	}
}

// withBayes returns a copy of e that shares the compiled rules but uses
// the Bayes database at path (tests load the rules once this way).
func (e *Engine) withBayes(path string) (*Engine, error) {
	b, err := e.openBayes(path, nil)
	if err != nil {
		return nil, err
	}
	c := *e
	c.bayes = b
	c.sets = map[int]*ruleSet{0: e.sets[0], 2: buildSet(2|e.sets[0].set, e.usable, e.conf.Rules)}
	return &c, nil
}

func buildSet(set int, usable []*Rule, all map[string]*Rule) *ruleSet {
	rs := &ruleSet{set: set, byKind: map[RuleKind][]*Rule{}}
	for _, r := range usable {
		if !rs.runnable(r) {
			continue
		}
		rs.active = append(rs.active, r)
		rs.ruleList = append(rs.ruleList, r.Name)
		if r.Kind == KindMeta {
			rs.metas = append(rs.metas, r)
		} else {
			rs.byKind[r.Kind] = append(rs.byKind[r.Kind], r)
		}
	}
	rs.metas = orderMetas(rs.metas, all)
	return rs
}

// runnable applies SA's rule selection: a zero score in the active set
// disables a rule; net and learn eval rules need their score-set bit
// (SA checks tflags only when running eval tests, so net-flagged metas
// and regex rules still run).
func (e *ruleSet) runnable(r *Rule) bool {
	if r.Score[e.set] == 0 {
		return false
	}
	if r.Eval == nil {
		return true
	}
	if _, ok := r.TFlags["net"]; ok && e.set&1 == 0 {
		return false
	}
	if _, ok := r.TFlags["learn"]; ok && e.set&2 == 0 {
		return false
	}
	return true
}

func (e *Engine) compile(r *Rule) error {
	if r.Pattern == "" && r.Kind != KindMeta && r.Eval == nil && !r.Header.Exists {
		return fmt.Errorf("empty pattern")
	}
	if r.Pattern == "" {
		return nil
	}
	m, bt, err := CompilePerl(r.Pattern, r.Flags)
	if err != nil {
		return err
	}
	if bt {
		e.Backtrk++
	}
	r.re = m
	return nil
}

// orderMetas sorts metas so that each comes after the metas it uses.
func orderMetas(metas []*Rule, all map[string]*Rule) []*Rule {
	isMeta := map[string]*Rule{}
	for _, r := range metas {
		isMeta[r.Name] = r
	}
	var out []*Rule
	state := map[string]int{}
	var visit func(r *Rule)
	visit = func(r *Rule) {
		if state[r.Name] != 0 {
			return // done, or a cycle (SA also refuses to loop)
		}
		state[r.Name] = 1
		for _, d := range r.deps {
			if dm := isMeta[d]; dm != nil {
				visit(dm)
			}
		}
		state[r.Name] = 2
		out = append(out, r)
	}
	for _, r := range metas {
		visit(r)
	}
	return out
}

func sortedKeys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// ActiveRules is the number of rules that run for each message.
func (e *Engine) ActiveRules() int { return len(e.sets[0].active) }

// Close releases the Bayes database, if any.
func (e *Engine) Close() error {
	if e.bayes != nil {
		return e.bayes.close()
	}
	return nil
}

// RequiredScore is the spam threshold.
func (e *Engine) RequiredScore() float64 { return e.conf.RequiredScore }

// Check scores one message from the milter pipeline.
func (e *Engine) Check(ctx context.Context, env *mailmsg.Envelope, msg *mailmsg.Message) *Result {
	return e.CheckAuth(ctx, env, msg, nil)
}

// CheckAuth is Check with the DKIM, SPF and ARC results the caller
// already has (nil: none), which the DKIM and SPF rules then use instead
// of verifying again.
func (e *Engine) CheckAuth(ctx context.Context, env *mailmsg.Envelope, msg *mailmsg.Message, auth *Auth) *Result {
	raw := messageBytes(msg)
	if h := mtaReceived(env, e.opts.Hostname, time.Now()); h != nil {
		raw = append(h, raw...)
	}
	return e.check(ctx, env, raw, auth)
}

// CheckBytes scores a raw message (CRLF or LF line endings). A panic
// while checking is recovered: the result then carries Err and no score,
// so the caller can accept the message rather than lose it.
func (e *Engine) CheckBytes(ctx context.Context, env *mailmsg.Envelope, raw []byte) *Result {
	return e.check(ctx, env, raw, nil)
}

func (e *Engine) check(ctx context.Context, env *mailmsg.Envelope, raw []byte, auth *Auth) (res *Result) {
	start := time.Now()
	defer func() {
		if p := recover(); p != nil {
			res = &Result{Required: e.conf.RequiredScore, Err: fmt.Errorf("spam: panic while checking: %v", p)}
		}
		e.metrics.observe(res, time.Since(start))
	}()
	m := newMsgState(e, env, raw)
	m.ctx = ctx
	m.auth = &authState{in: auth}
	m.deadline = start.Add(e.opts.TimeLimit)
	m.set = e.sets[0]
	if rs := e.sets[2]; rs != nil && e.bayes.ready(ctx) {
		m.set = rs
		m.scoreBayes(ctx)
	}
	e.runRules(m)
	return e.result(m)
}
