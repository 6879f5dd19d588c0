package spam

import (
	"context"
	"fmt"
	"log/slog"
	"net/netip"
	"sync"
	"time"
)

// Resolver answers the DNS blocklist queries (SA's DNSEval and URIDNSBL
// plugins). *dns.Resolver of internal/dns implements it, with its cache,
// negative caching and shared in-flight queries. Any error (NXDOMAIN, no
// data, SERVFAIL, timeout) means "not listed".
type Resolver interface {
	LookupA(ctx context.Context, name string) ([]netip.Addr, error)
	LookupTXT(ctx context.Context, name string) ([]string, error)
}

// The DNS eval functions never decide a hit themselves: the lookups start
// before the first rule runs and their answers set the rules, all at once,
// before the meta rules (see startDNS and dnsRun.await). Registering them
// keeps these rules out of Engine.NotImpl; without a resolver (network
// tests off, score sets 0 and 2) their net-flagged rules do not run at all.
var dnsEvalFuncs = []string{
	"check_rbl", "check_rbl_txt", "check_rbl_sub", "check_rbl_envfrom",
	"check_rbl_from_host", "check_rbl_from_domain", "check_rbl_headers",
	"check_rbl_accreditor", "check_rbl_rcvd", "check_uridnsbl",
	// SA 4.0.1's check_dns_sender looks for A/MX records inside answers
	// that are NXDOMAIN or SERVFAIL, which have none: NO_DNS_FOR_FROM can
	// never hit there, so it never hits here either.
	"check_dns_sender",
}

func init() {
	for _, f := range dnsEvalFuncs {
		regEval(f, func(*msgState, []string) float64 { return 0 })
	}
}

// rblCheck is one DNSEval rule that starts lookups (every check_rbl*
// function except check_rbl_sub).
type rblCheck struct {
	rule, fn, set, zone string
	txt                 bool
	sub                 *rblSubtest
	nice                bool   // tflags nice: trusted relays are queried too
	domainsOnly         bool   // tflags domains_only
	ipsOnly             bool   // tflags ips_only
	arg                 string // check_rbl_headers' header list, check_rbl_accreditor's tag
}

// rblSub is a check_rbl_sub rule: it tests the answers of its set.
type rblSub struct {
	rule, set string
	sub       *rblSubtest
}

// parseDNSEval turns a DNSEval rule's arguments into a check or a sub
// rule; it returns (nil, nil, nil) for functions that start nothing.
func parseDNSEval(r *Rule) (*rblCheck, *rblSub, error) {
	args := r.Eval.Args
	arg := func(i int) string {
		if i < len(args) {
			return args[i]
		}
		return ""
	}
	switch r.Eval.Func {
	case "check_rbl_sub":
		if len(args) != 2 {
			return nil, nil, fmt.Errorf("check_rbl_sub needs a set and a subtest")
		}
		st, err := parseRBLSubtest(args[1])
		if err != nil || st == nil {
			return nil, nil, fmt.Errorf("check_rbl_sub: bad subtest %q: %v", args[1], err)
		}
		return nil, &rblSub{rule: r.Name, set: args[0], sub: st}, nil
	case "check_uridnsbl", "check_dns_sender":
		return nil, nil, nil
	}
	if len(args) < 2 || args[0] == "" || normZone(args[1]) == "" {
		return nil, nil, fmt.Errorf("%s needs a set and a zone", r.Eval.Func)
	}
	st, err := parseRBLSubtest(arg(2))
	if err != nil {
		return nil, nil, err
	}
	c := &rblCheck{rule: r.Name, fn: r.Eval.Func, set: args[0], zone: normZone(args[1]),
		txt: r.Eval.Func == "check_rbl_txt", sub: st, arg: arg(3)}
	_, c.nice = r.TFlags["nice"]
	_, c.domainsOnly = r.TFlags["domains_only"]
	_, c.ipsOnly = r.TFlags["ips_only"]
	if c.fn == "check_rbl_accreditor" && c.arg == "" {
		return nil, nil, fmt.Errorf("check_rbl_accreditor needs an accreditor")
	}
	return c, nil, nil
}

// dnsEngine is the per-Engine state of the blocklist checks: the parsed
// rules, the zones resting after a refusal, and what was warned about.
type dnsEngine struct {
	r       Resolver
	conf    *dnsConf
	reg     func(host string) string // registered domain (util_rb_2tld/3tld)
	log     *slog.Logger
	now     func() time.Time
	met     *dnsMetrics
	rules   map[string]*Rule
	checks  map[string]*rblCheck // by rule
	subs    map[string]*rblSub   // by rule
	refuses []blockCode          // from dns_block_rule

	mu      sync.Mutex
	plans   map[*ruleSet]*dnsPlan
	blocked map[string]time.Time // domain -> end of its rest
	warned  map[string]bool      // zones warned about
}

// blockCode is a dns_block_rule: answers from zone that pass test mean
// the blocklist refused the query; domain then rests.
type blockCode struct {
	domain, zone string
	test         func(string) bool
}

// newDNSEngine prepares the DNS checks; it returns nil (no checks) when
// there is no resolver or the configuration turns DNS off.
func newDNSEngine(e *Engine, opts Options) (*dnsEngine, error) {
	c := e.conf
	if opts.Resolver == nil || c.dns.unavailable {
		return nil, nil
	}
	met, err := newDNSMetrics(opts.Registerer)
	if err != nil {
		return nil, err
	}
	log := opts.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	d := &dnsEngine{r: opts.Resolver, conf: &c.dns, reg: e.registrable, log: log, now: time.Now, met: met,
		rules: c.Rules, checks: map[string]*rblCheck{}, subs: map[string]*rblSub{},
		plans: map[*ruleSet]*dnsPlan{}, blocked: map[string]time.Time{}, warned: map[string]bool{}}
	for _, r := range e.usable {
		if r.Eval == nil || !isDNSEval(r.Eval.Func) {
			continue
		}
		chk, sub, err := parseDNSEval(r)
		if err != nil {
			c.Warnings = append(c.Warnings, fmt.Sprintf("rule %s: %v", r.Name, err))
			continue
		}
		if chk != nil {
			d.checks[r.Name] = chk
		}
		if sub != nil {
			d.subs[r.Name] = sub
		}
	}
	d.refuses = d.blockCodes()
	return d, nil
}

func isDNSEval(fn string) bool {
	for _, f := range dnsEvalFuncs {
		if f == fn {
			return true
		}
	}
	return false
}

// blockCodes turns each dns_block_rule into the answer test of its rule.
func (d *dnsEngine) blockCodes() []blockCode {
	var out []blockCode
	for rule, domains := range d.conf.blockRules {
		var zones []string
		var test func(string) bool
		switch {
		case d.checks[rule] != nil && d.checks[rule].sub != nil:
			zones, test = []string{d.checks[rule].zone}, d.checks[rule].sub.match
		case d.subs[rule] != nil:
			s := d.subs[rule]
			for _, c := range d.checks {
				if c.set == s.set {
					zones = append(zones, c.zone)
				}
			}
			test = s.sub.match
		case d.conf.uri[rule] != nil && d.conf.uri[rule].sub != nil:
			zones, test = []string{d.conf.uri[rule].zone}, d.conf.uri[rule].sub.match
		default:
			continue // a rule without an answer test would block every answer
		}
		for _, dom := range domains {
			for _, z := range zones {
				if z == dom || hasDomainSuffix(z, dom) {
					out = append(out, blockCode{domain: dom, zone: z, test: test})
				}
			}
		}
	}
	return out
}

func hasDomainSuffix(name, dom string) bool {
	return len(name) > len(dom) && name[len(name)-len(dom)-1] == '.' && name[len(name)-len(dom):] == dom
}

// refusalOf classifies an A answer from zone; domain is what rests.
func (d *dnsEngine) refusalOf(zone, val string) (refusal, string) {
	for _, b := range d.refuses {
		if b.zone == zone && b.test(val) {
			return refusedQuery, b.domain
		}
	}
	a, err := netip.ParseAddr(val)
	if err != nil {
		return notRefused, ""
	}
	return builtinRefusal(zone, a), zone
}

// resting reports whether queries to zone are paused after a refusal.
func (d *dnsEngine) resting(zone string) bool {
	d.mu.Lock()
	defer d.mu.Unlock()
	now := d.now()
	for dom, until := range d.blocked {
		if !now.Before(until) {
			delete(d.blocked, dom)
			continue
		}
		if zone == dom || hasDomainSuffix(zone, dom) {
			return true
		}
	}
	return false
}

// refused records a refusal: counted, warned once per zone, and, for a
// refused query, the domain rests for dns_block_time as in SA.
func (d *dnsEngine) refused(kind refusal, zone, domain, val string) {
	d.met.refusal(zone)
	d.mu.Lock()
	first := !d.warned[zone]
	d.warned[zone] = true
	if kind == refusedQuery && d.conf.blockDuration() > 0 {
		d.blocked[domain] = d.now().Add(d.conf.blockDuration())
	}
	d.mu.Unlock()
	if !first {
		return
	}
	if kind == refusedQuery {
		d.log.Warn("DNS blocklist refused our query; it is not a listing, and the zone rests",
			"zone", zone, "answer", val, "rest", d.conf.blockDuration(),
			"hint", "the blocklist wants a registered or non-public resolver, or fewer queries")
		return
	}
	d.log.Warn("DNS blocklist answered an error code; it is not a listing", "zone", zone, "answer", val)
}

// dnsPlan is what runs for one score set: the active checks, the active
// sub rules by set name, and the active URIDNSBL rules.
type dnsPlan struct {
	checks []*rblCheck
	subs   map[string][]*rblSub
	uri    []*uriCheck
}

// uriCheck is an active URIDNSBL rule with its tflags.
type uriCheck struct {
	*uriRule
	a, ns, notrim, domainsOnly, ipsOnly bool
}

func (d *dnsEngine) plan(rs *ruleSet) *dnsPlan {
	d.mu.Lock()
	defer d.mu.Unlock()
	if p, ok := d.plans[rs]; ok {
		return p
	}
	p := &dnsPlan{subs: map[string][]*rblSub{}}
	active := map[string]bool{}
	for _, r := range rs.active {
		active[r.Name] = true
		if c := d.checks[r.Name]; c != nil && !d.conf.skipRBL {
			p.checks = append(p.checks, c)
		}
		if s := d.subs[r.Name]; s != nil && !d.conf.skipRBL {
			p.subs[s.set] = append(p.subs[s.set], s)
		}
	}
	if !d.conf.skipURIBL {
		for _, name := range sortedKeys(d.conf.uri) {
			if active[name] {
				p.uri = append(p.uri, d.uriCheck(d.conf.uri[name]))
			}
		}
	}
	d.plans[rs] = p
	return p
}

func (d *dnsEngine) uriCheck(u *uriRule) *uriCheck {
	c := &uriCheck{uriRule: u}
	if r := d.rules[u.name]; r != nil {
		_, c.a = r.TFlags["a"]
		_, c.ns = r.TFlags["ns"]
		_, c.notrim = r.TFlags["notrim"]
		_, c.domainsOnly = r.TFlags["domains_only"]
		_, c.ipsOnly = r.TFlags["ips_only"]
	}
	return c
}

// netBit is 1 when the network tests run (a resolver, and no
// "dns_available no"): the engine then scores with SA's score sets 1/3.
func netBit(c *Conf, opts Options) int {
	if opts.Resolver == nil || c.dns.unavailable {
		return 0
	}
	return 1
}
