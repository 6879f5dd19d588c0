package spam

import (
	"encoding/binary"
	"fmt"
	"regexp/syntax"
	"slices"
	"sync"
	"unicode/utf8"
)

// dfaGate answers "could this pattern match anywhere in the text?" with
// a lazily built DFA, one table lookup per character. It exists because
// Go's regexp falls back to its NFA simulation (and regexp2 to
// backtracking) on long texts and large patterns, and most body rules
// never match a given message: scanning the whole body once per rule in
// linear time and running the exact engine only where the gate says
// "maybe" is what keeps the slow tail of the message distribution short.
//
// The gate is deliberately loose: empty-width assertions (^ $ \b \B \A
// \z) are taken as always true, so its language is a superset of the
// pattern's and a "no" is always right. Because an unanchored search for
// a superset language over the lines joined is a superset of any
// per-line match, one scan of the joined text can rule out every line.
type dfaGate struct {
	prog *syntax.Prog
	// class maps a Latin-1 rune to its equivalence class: runes no
	// instruction tells apart share transitions.
	class  [256]uint16
	nclass int
	start  []uint32 // closure of the start: present in every state
	// anchored: every match starts at a line start (^ or \A), so the
	// search restarts only after a newline.
	anchored bool
	mu       sync.Mutex
	// States are numbered; trans[state*nclass+class] is the next state
	// + 1, 0 while not computed.
	states []dfaState
	trans  []int32
	// index finds a state by a hash of its instruction list; states whose
	// hash collides with an earlier one's live in overflow (rare).
	index    map[uint64]int32
	overflow map[string]int32
	cells    int // transition cells allocated, for the memory bound
	resets   int
	scratch  closure
}

type dfaState struct {
	pcs   []uint32
	match bool
}

// dfaMaxCells bounds one gate's cache (about 4 bytes a cell, plus the
// instruction lists): past it the cache is dropped and rebuilt from the
// text's current position, as RE2's DFA does.
const dfaMaxCells = 1 << 18

// dfaMaxResets per scan: beyond it the text defeats caching and the gate
// answers "maybe" so that the exact engine decides.
const dfaMaxResets = 4

// dfaMaxNewStates is the state-building allowance of one scan beyond one
// new state per 16 characters.
const dfaMaxNewStates = 2048

// newDFAGate builds the gate of a Go (RE2 syntax) pattern; nil when the
// pattern does not parse or compile even with its counts relaxed.
func newDFAGate(goSrc string) *dfaGate {
	// RE2 refuses nested counts whose product passes 1000; loosen the
	// largest counts first, so small ones like (...){3} keep the gate
	// selective.
	var re *syntax.Regexp
	var err error
	for _, limit := range []int{-1, 50, 10, 0} {
		src := goSrc
		if limit >= 0 {
			src = relaxCountsAbove(goSrc, limit)
		}
		if re, err = syntax.Parse(src, syntax.Perl); err == nil {
			break
		}
	}
	if err != nil {
		return nil
	}
	prog, err := syntax.Compile(re.Simplify())
	if err != nil {
		return nil
	}
	g := &dfaGate{prog: prog, index: map[uint64]int32{}, anchored: lineAnchored(re.Simplify())}
	g.classes()
	g.scratch = newClosure(len(prog.Inst))
	g.start = g.scratch.of(prog, []uint32{uint32(prog.Start)})
	g.stateFor(g.start)
	return g
}

// classes partitions runes 0..255 by the set of rune instructions that
// accept them.
func (g *dfaGate) classes() {
	// Instructions repeat (ReplaceTags expand the same classes many
	// times); test each distinct one once.
	var runeInsts []int
	distinct := map[string]bool{}
	for pc, in := range g.prog.Inst {
		switch in.Op {
		case syntax.InstRune, syntax.InstRune1, syntax.InstRuneAny, syntax.InstRuneAnyNotNL:
			key := fmt.Sprint(in.Op, in.Arg, in.Rune)
			if !distinct[key] {
				distinct[key] = true
				runeInsts = append(runeInsts, pc)
			}
		}
	}
	seen := map[string]uint16{}
	sig := make([]byte, (len(runeInsts)+7)/8)
	for r := 0; r < 256; r++ {
		clear(sig)
		for i, pc := range runeInsts {
			if g.prog.Inst[pc].MatchRune(rune(r)) {
				sig[i/8] |= 1 << (i % 8)
			}
		}
		key := string(sig)
		if g.anchored && r == '\n' {
			key += "\n" // the newline restarts an anchored search: its own class
		}
		c, ok := seen[key]
		if !ok {
			c = uint16(len(seen))
			seen[key] = c
		}
		g.class[r] = c
	}
	g.nclass = len(seen)
}

// lineAnchored reports whether every match of re begins with ^ or \A.
// Either then holds only at the text's start or after a newline, in
// each line and in the lines joined, so the gate may restart there only.
func lineAnchored(re *syntax.Regexp) bool {
	switch re.Op {
	case syntax.OpBeginLine, syntax.OpBeginText:
		return true
	case syntax.OpCapture:
		return lineAnchored(re.Sub[0])
	case syntax.OpConcat:
		return len(re.Sub) > 0 && lineAnchored(re.Sub[0])
	case syntax.OpAlternate:
		for _, s := range re.Sub {
			if !lineAnchored(s) {
				return false
			}
		}
		return true
	}
	return false
}

// closure computes epsilon closures with a reusable sparse set.
type closure struct {
	mark  []uint32
	gen   uint32
	stack []uint32
}

func newClosure(n int) closure { return closure{mark: make([]uint32, n)} }

// of returns the rune and match instructions reachable from pcs without
// consuming input, assertions taken as true.
func (c *closure) of(prog *syntax.Prog, pcs []uint32) []uint32 {
	c.gen++
	if c.gen == 0 { // wrapped: forget old marks
		clear(c.mark)
		c.gen = 1
	}
	var out []uint32
	c.stack = append(c.stack[:0], pcs...)
	for len(c.stack) > 0 {
		pc := c.stack[len(c.stack)-1]
		c.stack = c.stack[:len(c.stack)-1]
		if c.mark[pc] == c.gen {
			continue
		}
		c.mark[pc] = c.gen
		in := &prog.Inst[pc]
		switch in.Op {
		case syntax.InstAlt, syntax.InstAltMatch:
			c.stack = append(c.stack, in.Arg, in.Out)
		case syntax.InstCapture, syntax.InstNop, syntax.InstEmptyWidth:
			c.stack = append(c.stack, in.Out)
		case syntax.InstRune, syntax.InstRune1, syntax.InstRuneAny, syntax.InstRuneAnyNotNL, syntax.InstMatch:
			out = append(out, pc)
		}
	}
	return out
}

// mayMatch scans s, a Latin-1 string (see latin1), and reports whether
// the gate's language occurs in it. It holds the gate's lock for the scan:
// rules run one at a time per message, so contention is between messages.
func (g *dfaGate) mayMatch(s string) bool {
	g.mu.Lock()
	defer g.mu.Unlock()
	var cur int32 // the start state is always state 0
	if g.states[cur].match {
		return true
	}
	resets := 0
	// A text that makes a new state at most characters defeats the
	// cache; past this many new states the exact engine decides.
	budget := len(g.states) + dfaMaxNewStates + len(s)/16
	nclass := int32(g.nclass)
	class := &g.class
	trans := g.trans
	for i := 0; i < len(s); {
		// Latin-1 strings hold ASCII bytes and two-byte sequences for
		// U+0080..U+00FF; anything else takes the slow path.
		r := rune(s[i])
		if r < utf8.RuneSelf {
			i++
			// The hot path: a known transition into a non-matching state.
			if v := trans[cur*nclass+int32(class[r])]; v > 0 {
				cur = v - 1
				continue
			}
		} else if (r == 0xc2 || r == 0xc3) && i+1 < len(s) && s[i+1]&0xc0 == 0x80 {
			r = (r&0x1f)<<6 | rune(s[i+1]&0x3f)
			i += 2
		} else {
			var n int
			r, n = utf8.DecodeRuneInString(s[i:])
			i += n
		}
		if r >= 256 {
			// Outside Latin-1: rare, uncached.
			if cur = g.step(g.states[cur].pcs, r); g.states[cur].match {
				return true
			}
			trans = g.trans // step may have grown the table
			continue
		}
		idx := cur*nclass + int32(class[r])
		v := trans[idx]
		if v == 0 {
			if len(g.states) > budget {
				return true
			}
			pcs := g.states[cur].pcs
			if g.cells > dfaMaxCells {
				if resets++; resets > dfaMaxResets {
					return true
				}
				g.reset()
				budget = dfaMaxNewStates + (len(s)-i)/16
				cur = g.stateFor(pcs) // the current state survives
				idx = cur*nclass + int32(class[r])
			}
			nx := g.step(pcs, r)
			v = nx + 1
			if g.states[nx].match {
				v = -1 // entering a match state ends every scan at once
			}
			g.trans[idx] = v
			trans = g.trans // step may have grown the table
		}
		if v < 0 {
			return true
		}
		cur = v - 1
	}
	return false
}

func (g *dfaGate) reset() {
	g.states, g.trans, g.index, g.overflow, g.cells = g.states[:0], g.trans[:0], map[uint64]int32{}, nil, 0
	g.resets++
	g.stateFor(g.start)
}

// step returns the state after reading r from the state holding pcs.
func (g *dfaGate) step(pcs []uint32, r rune) int32 {
	var next []uint32
	if !g.anchored || r == '\n' {
		next = append(next, g.start...)
	}
	for _, pc := range pcs {
		in := &g.prog.Inst[pc]
		if in.Op != syntax.InstMatch && in.MatchRune(r) {
			next = append(next, in.Out)
		}
	}
	return g.stateFor(g.scratch.of(g.prog, next))
}

// stateFor interns the state of a closed instruction list.
func (g *dfaGate) stateFor(pcs []uint32) int32 {
	h := uint64(14695981039346656037) // FNV-1a over the instruction numbers
	for _, pc := range pcs {
		h = (h ^ uint64(pc)) * 1099511628211
	}
	i, ok := g.index[h]
	if ok && slices.Equal(g.states[i].pcs, pcs) {
		return i
	}
	var key string
	if ok { // a collision: the overflow map, keyed by the list itself
		b := make([]byte, 4*len(pcs))
		for j, pc := range pcs {
			binary.LittleEndian.PutUint32(b[4*j:], pc)
		}
		key = string(b)
		if i, ok := g.overflow[key]; ok {
			return i
		}
	}
	st := dfaState{pcs: pcs}
	for _, pc := range pcs {
		if g.prog.Inst[pc].Op == syntax.InstMatch {
			st.match = true
		}
	}
	i = int32(len(g.states))
	g.states = append(g.states, st)
	g.trans = append(g.trans, make([]int32, g.nclass)...)
	if ok {
		if g.overflow == nil {
			g.overflow = map[string]int32{}
		}
		g.overflow[key] = i
	} else {
		g.index[h] = i
	}
	g.cells += g.nclass + len(pcs)
	return i
}
