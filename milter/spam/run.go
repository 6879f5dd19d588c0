package spam

import (
	"regexp"
	"strconv"
	"strings"
	"sync"
	"time"
)

// evalFunc implements one eval: function. It returns the hit value
// (0 = no hit); most return 1 for a hit.
type evalFunc func(m *msgState, args []string) float64

// evalFuncs is the registry of implemented eval functions, filled by the
// eval_*.go files' init functions.
var evalFuncs = map[string]evalFunc{}

func regEval(name string, f evalFunc) { evalFuncs[name] = f }

// argPatterns holds what eval functions compile from their arguments,
// by kind and argument: compiling on every message was a tenth of the
// memory a message allocated. The arguments come from the rule files,
// so the map grows only with them.
var argPatterns sync.Map

func argPattern[T any](key string, compile func() T) T {
	v, ok := argPatterns.Load(key)
	if !ok {
		v, _ = argPatterns.LoadOrStore(key, compile())
	}
	t, _ := v.(T) // a nil interface (no pattern) stays the zero T
	return t
}

func boolEval(f func(m *msgState, args []string) bool) evalFunc {
	return func(m *msgState, args []string) float64 { return b2f(f(m, args)) }
}

func (e *Engine) runRules(m *msgState) {
	net := m.startDNS() // blocklist lookups run while the rules do
	defer net.stop()
	for _, kind := range []RuleKind{KindHeader, KindBody, KindRawbody, KindFull, KindURI, KindMimeheader} {
		for i, r := range m.set.byKind[kind] {
			if i%32 == 0 && m.expired() {
				m.timedOut = true
				break
			}
			if v := m.runRule(r); v != 0 {
				m.setHit(r.Name, v)
			}
		}
	}
	if m.timedOut {
		return // as SA: no meta rules once the deadline passed
	}
	net.await(m)
	for _, r := range m.set.metas {
		if v := r.meta.value(slotEnv(m.vals)); v != 0 {
			m.setHit(r.Name, v)
		}
	}
}

// linesFor returns the strings a rule kind matches.
func (m *msgState) linesFor(k RuleKind) []*text {
	if v, ok := m.lines[k]; ok {
		return v
	}
	var lines []string
	switch k {
	case KindBody:
		m.render()
		lines = m.bodyLines
	case KindRawbody:
		m.render()
		lines = m.rawParts
	case KindFull:
		lines = []string{latin1(m.full)}
	case KindURI:
		lines = m.uriList()
	}
	if m.lines == nil {
		m.lines = map[RuleKind][]*text{}
	}
	ts := make([]*text, len(lines))
	for i, l := range lines {
		ts[i] = newText(l)
	}
	m.lines[k] = ts
	return ts
}

// lowerFor is the kind's lines joined and lower-cased, for literal
// prefilters; made on first use, as most rules of line kinds get their
// answer from a line set and never ask.
func (m *msgState) lowerFor(k RuleKind) string {
	if v, ok := m.lower[k]; ok {
		return v
	}
	lines := m.linesFor(k)
	ss := make([]string, len(lines))
	for i, l := range lines {
		ss[i] = l.s
	}
	if m.lower == nil {
		m.lower = map[RuleKind]string{}
	}
	m.lower[k] = strings.ToLower(strings.Join(ss, "\n"))
	return m.lower[k]
}

// joinedText is all lines of a rule kind as one match subject.
func (m *msgState) joinedText(k RuleKind) *text {
	if t, ok := m.joined[k]; ok {
		return t
	}
	lines := m.linesFor(k)
	var b strings.Builder
	for _, l := range lines {
		b.WriteString(l.s)
		if !strings.HasSuffix(l.s, "\n") {
			b.WriteByte('\n')
		}
	}
	if m.joined == nil {
		m.joined = map[RuleKind]*text{}
	}
	t := newText(b.String())
	m.joined[k] = t
	return t
}

// expired reports whether the message's time budget or ctx ran out.
func (m *msgState) expired() bool {
	if m.ctx != nil && m.ctx.Err() != nil {
		return true
	}
	return !m.deadline.IsZero() && time.Now().After(m.deadline)
}

func maxHits(r *Rule) int {
	if _, ok := r.TFlags["multiple"]; !ok {
		return 1
	}
	if v, err := strconv.Atoi(r.TFlags["maxhits"]); err == nil && v > 0 {
		return v
	}
	return 1000
}

func (m *msgState) runRule(r *Rule) float64 {
	if r.Eval != nil {
		f := evalFuncs[r.Eval.Func]
		if r.Kind == KindBody || r.Kind == KindRawbody {
			m.render()
		}
		m.evalKind = r.Kind
		return f(m, r.Eval.Args)
	}
	switch r.Kind {
	case KindHeader:
		hv := m.hdrValue(r)
		if r.Header.Exists {
			return b2f(hv.present)
		}
		t := hv.t
		hit := false
		// Most header values lack the rule's literals, which is cheaper
		// to learn than any regex run.
		if r.re.Prefilter() != nil && !m.mayHold(r, hv) {
			return b2f(r.Header.Neg)
		}
		if len(t.s) >= gateMinText {
			// Long values: one scan by the rule's group of gates.
			if hit, ok := m.gateSays(r, hv); ok {
				if hit && !r.re.decided() {
					hit = r.re.matchPassed(t)
				}
				return b2f(hit != r.Header.Neg)
			}
		}
		g := r.re.Gate()
		if r.re.decided() {
			// The gate's answer is the pattern's, unless it gave up.
			var sure bool
			if hit, sure = g.match(t.s); !sure {
				hit = r.re.Match(t)
			}
		} else if g == nil || len(t.s) < gateMinText {
			hit = r.re.Match(t)
		} else if g.mayMatch(t.s) {
			hit = r.re.matchPassed(t)
		}
		return b2f(hit != r.Header.Neg)
	case KindBody, KindRawbody, KindFull, KindURI:
		if h := m.lineHitsFor(r); h != nil && h.ok {
			return m.runLineMember(r, h)
		}
		lines := m.linesFor(r.Kind)
		g := r.re.Gate()
		// A few literals are found faster by strings.Contains than by the
		// gate's scan; for many, the gate's single scan is quicker.
		if lits := r.re.Prefilter(); lits != nil && (g == nil || len(lits) <= 4) && !containsAny(m.lowerFor(r.Kind), lits) {
			return 0
		}
		skip := 0
		if _, ok := r.TFlags["nosubject"]; ok && r.Kind == KindBody && len(lines) > 0 {
			skip = 1 // the first rendered line is the Subject
		}
		if g != nil {
			// One scan of the lines finds those that may match.
			if cand, ok := m.gateCandidates(g, r.Kind, skip); ok {
				return m.matchCandidates(r, cand, true)
			}
		}
		if bt, ok := r.re.(*btMatcher); ok && g == nil && bt.joinable && len(lines) > 1 && !bt.mayMatch(m.joinedText(r.Kind)) {
			return 0
		}
		return matchLines(r, lines[skip:], false)
	case KindMimeheader:
		return m.mimeheader(r)
	}
	return 0
}

// runLineMember runs a rule of its kind's lineSet on the lines the set's
// scan left it.
func (m *msgState) runLineMember(r *Rule, h *lineHits) float64 {
	lines := m.linesFor(r.Kind)
	if _, ok := r.TFlags["nosubject"]; ok && r.Kind == KindBody && len(lines) > 0 {
		lines = lines[1:] // the first rendered line is the Subject
		h = &lineHits{words: h.words, sets: h.sets[h.words:], ok: true}
	}
	cand := h.candidates(lines, r.line.idx)
	if len(cand) == 0 {
		return 0
	}
	sure := true // every line left is one the gate matched, not a "maybe"
	if g := r.re.Gate(); g != nil && !r.line.exact {
		// A line holding a literal may still not match: the rule's own
		// gate rules most such lines out before the exact engine runs.
		kept := cand[:0]
		for _, ln := range cand {
			hit, ok := g.match(ln.s)
			if hit || !ok {
				kept = append(kept, ln)
			}
			sure = sure && ok
		}
		cand = kept
	}
	return m.matchCandidates(r, cand, sure)
}

// gateCandidates scans the kind's lines, from line from on, with a
// rule's own gate and returns those it may match; ok is false when the
// gate gave up on the text.
func (m *msgState) gateCandidates(g *dfaGate, k RuleKind, from int) (cand []*text, ok bool) {
	lines := m.linesFor(k)
	s, ends := m.kindText(k)
	if cap(m.scanBuf) < len(ends) {
		m.scanBuf = make([]uint64, len(ends))
	}
	out := m.scanBuf[:len(ends)]
	if !g.scanLines(s, ends, out) {
		return nil, false
	}
	for i := from; i < len(lines); i++ {
		if out[i] != 0 {
			cand = append(cand, lines[i])
		}
	}
	return cand, true
}

// matchCandidates runs a rule on the lines its gates left, each one its
// own gate let through. When the gate was sure of every line and its
// language is the rule's, it has already decided a rule that hits once.
func (m *msgState) matchCandidates(r *Rule, cand []*text, sure bool) float64 {
	if len(cand) == 0 {
		return 0
	}
	if sure && maxHits(r) == 1 && r.re.decided() {
		return 1
	}
	return matchLines(r, cand, true)
}

// kindText is the kind's lines end to end and where each ends, for line
// scans.
func (m *msgState) kindText(k RuleKind) (string, []int) {
	if kt, ok := m.ktexts[k]; ok {
		return kt.s, kt.ends
	}
	lines := m.linesFor(k)
	var b strings.Builder
	n := 0
	for _, l := range lines {
		n += len(l.s)
	}
	b.Grow(n)
	ends := make([]int, len(lines))
	for i, l := range lines {
		b.WriteString(l.s)
		ends[i] = b.Len()
	}
	if m.ktexts == nil {
		m.ktexts = map[RuleKind]kindText{}
	}
	m.ktexts[k] = kindText{b.String(), ends}
	return b.String(), ends
}

type kindText struct {
	s    string
	ends []int
}

// gateMinText is the text length from which a header rule consults its
// DFA gate first: on short values the regex engines are as quick.
const gateMinText = 256

// matchLines runs r on lines; passed says the rule's gate let each of
// them through already.
func matchLines(r *Rule, lines []*text, passed bool) float64 {
	limit := maxHits(r)
	if limit == 1 {
		for _, ln := range lines {
			if passed && r.re.matchPassed(ln) || !passed && r.re.Match(ln) {
				return 1
			}
		}
		return 0
	}
	n := 0
	for _, ln := range lines {
		n += r.re.Count(ln, limit-n)
		if n >= limit {
			break
		}
	}
	return float64(n)
}

func (m *msgState) mimeheader(r *Rule) float64 {
	raw := hasMod(r.Header.Mods, "raw")
	for _, h := range m.mimeHeaders() {
		if !strings.EqualFold(h.name, r.Header.Name) {
			continue
		}
		if r.re.Match(h.text(raw)) != r.Header.Neg {
			return 1
		}
	}
	return 0
}

// mimeHdr is one header field of one MIME part, as mimeheader rules
// match it; its texts are made once per message, not once per rule.
type mimeHdr struct {
	*header
	dec, raw *text
}

func (h *mimeHdr) text(raw bool) *text {
	if raw {
		if h.raw == nil {
			h.raw = newText(latin1s(foldRaw.ReplaceAllString(h.header.raw, " ")))
		}
		return h.raw
	}
	if h.dec == nil {
		h.dec = newText(latin1s(h.header.dec + "\n"))
	}
	return h.dec
}

func (m *msgState) mimeHeaders() []*mimeHdr {
	if m.mimeHdrs == nil {
		m.mimeHdrs = []*mimeHdr{}
		for _, p := range m.root.all(nil) {
			for i := range p.headers {
				m.mimeHdrs = append(m.mimeHdrs, &mimeHdr{header: &p.headers[i]})
			}
		}
	}
	return m.mimeHdrs
}

var tagRe = regexp.MustCompile(`<([^<>]+)>`)

// applyReplaceTags expands <TAG> placeholders in rules listed by
// replace_rules (SA's ReplaceTags plugin), including the <inter X>,
// <pre X> and <post X> modifiers.
func (c *Conf) applyReplaceTags() {
	for _, name := range c.replaceRules {
		r := c.Rules[name]
		if r == nil || r.Pattern == "" {
			continue
		}
		re := r.Pattern
		for pass := 0; pass <= 5; pass++ {
			var pre, post, inter string
			re, pre = cutModifier(re, "pre")
			re, post = cutModifier(re, "post")
			re, inter = cutModifier(re, "inter")
			out, again := c.expandTags(re, c.replacePre[pre], c.replacePost[post], c.replaceInter[inter])
			re = out
			if !again {
				break
			}
		}
		r.Pattern = re
	}
}

func cutModifier(re, kind string) (string, string) {
	i := strings.Index(re, "<"+kind+" ")
	if i < 0 {
		return re, ""
	}
	j := strings.IndexByte(re[i:], '>')
	if j < 0 {
		return re, ""
	}
	return re[:i] + re[i+j+1:], strings.TrimSpace(re[i+len(kind)+2 : i+j])
}

func (c *Conf) expandTags(re, pre, post, inter string) (string, bool) {
	var b strings.Builder
	again := false
	last := 0
	prevTagEnd := -1
	for _, loc := range tagRe.FindAllStringSubmatchIndex(re, -1) {
		tag := re[loc[2]:loc[3]]
		repl, ok := c.replaceTag[tag]
		b.WriteString(re[last:loc[0]])
		if inter != "" && prevTagEnd == loc[0] {
			b.WriteString(inter)
		}
		if !ok {
			b.WriteString(re[loc[0]:loc[1]])
		} else {
			b.WriteString(pre + repl + post)
			again = again || strings.Contains(repl, "<")
		}
		last, prevTagEnd = loc[1], loc[1]
	}
	b.WriteString(re[last:])
	return b.String(), again
}
