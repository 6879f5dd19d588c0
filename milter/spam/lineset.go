package spam

import (
	"regexp"
	"regexp/syntax"
	"strings"
	"sync"
)

// A lineSet finds, in one scan of a message's lines, the lines where each
// of many rules of one kind could match. Scanning the body once per rule
// was most of a message's CPU time: about 200 rules of a typical message
// each read the whole body only to learn they cannot match.
//
// A rule stands in one of the set's gates:
//   - the literal gate, by the literals one of which every match contains
//     (Matcher.Prefilter), case-folded: a line without any of them cannot
//     match;
//   - an exact gate, by its gate pattern itself, when that is short and
//     loop-free and the rule has no literals or only weak ones (SA's
//     FUZZY_* rules, spelled-out letter classes): the scan then says
//     exactly what the rule's own gate would;
//   - a loop gate, by its gate pattern, when the rule has neither but
//     its pattern's counted repetitions are small (groupable): rules
//     like /\byour\s+\w+\s+account/ that each scanned the whole text.
//
// Literals and short loop-free patterns keep a gate's DFA small: its
// states are the partial matches a position of text can be in, as in
// Aho-Corasick, rather than the product of every rule's states that a
// union of arbitrary patterns grows into (tried: cache resets on most
// messages). Even so, the two kinds are kept apart, and the exact
// patterns go in groups of maxExactGroup, because partial matches of
// different patterns multiply (literals with the FUZZY_* patterns in one
// gate: ten times the scan time of the two apart); loop gates are smaller
// still. Rules with large counts ([^\n]{0,200}) stay out and scan on
// their own.
type lineSet struct {
	kind  RuleKind
	rules []*Rule // candidate members, in load order
	once  sync.Once
	// gates holds the literal set first, then the exact set in groups
	// of at most maxExactGroup, then the loop groups; nil entries had no
	// member or failed to build.
	gates []*dfaGate
}

// lineMember is a rule's place in its kind's lineSet.
type lineMember struct {
	gate  int  // index in lineSet.gates
	idx   int  // pattern index in that gate; -1: not a member
	exact bool // in the exact set: the member pattern is the rule's own gate pattern
}

// maxExactGroup is the most exact patterns one gate holds: their partial
// matches combine, and past a few dozen the states outgrow the cache
// (90 in one gate: seven cache resets per corpus pass).
const maxExactGroup = 32

// maxLoopGroup is the most patterns with loops (no literal to gate them,
// so each scanned the whole text on its own) one gate holds. A loop's
// partial match lasts to the end of its line, and those of different
// patterns combine in a state, so their groups are smaller than the
// loop-free ones.
const maxLoopGroup = 8

// maxLoopCount is the largest count a loop group's pattern may hold. A
// count in a loop (SA's __LONGWORDS_* count runs of long words) makes each
// state remember how far every such run has got; three of them in one
// group built 25 new states on each message not seen before.
const maxLoopCount = 3

// lineSetKinds are the kinds whose rules run line by line over one text.
var lineSetKinds = []RuleKind{KindBody, KindRawbody, KindFull, KindURI}

// maxExactWindow bounds the longest text a loop-free member pattern may
// span, so that few of its threads are under way at once. SA's FUZZY_*
// patterns spell each letter many ways ("&#1088;" is a p), which takes
// them to 80-140 characters; in ordinary text few get past a letter or
// two, so they stay cheap in a group (at 64 they each rescanned most
// body lines: 2.5% more instructions a message).
const maxExactWindow = 160

// weakLits is the length of literals too common to rule out lines ("e",
// "ct"): a rule whose literals are all this short joins the exact set
// when it can.
const weakLits = 2

func newLineSets(usable []*Rule) map[RuleKind]*lineSet {
	sets := map[RuleKind]*lineSet{}
	for _, k := range lineSetKinds {
		sets[k] = &lineSet{kind: k}
	}
	for _, r := range usable {
		r.line = lineMember{idx: -1}
		if s := sets[r.Kind]; s != nil && r.Eval == nil && r.re != nil {
			s.rules = append(s.rules, r)
		}
	}
	return sets
}

// get builds the set's gates on first use; only after it is a member's
// r.line known.
func (s *lineSet) get() {
	s.once.Do(s.build)
}

func (s *lineSet) build() {
	pats := [][]*syntax.Regexp{nil}
	members := [][]*Rule{nil}
	var loops []*Rule
	for _, r := range s.rules {
		re, exact := memberPattern(r.re)
		if !exact && weak(r.re.Prefilter()) && loopable(r.re) {
			// A literal as common as "." or ">" leaves the rule nearly
			// every line to rescan with its own gate; a loop group scans
			// once for several such rules.
			loops = append(loops, r)
			continue
		}
		if re == nil {
			continue
		}
		gi := 0
		if exact {
			if gi = len(pats) - 1; gi == 0 || len(pats[gi]) == maxExactGroup {
				pats, members = append(pats, nil), append(members, nil)
				gi++
			}
		}
		r.line = lineMember{gate: gi, idx: len(pats[gi]), exact: exact}
		pats[gi] = append(pats[gi], re)
		members[gi] = append(members[gi], r)
	}
	for i, r := range loops {
		if i%maxLoopGroup == 0 {
			pats, members = append(pats, nil), append(members, nil)
		}
		gi := len(pats) - 1
		r.line = lineMember{gate: gi, idx: len(pats[gi]), exact: true}
		pats[gi] = append(pats[gi], r.re.gatePattern())
		members[gi] = append(members[gi], r)
	}
	s.gates = make([]*dfaGate, len(pats))
	for gi := range pats {
		if len(pats[gi]) == 0 {
			continue
		}
		g, err := newGateSet(pats[gi])
		if err != nil {
			for _, r := range members[gi] {
				r.line.idx = -1
			}
			continue
		}
		s.gates[gi] = g
	}
}

// weak reports whether lits (a rule's prefilter) rule out few lines:
// none, or one as short as weakLits.
func weak(lits []string) bool { return len(lits) == 0 || minLen(lits) <= weakLits }

// loopable reports whether a rule may stand in a loop group: its gate
// pattern is groupable and holds no count above maxLoopCount.
func loopable(m Matcher) bool {
	return groupable(m.gatePattern()) && m.maxCount() <= maxLoopCount && m.Gate() != nil
}

// memberPattern returns the pattern a rule stands in its kind's lineSet
// by and which set (exact: its own gate pattern), or nil when it should
// scan on its own.
func memberPattern(m Matcher) (re *syntax.Regexp, exact bool) {
	lits := m.Prefilter()
	if weak(lits) {
		if re := m.gatePattern(); re != nil && loopFree(re) && maxLen(re) <= maxExactWindow {
			return re, true
		}
	}
	return litPattern(lits), false
}

// litPattern is the case-folded alternation of lits, nil for none.
func litPattern(lits []string) *syntax.Regexp {
	if len(lits) == 0 {
		return nil
	}
	alts := make([]string, len(lits))
	for i, l := range lits {
		alts[i] = regexp.QuoteMeta(l)
	}
	re, err := syntax.Parse("(?i:"+strings.Join(alts, "|")+")", syntax.Perl)
	if err != nil {
		return nil
	}
	return re.Simplify()
}

// loopFree reports whether re (simplified) has no star or plus: its
// matches have a bounded length.
func loopFree(re *syntax.Regexp) bool {
	switch re.Op {
	case syntax.OpStar, syntax.OpPlus:
		return false
	case syntax.OpRepeat:
		if re.Max < 0 {
			return false
		}
	}
	for _, s := range re.Sub {
		if !loopFree(s) {
			return false
		}
	}
	return true
}

// maxLen returns the most runes a match of the loop-free re spans.
func maxLen(re *syntax.Regexp) int {
	switch re.Op {
	case syntax.OpLiteral:
		return len(re.Rune)
	case syntax.OpCharClass, syntax.OpAnyChar, syntax.OpAnyCharNotNL:
		return 1
	case syntax.OpCapture, syntax.OpQuest:
		return maxLen(re.Sub[0])
	case syntax.OpRepeat:
		return re.Max * maxLen(re.Sub[0])
	case syntax.OpConcat:
		n := 0
		for _, s := range re.Sub {
			n += maxLen(s)
		}
		return n
	case syntax.OpAlternate:
		n := 0
		for _, s := range re.Sub {
			n = max(n, maxLen(s))
		}
		return n
	}
	return 0
}

// lineHits is one gate's scan of a message: the set of members that may
// match in each line, words per line.
type lineHits struct {
	words int
	sets  []uint64
	ok    bool
}

// lineHitsFor returns the scan of the kind's lines by the gate rule r
// stands in (scanned once per message), or nil when r scans on its own.
func (m *msgState) lineHitsFor(r *Rule) *lineHits {
	s := m.e.lineSets[r.Kind]
	if s == nil {
		return nil
	}
	s.get()
	if r.line.idx < 0 {
		return nil
	}
	if m.lhits == nil {
		m.lhits = map[RuleKind][]*lineHits{}
	}
	hs := m.lhits[r.Kind]
	if hs == nil {
		hs = make([]*lineHits, len(s.gates))
		m.lhits[r.Kind] = hs
	}
	if h := hs[r.line.gate]; h != nil {
		return h
	}
	g := s.gates[r.line.gate]
	text, ends := m.kindText(r.Kind)
	h := &lineHits{words: g.words, sets: make([]uint64, len(ends)*g.words)}
	h.ok = g.scanLines(text, ends, h.sets)
	hs[r.line.gate] = h
	return h
}

// candidates returns the lines where member i may match.
func (h *lineHits) candidates(lines []*text, i int) []*text {
	var out []*text
	for ln := range lines {
		if has(h.sets[ln*h.words:], i) {
			out = append(out, lines[ln])
		}
	}
	return out
}
