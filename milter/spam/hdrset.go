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
type hdrSpec struct {
	members []*Rule // rules with literals, by their hdrMember.lit
	once    sync.Once
	gate    *dfaGate // nil: fewer than minHdrGate members, or failed to build
}

// hdrMember is a header rule's place among the specs.
type hdrMember struct {
	spec int // index in Engine.hdrSpecs
	lit  int // index in the spec's literal gate; -1: none
}

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
		r.hdr = hdrMember{spec: -1, lit: -1}
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
	}
	return specs
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
