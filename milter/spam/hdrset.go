package spam

import (
	"regexp/syntax"
	"strings"
	"sync"
)

// A hdrSpec is one left side of header rules ("Subject", "From:addr",
// "ALL"): its value is computed once per message however many rules read
// it. Debian's rules read 109 distinct specs with 720 regex rules; the
// busiest (Subject, X-Spam-Relays-External, X-Mailer) have 70 to 140 each.
//
// Its literal gate holds the literals of every member rule (as a
// lineSet's does for a body), so one scan of the value tells each member
// whether it can match at all, where each member otherwise searched the
// value once per literal.
//
// Long values (the whole header block of an ALL rule, 2 KB on average)
// are also scanned once for all members' DFA gates together: about 40
// ALL rules each scanned the block with their own gate, two fifths of
// the characters all gates of a message read. The gate patterns go in
// groups of maxHdrGroup, since partial matches of different patterns
// multiply a set's states.
type hdrSpec struct {
	members []*Rule // rules with literals, by their hdrMember.lit
	once    sync.Once
	gate    *dfaGate // nil: fewer than minHdrGate members, or failed to build

	gated  []*Rule // rules with a gate pattern, by their hdrMember.gated
	gonce  sync.Once
	groups []*dfaGate // gated[i] is pattern i%maxHdrGroup of groups[i/maxHdrGroup]; nil: failed to build
}

// hdrMember is a header rule's place among the specs.
type hdrMember struct {
	spec  int // index in Engine.hdrSpecs
	lit   int // index in the spec's literal gate; -1: none
	gated int // index in the spec's gate groups; -1: none
}

// maxHdrGroup is the most gate patterns one set gate of a spec holds.
const maxHdrGroup = 64

// minHdrGate is the fewest members with literals for which a spec scans
// its value with a literal gate; for fewer, substring searches are as
// quick.
const minHdrGate = 4

// hdrVal is a spec's value in one message.
type hdrVal struct {
	done    bool
	t       *text
	present bool     // SA's value is defined: the header exists, or if-unset
	scanned bool     // lits holds the literal scan
	litsOK  bool     // the scan finished (it gives up on hostile text)
	lits    []uint64 // members whose literals the value holds
	// groups[g] is group g's scan of the value (nil: not yet), the
	// patterns that match in it; groupOK[g] is false when it gave up.
	groups  [][]uint64
	groupOK []bool
}

func specKey(h *HeaderSpec) string {
	k := h.Name + ":" + strings.Join(h.Mods, ":")
	if h.IfUnset != nil {
		k += "\x00" + *h.IfUnset
	}
	return k
}

// newHdrSpecs gives every regex header rule its spec and, when the rule
// has literals, its place in the spec's literal gate (built on first use).
func newHdrSpecs(usable []*Rule) []*hdrSpec {
	var specs []*hdrSpec
	idx := map[string]int{}
	for _, r := range usable {
		r.hdr = hdrMember{spec: -1, lit: -1, gated: -1}
		if r.Kind != KindHeader || r.Eval != nil {
			continue
		}
		k := specKey(&r.Header)
		i, ok := idx[k]
		if !ok {
			i = len(specs)
			idx[k] = i
			specs = append(specs, &hdrSpec{})
		}
		r.hdr.spec = i
		if r.re != nil && !r.Header.Exists && len(r.re.Prefilter()) > 0 {
			s := specs[i]
			r.hdr.lit = len(s.members)
			s.members = append(s.members, r)
		}
		if r.re != nil && !r.Header.Exists && groupable(r.re.gatePattern()) {
			s := specs[i]
			r.hdr.gated = len(s.gated)
			s.gated = append(s.gated, r)
		}
	}
	return specs
}

// maxGroupCount is the largest counted repetition ({0,80}) a pattern in
// a gate group may hold. A DFA state records how far each such count has
// got; one pattern's counts are few at a time, but a group's combine, and
// a group of the ALL rules that hold them (__SUBJ_HAS_TO_*, __TO_EQ_FROM_*)
// built 230 new states a message and dropped its cache twice a pass over
// the corpus.
const maxGroupCount = 16

// groupable reports whether re (simplified) may join a gate group: it
// parses, and its counted repetitions stay within maxGroupCount.
// Simplify writes x{0,80} as 80 nested optional x's, so the nesting
// depth of optionals is what counts.
func groupable(re *syntax.Regexp) bool {
	return re != nil && questDepth(re) <= maxGroupCount
}

func questDepth(re *syntax.Regexp) int {
	d := 0
	for _, s := range re.Sub {
		d = max(d, questDepth(s))
	}
	if re.Op == syntax.OpQuest {
		d++
	}
	return d
}

// getGroups builds the spec's gate groups on first use. A member whose
// pattern has no gate is left out of every group.
func (s *hdrSpec) getGroups() []*dfaGate {
	s.gonce.Do(func() {
		s.groups = make([]*dfaGate, (len(s.gated)+maxHdrGroup-1)/maxHdrGroup)
		for gi := range s.groups {
			var pats []*syntax.Regexp
			for _, r := range s.gated[gi*maxHdrGroup : min(len(s.gated), (gi+1)*maxHdrGroup)] {
				re := r.re.gatePattern()
				if re == nil || r.re.Gate() == nil {
					// Never matching stands in for it; it is not asked.
					re = &syntax.Regexp{Op: syntax.OpNoMatch}
				}
				pats = append(pats, re)
			}
			if g, err := newGateSet(pats); err == nil {
				s.groups[gi] = g
			}
		}
	})
	return s.groups
}

// gateSays returns what the rule's gate pattern says of the value, from
// one scan by its group: whether it may match (matches, when the rule's
// gate is exact), and ok false when the rule is in no group or the scan
// gave up.
func (m *msgState) gateSays(r *Rule, hv *hdrVal) (hit, ok bool) {
	if r.hdr.gated < 0 || r.re.Gate() == nil {
		return false, false
	}
	groups := m.e.hdrSpecs[r.hdr.spec].getGroups()
	gi, i := r.hdr.gated/maxHdrGroup, r.hdr.gated%maxHdrGroup
	if gi >= len(groups) || groups[gi] == nil {
		return false, false
	}
	g := groups[gi]
	if hv.groups == nil {
		hv.groups, hv.groupOK = make([][]uint64, len(groups)), make([]bool, len(groups))
	}
	if hv.groups[gi] == nil {
		hv.groups[gi] = make([]uint64, g.words)
		hv.groupOK[gi] = g.scanLines(hv.t.s, []int{len(hv.t.s)}, hv.groups[gi])
	}
	return has(hv.groups[gi], i), hv.groupOK[gi]
}

// get builds the spec's literal gate on first use.
func (s *hdrSpec) get() *dfaGate {
	s.once.Do(func() {
		if len(s.members) < minHdrGate {
			return
		}
		pats := make([]*syntax.Regexp, len(s.members))
		for i, r := range s.members {
			if pats[i] = litPattern(r.re.Prefilter()); pats[i] == nil {
				return
			}
		}
		if g, err := newGateSet(pats); err == nil {
			s.gate = g
		}
	})
	return s.gate
}

// hdrValue returns the value of the rule's spec, computed once per message.
func (m *msgState) hdrValue(r *Rule) *hdrVal {
	if m.hvals == nil {
		m.hvals = make([]hdrVal, len(m.e.hdrSpecs))
	}
	hv := &m.hvals[r.hdr.spec]
	if !hv.done {
		v, ok := m.headerForRule(&r.Header)
		hv.t, hv.present, hv.done = newText(latin1s(v)), ok, true
	}
	return hv
}

// mayHold reports whether the value holds one of the rule's literals.
func (m *msgState) mayHold(r *Rule, hv *hdrVal) bool {
	if r.hdr.lit >= 0 {
		s := m.e.hdrSpecs[r.hdr.spec]
		if g := s.get(); g != nil {
			if !hv.scanned {
				hv.scanned = true
				hv.lits = make([]uint64, g.words)
				hv.litsOK = g.scanLines(hv.t.s, []int{len(hv.t.s)}, hv.lits)
			}
			if hv.litsOK {
				return has(hv.lits, r.hdr.lit)
			}
		}
	}
	return containsAny(hv.t.lower(), r.re.Prefilter())
}
