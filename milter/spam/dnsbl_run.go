package spam

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"sync"
	"time"

	"github.com/gomilter/gomilter/internal/dns"
	"github.com/prometheus/client_golang/prometheus"
)

// dnsKey is one DNS question; TXT or else A.
type dnsKey struct {
	name string
	txt  bool
}

// dnsUse is what a blocklist answer is for: a DNSEval check (and the
// check_rbl_sub rules of its set) or a URIDNSBL rule.
type dnsUse struct {
	check *rblCheck
	uri   *uriCheck
}

// dnsLookup is one question in flight for a message. zone is "" for the
// intermediate lookups of a chain (a URI host's addresses).
type dnsLookup struct {
	key  dnsKey
	zone string
	uses []dnsUse
	then []func([]string)
	vals []string
	err  error
	done bool
}

// dnsRun is the set of lookups of one message: started before the rules,
// awaited once before the meta rules.
type dnsRun struct {
	d      *dnsEngine
	plan   *dnsPlan
	ctx    context.Context
	cancel context.CancelFunc
	start  time.Time
	hard   time.Time // the engine's time limit for the message
	tick   chan struct{}

	mu       sync.Mutex
	lookups  map[dnsKey]*dnsLookup
	order    []*dnsLookup
	closed   bool
	finished int
}

// startDNS launches the message's blocklist lookups in parallel; it
// returns nil when there are none (no resolver, no active DNS rule).
func (m *msgState) startDNS() *dnsRun {
	d := m.e.dns
	if d == nil {
		return nil
	}
	p := d.plan(m.set)
	if len(p.checks) == 0 && len(p.uri) == 0 {
		return nil
	}
	parent := m.ctx
	if parent == nil {
		parent = context.Background()
	}
	run := &dnsRun{d: d, plan: p, start: time.Now(), hard: m.deadline, tick: make(chan struct{}, 1),
		lookups: map[dnsKey]*dnsLookup{}}
	end := run.start.Add(d.conf.rblTimeout())
	if !run.hard.IsZero() && run.hard.Before(end) {
		end = run.hard
	}
	run.ctx, run.cancel = context.WithDeadline(parent, end)
	if len(p.checks) > 0 {
		ips := m.rblIPs()
		for _, c := range p.checks {
			for _, n := range m.checkNames(ips, c) {
				run.launch(dnsKey{name: n + "." + c.zone, txt: c.txt}, c.zone, dnsUse{check: c}, nil)
			}
		}
	}
	if len(p.uri) > 0 {
		run.startURI(m.uriHosts(), p.uri)
	}
	return run
}

// launch starts the lookup k once per message; later callers add their
// use (or continuation) to it.
func (run *dnsRun) launch(k dnsKey, zone string, use dnsUse, then func([]string)) {
	run.mu.Lock()
	if run.closed {
		run.mu.Unlock()
		return
	}
	if l := run.lookups[k]; l != nil {
		if use != (dnsUse{}) {
			l.uses = append(l.uses, use)
		}
		if then != nil && l.done {
			vals, err := l.vals, l.err
			run.mu.Unlock()
			if err == nil {
				then(vals)
			}
			return
		}
		if then != nil {
			l.then = append(l.then, then)
		}
		run.mu.Unlock()
		return
	}
	if zone != "" && run.d.resting(zone) {
		run.mu.Unlock()
		run.d.met.query(resultResting)
		return
	}
	l := &dnsLookup{key: k, zone: zone}
	if use != (dnsUse{}) {
		l.uses = append(l.uses, use)
	}
	if then != nil {
		l.then = append(l.then, then)
	}
	run.lookups[k] = l
	run.order = append(run.order, l)
	run.mu.Unlock()
	go run.resolve(l)
}

// resolve runs one lookup and its continuations. It runs on its own
// goroutine, out of reach of CheckBytes' recover: a panic here is a
// failed lookup (see query) or a lost continuation, never a crashed daemon.
func (run *dnsRun) resolve(l *dnsLookup) {
	defer func() { _ = recover() }()
	vals, err := run.query(l)
	// A lookup the run's deadline (rbl_timeout) cut off is, like one
	// still pending when the rules end, a timeout to await, not a
	// failure: which of the two it is depends only on how long the rules
	// took.
	cut := err != nil && run.ctx.Err() != nil
	run.mu.Lock()
	l.vals, l.err, l.done = vals, err, !cut
	run.finished++
	then := l.then
	l.then = nil
	run.mu.Unlock()
	select {
	case run.tick <- struct{}{}:
	default:
	}
	if err == nil {
		for _, f := range then {
			f(vals)
		}
	}
}

func (run *dnsRun) query(l *dnsLookup) (vals []string, err error) {
	defer func() {
		if p := recover(); p != nil {
			vals, err = nil, fmt.Errorf("spam: panic in DNS lookup of %s: %v", l.key.name, p)
		}
	}()
	ctx := run.ctx
	if t := run.d.conf.zoneTimeoutFor(l.key.name); t > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, t)
		defer cancel()
	}
	if l.key.txt {
		return run.d.r.LookupTXT(ctx, l.key.name)
	}
	addrs, err := run.d.r.LookupA(ctx, l.key.name)
	for _, a := range addrs {
		vals = append(vals, a.Unmap().String())
	}
	return vals, err
}

// stop abandons the lookups still in flight.
func (run *dnsRun) stop() {
	if run != nil {
		run.cancel()
	}
}

// wait returns when every lookup is done or time is up. As SA's
// rbl_timeout, the wait shrinks from t towards t_min as the share of
// lookups still pending falls; it never passes the message's time limit.
func (run *dnsRun) wait() {
	tmax, tmin := run.d.conf.rblTimeout(), run.d.conf.rblTimeoutMin()
	for {
		run.mu.Lock()
		total, done := len(run.order), run.finished
		run.mu.Unlock()
		if done >= total {
			return
		}
		left := float64(total-done) / float64(total)
		end := run.start.Add(tmin + time.Duration(float64(tmax-tmin)*(1-(1-left)*(1-left))))
		if !run.hard.IsZero() && run.hard.Before(end) {
			end = run.hard
		}
		wait := time.Until(end)
		if wait <= 0 {
			return
		}
		t := time.NewTimer(wait)
		select {
		case <-run.tick:
			t.Stop()
		case <-t.C:
			return
		case <-run.ctx.Done():
			t.Stop()
			return
		}
	}
}

// await waits for the lookups, then turns their answers into rule hits on
// the message goroutine. Lookups not done by then are no hits.
func (run *dnsRun) await(m *msgState) {
	if run == nil {
		return
	}
	run.wait()
	run.cancel()
	run.mu.Lock()
	run.closed = true
	done := make([]dnsLookup, 0, len(run.order))
	for _, l := range run.order {
		if l.zone == "" {
			continue
		}
		if !l.done {
			run.d.met.query(resultTimeout)
			continue
		}
		done = append(done, *l)
	}
	run.mu.Unlock()
	for i := range done {
		run.answer(m, &done[i])
	}
}

// answer applies one blocklist answer to its rules.
func (run *dnsRun) answer(m *msgState, l *dnsLookup) {
	if l.err != nil {
		if errors.Is(l.err, dns.ErrNotFound) || errors.Is(l.err, dns.ErrNoData) {
			run.d.met.query(resultClean)
		} else {
			run.d.met.query(resultFailed)
		}
		return
	}
	vals := l.vals
	if !l.key.txt {
		vals = run.listings(l.zone, vals)
	}
	if len(vals) == 0 {
		return
	}
	run.d.met.query(resultListed)
	for _, u := range l.uses {
		for _, v := range vals {
			if u.check != nil {
				run.rblHit(m, u.check, v)
			} else if u.uri.sub.match(v) {
				m.setHit(u.uri.name, 1)
			}
		}
	}
}

// listings keeps the A answers that can be listings: inside 127.0.0.0/8
// (anything else is a wildcard or hijacked zone) and not a code by which
// the blocklist refuses the query or reports an error.
func (run *dnsRun) listings(zone string, vals []string) []string {
	var out []string
	refused := false
	for _, v := range vals {
		a, err := netip.ParseAddr(v)
		if err != nil || !a.Is4() || a.As4()[0] != 127 {
			continue
		}
		if kind, dom := run.d.refusalOf(zone, v); kind != notRefused {
			run.d.refused(kind, zone, dom, v)
			refused = true
			continue
		}
		out = append(out, v)
	}
	if refused && len(out) == 0 {
		run.d.met.query(resultRefused)
	} else if len(out) == 0 {
		run.d.met.query(resultClean)
	}
	return out
}

// rblHit is Dns.pm's process_dnsbl_result for one answer: the check's
// own rule, then the check_rbl_sub rules of its set.
func (run *dnsRun) rblHit(m *msgState, c *rblCheck, v string) {
	if c.sub == nil || c.sub.match(v) {
		m.setHit(c.rule, 1)
	}
	for _, s := range run.plan.subs[c.set] {
		if s.sub.match(v) {
			m.setHit(s.rule, 1)
		}
	}
}

// Values of the "result" label of gomilter_spam_dnsbl_queries_total.
const (
	resultListed  = "listed"
	resultClean   = "clean"
	resultFailed  = "failed"
	resultTimeout = "timeout"
	resultRefused = "refused"
	resultResting = "resting"
)

// dnsMetrics count blocklist queries; a nil *dnsMetrics counts nothing.
type dnsMetrics struct {
	queries *prometheus.CounterVec
	refused *prometheus.CounterVec
}

func newDNSMetrics(reg prometheus.Registerer) (*dnsMetrics, error) {
	if reg == nil {
		return nil, nil
	}
	m := &dnsMetrics{
		queries: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "gomilter_spam_dnsbl_queries_total",
			Help: "DNS blocklist queries of the spam rules, by result (listed, clean, failed, timeout, refused, resting)."},
			[]string{"result"}),
		refused: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "gomilter_spam_dnsbl_refusals_total",
			Help: "Answers by which a DNS blocklist refused a query or reported an error (never taken as listings), by zone."},
			[]string{"zone"}),
	}
	var err error
	if m.queries, err = register(reg, m.queries); err != nil {
		return nil, err
	}
	if m.refused, err = register(reg, m.refused); err != nil {
		return nil, err
	}
	return m, nil
}

func (m *dnsMetrics) query(result string) {
	if m != nil {
		m.queries.WithLabelValues(result).Inc()
	}
}

func (m *dnsMetrics) refusal(zone string) {
	if m != nil {
		m.refused.WithLabelValues(zone).Inc()
	}
}
