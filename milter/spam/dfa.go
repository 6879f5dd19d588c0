package spam

import (
	"encoding/binary"
	"fmt"
	"math/bits"
	"regexp/syntax"
	"slices"
	"sync"
	"unicode/utf8"
)

// dfaGate answers "could this pattern match anywhere in the text?" with
// a lazily built DFA, one table lookup per character. It exists because
// Go's regexp falls back to its NFA simulation (and regexp2 to
// backtracking) on long texts and large patterns, and most body rules
// never match a given message: scanning the whole body once in linear
// time and running the exact engine only where the gate says "maybe" is
// what keeps the slow tail of the message distribution short.
//
// The gate is deliberately loose: empty-width assertions (^ $ \b \B \A
// \z) are taken as always true, so its language is a superset of the
// pattern's and a "no" is always right. Because an unanchored search for
// a superset language over the lines joined is a superset of any
// per-line match, one scan of the joined text can rule out every line.
//
// One gate may also stand for many patterns (newGateSet): its states then
// know which patterns' matches they hold, and scanLines tells in one pass
// over a message which lines each pattern could match.
//
// Every pattern's start is live at every position of an unanchored
// search (at line starts only, for a pattern anchored with ^ or \A).
// States leave these start threads implicit and hold only the partial
// matches under way; what the starts become on each character class is
// computed once. A set of hundreds of patterns thus has states as small
// as the text makes them, not as large as the set.
type dfaGate struct {
	prog *syntax.Prog
	// member maps a match instruction to its pattern's index; nil for a
	// single pattern (index 0).
	member map[uint32]int
	words  int // uint64 words of a set of patterns
	// class maps a Latin-1 rune to its equivalence class: runes no
	// instruction tells apart share transitions. A newline always has a
	// class of its own, since it makes the anchored starts live.
	class  [256]uint16
	nclass int
	// accept[kind[pc]] is the set of classes rune instruction pc
	// accepts (kind -1: not a rune instruction), so that a step tests a
	// bit instead of matching the rune.
	kind   []int32
	accept [][4]uint64
	// free is the closure of the unanchored patterns' starts, live at
	// every position; line, of every pattern's start, live at the text's
	// start and after a newline.
	free, line []uint32
	anchored   bool  // some pattern is line-anchored
	always     int32 // hit set of the patterns matching the empty string
	mu         sync.Mutex
	// moves caches, per class, the threads the implicit starts become on
	// reading it: [0] from free, [1] from line. nil while not computed.
	moves [2][][]uint32
	// States are numbered; trans[state*nclass+class] caches the next
	// state + 1, negated when that state holds a match, and 0 while not
	// computed. State 0 is the line start with no match under way.
	states []dfaState
	trans  []int32
	// hitSets interns the sets of patterns states hold matches of;
	// index 0 is the empty set.
	hitSets  [][]uint64
	hitIndex map[string]int32
	// index finds a state by a hash of its threads; states whose hash
	// collides with an earlier one's live in overflow (rare).
	index    map[uint64]int32
	overflow map[string]int32
	cells    int // transition cells and threads held, for the memory bound
	maxCells int
	resets   int
	scratch  closure
}

type dfaState struct {
	pcs  []uint32 // threads under way besides the implicit starts, sorted
	line bool     // at a line start: the anchored starts are live too
	hits int32    // hitSets index of the patterns matching here
}

// dfaMaxCells bounds one gate's cache (about 4 bytes a cell, plus the
// instruction lists): past it the cache is dropped and rebuilt from the
// text's current position, as RE2's DFA does. A set of patterns gets
// dfaSetCells.
const (
	dfaMaxCells = 1 << 18
	dfaSetCells = 1 << 21
)

// dfaMaxResets per scan: beyond it the text defeats caching and the gate
// answers "maybe" so that the exact engine decides.
const dfaMaxResets = 4

// dfaMaxNewStates is the state-building allowance of one scan beyond one
// new state per 16 characters.
const dfaMaxNewStates = 2048

// newDFAGate builds the gate of a Go (RE2 syntax) pattern; nil when the
// pattern does not parse or compile even with its counts relaxed.
func newDFAGate(goSrc string) *dfaGate {
	re, prog := gateProg(goSrc)
	if prog == nil {
		return nil
	}
	g := &dfaGate{prog: prog, words: 1, maxCells: dfaMaxCells}
	start := []uint32{uint32(prog.Start)}
	var free []uint32
	if lineAnchored(re) {
		g.anchored = true
	} else {
		free = start
	}
	g.init(start, free)
	return g
}

// gateProg parses and compiles the loosened form of a Go pattern; nil
// when it does not parse or compile even with its counts relaxed.
func gateProg(goSrc string) (*syntax.Regexp, *syntax.Prog) {
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
		return nil, nil
	}
	re = re.Simplify()
	prog, err := syntax.Compile(re)
	if err != nil {
		return nil, nil
	}
	return re, prog
}

// newGateSet builds one gate for many parsed patterns: their programs
// side by side, each match instruction tagged with its pattern's index.
func newGateSet(res []*syntax.Regexp) (*dfaGate, error) {
	union := &syntax.Prog{}
	g := &dfaGate{prog: union, member: map[uint32]int{}, words: (len(res) + 63) / 64, maxCells: dfaSetCells}
	var line, free []uint32
	for i, re := range res {
		prog, err := syntax.Compile(re)
		if err != nil {
			return nil, fmt.Errorf("pattern %d: %w", i, err)
		}
		base := uint32(len(union.Inst))
		for _, in := range prog.Inst {
			switch in.Op {
			case syntax.InstAlt, syntax.InstAltMatch:
				in.Out += base
				in.Arg += base
			case syntax.InstMatch:
				g.member[uint32(len(union.Inst))] = i
			default:
				in.Out += base
			}
			union.Inst = append(union.Inst, in)
		}
		start := base + uint32(prog.Start)
		line = append(line, start)
		if lineAnchored(re) {
			g.anchored = true
		} else {
			free = append(free, start)
		}
	}
	g.init(line, free)
	return g, nil
}

// init sets up the classes, the start closures and state 0.
func (g *dfaGate) init(line, free []uint32) {
	g.index, g.hitIndex = map[uint64]int32{}, map[string]int32{}
	g.hitSets = [][]uint64{nil}
	g.classes()
	g.scratch = newClosure(len(g.prog.Inst))
	g.line = sortedPCs(g.scratch.of(g.prog, line))
	g.free = sortedPCs(g.scratch.of(g.prog, free))
	g.always = g.hitsOf(g.line)
	for i := range g.moves {
		g.moves[i] = make([][]uint32, g.nclass)
	}
	g.stateFor(nil, true)
}

// classes partitions runes 0..255 by the set of rune instructions that
// accept them.
func (g *dfaGate) classes() {
	// Instructions repeat (ReplaceTags expand the same classes many
	// times); test each distinct one once.
	var runeInsts []int
	distinct := map[string]int32{}
	g.kind = make([]int32, len(g.prog.Inst))
	for pc, in := range g.prog.Inst {
		g.kind[pc] = -1
		switch in.Op {
		case syntax.InstRune, syntax.InstRune1, syntax.InstRuneAny, syntax.InstRuneAnyNotNL:
			key := fmt.Sprint(in.Op, in.Arg, in.Rune)
			k, ok := distinct[key]
			if !ok {
				k = int32(len(runeInsts))
				distinct[key] = k
				runeInsts = append(runeInsts, pc)
			}
			g.kind[pc] = k
		}
	}
	g.accept = make([][4]uint64, len(runeInsts))
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
		if r == '\n' {
			key += "\n"
		}
		c, ok := seen[key]
		if !ok {
			c = uint16(len(seen))
			seen[key] = c
		}
		g.class[r] = c
		for i := range runeInsts {
			if sig[i/8]&(1<<(i%8)) != 0 {
				g.accept[i][c/64] |= 1 << (c % 64)
			}
		}
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

func sortedPCs(pcs []uint32) []uint32 {
	slices.Sort(pcs)
	return slices.Compact(pcs)
}

// mayMatch scans s, a Latin-1 string (see latin1), and reports whether
// the gate's language occurs in it. It holds the gate's lock for the scan:
// rules run one at a time per message, so contention is between messages.
func (g *dfaGate) mayMatch(s string) bool {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.always != 0 {
		return true
	}
	sc := g.newScan(len(s))
	_, _, hit, ok := g.run(&sc, s, 0, len(s), 0)
	return hit || !ok // a text that defeats the cache: maybe
}

// scanLines scans the lines of s that end at ends (line i is
// s[ends[i-1]:ends[i]]), each from a line start, and sets the words
// out[i*g.words:(i+1)*g.words] to the patterns that may match within
// line i. It returns false when the text defeats the cache; out is then
// incomplete and each pattern must be tried on its own.
func (g *dfaGate) scanLines(s string, ends []int, out []uint64) bool {
	g.mu.Lock()
	defer g.mu.Unlock()
	sc := g.newScan(len(s))
	i := 0
	for ln, end := range ends {
		set := out[ln*g.words : (ln+1)*g.words]
		clear(set)
		g.addHits(set, g.always)
		var cur int32
		for i < end {
			var hit, ok bool
			if cur, i, hit, ok = g.run(&sc, s, i, end, cur); !ok {
				return false
			}
			if hit {
				g.addHits(set, g.states[cur].hits)
			}
		}
	}
	return true
}

// run advances from state cur at s[i] until it enters a state holding a
// match (hit) or reaches end, and returns the state and position there.
// ok is false when the scan ran out of allowance (see advance).
func (g *dfaGate) run(sc *scan, s string, i, end int, cur int32) (_ int32, _ int, hit, ok bool) {
	nclass := int32(g.nclass)
	class := &g.class
	trans := g.trans
	for i < end {
		r := rune(s[i])
		if r < utf8.RuneSelf {
			i++
			// The hot path: a known transition into a non-matching state.
			if v := trans[cur*nclass+int32(class[r])]; v > 0 {
				cur = v - 1
				continue
			}
		} else {
			var n int
			r, n = latin1At(s, i)
			i += n
		}
		v, ok := g.advance(sc, cur, r, len(s)-i)
		if !ok {
			return cur, i, false, false
		}
		if v < 0 {
			return -v - 1, i, true, true
		}
		cur = v - 1
		trans = g.trans // advance may have grown the table
	}
	return cur, i, false, true
}

// latin1At decodes the non-ASCII rune at s[i]. Latin-1 strings hold
// ASCII bytes and two-byte sequences for U+0080..U+00FF; anything else
// is rare and takes the general decoder.
func latin1At(s string, i int) (rune, int) {
	if c := s[i]; (c == 0xc2 || c == 0xc3) && i+1 < len(s) && s[i+1]&0xc0 == 0x80 {
		return rune(c&0x1f)<<6 | rune(s[i+1]&0x3f), 2
	}
	return utf8.DecodeRuneInString(s[i:])
}

func (g *dfaGate) addHits(set []uint64, h int32) {
	if h != 0 {
		for j, w := range g.hitSets[h] {
			set[j] |= w
		}
	}
}

// scan is one scan's allowance for building states.
type scan struct {
	budget, resets int
}

func (g *dfaGate) newScan(n int) scan {
	// A text that makes a new state at most characters defeats the
	// cache; past this many new states the exact engine decides.
	return scan{budget: len(g.states) + dfaMaxNewStates + n/16}
}

// advance returns the cached transition value (see dfaGate.trans) of
// state cur on r, building it when missing. Building may drop the cache
// and renumber the states; the value returned is in the new numbering.
// ok is false when the scan ran out of allowance; rest is the length of
// text still to scan.
func (g *dfaGate) advance(sc *scan, cur int32, r rune, rest int) (v int32, ok bool) {
	if r >= 256 {
		// Outside Latin-1: rare, uncached.
		nx := g.step(cur, r)
		if v = nx + 1; g.states[nx].hits != 0 {
			v = -v
		}
		return v, true
	}
	idx := cur*int32(g.nclass) + int32(g.class[r])
	if v = g.trans[idx]; v != 0 {
		return v, true
	}
	if len(g.states) > sc.budget {
		return 0, false
	}
	if g.cells > g.maxCells {
		if sc.resets++; sc.resets > dfaMaxResets {
			return 0, false
		}
		st := g.states[cur]
		g.reset()
		sc.budget = dfaMaxNewStates + rest/16
		cur = g.stateFor(st.pcs, st.line) // the current state survives
		idx = cur*int32(g.nclass) + int32(g.class[r])
	}
	nx := g.step(cur, r)
	if v = nx + 1; g.states[nx].hits != 0 {
		v = -v
	}
	g.trans[idx] = v
	return v, true
}

func (g *dfaGate) reset() {
	g.states, g.trans, g.index, g.overflow, g.cells = g.states[:0], g.trans[:0], map[uint64]int32{}, nil, 0
	g.resets++
	g.stateFor(nil, true)
}

// step returns the state after reading r in state cur.
func (g *dfaGate) step(cur int32, r rune) int32 {
	st := g.states[cur]
	next := g.moveAll(st.pcs, r)
	next = g.scratch.of(g.prog, next)
	next = append(next, g.startMoves(st.line, r)...)
	return g.stateFor(sortedPCs(next), r == '\n')
}

// moveAll returns where the threads at pcs go on reading r (before
// closure).
func (g *dfaGate) moveAll(pcs []uint32, r rune) []uint32 {
	var next []uint32
	if r >= 256 {
		for _, pc := range pcs {
			if in := &g.prog.Inst[pc]; in.Op != syntax.InstMatch && in.MatchRune(r) {
				next = append(next, in.Out)
			}
		}
		return next
	}
	c := g.class[r]
	w, bit := c/64, uint64(1)<<(c%64)
	for _, pc := range pcs {
		if k := g.kind[pc]; k >= 0 && g.accept[k][w]&bit != 0 {
			next = append(next, g.prog.Inst[pc].Out)
		}
	}
	return next
}

// startMoves returns what the implicit starts (with the anchored ones at
// a line start) become on reading r, closed.
func (g *dfaGate) startMoves(line bool, r rune) []uint32 {
	from, which := g.free, 0
	if line {
		from, which = g.line, 1
	}
	var c uint16
	if r < 256 {
		c = g.class[r]
		if m := g.moves[which][c]; m != nil {
			return m
		}
	}
	m := sortedPCs(g.scratch.of(g.prog, g.moveAll(from, r)))
	if m == nil {
		m = []uint32{}
	}
	if r < 256 {
		g.moves[which][c] = m
		g.cells += len(m)
	}
	return m
}

// hitsOf interns the set of patterns whose match instruction is in pcs.
func (g *dfaGate) hitsOf(pcs []uint32) int32 {
	var set []uint64
	for _, pc := range pcs {
		if g.prog.Inst[pc].Op != syntax.InstMatch {
			continue
		}
		if set == nil {
			set = make([]uint64, g.words)
		}
		i := g.member[pc] // 0 for a single pattern
		set[i/64] |= 1 << (i % 64)
	}
	if set == nil {
		return 0
	}
	key := make([]byte, 8*len(set))
	for j, w := range set {
		binary.LittleEndian.PutUint64(key[8*j:], w)
	}
	if h, ok := g.hitIndex[string(key)]; ok {
		return h
	}
	h := int32(len(g.hitSets))
	g.hitSets = append(g.hitSets, set)
	g.hitIndex[string(key)] = h
	return h
}

// stateFor interns the state of a sorted thread list.
func (g *dfaGate) stateFor(pcs []uint32, line bool) int32 {
	h := uint64(14695981039346656037) // FNV-1a over the thread numbers
	if line {
		h = (h ^ 1) * 1099511628211
	}
	for _, pc := range pcs {
		h = (h ^ uint64(pc+2)) * 1099511628211
	}
	i, ok := g.index[h]
	if ok && g.states[i].line == line && slices.Equal(g.states[i].pcs, pcs) {
		return i
	}
	var key string
	if ok { // a collision: the overflow map, keyed by the list itself
		b := make([]byte, 1+4*len(pcs))
		if line {
			b[0] = 1
		}
		for j, pc := range pcs {
			binary.LittleEndian.PutUint32(b[1+4*j:], pc)
		}
		key = string(b)
		if i, ok := g.overflow[key]; ok {
			return i
		}
	}
	st := dfaState{pcs: pcs, line: line, hits: g.hitsOf(pcs)}
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

// has reports whether pattern i is in the set words.
func has(set []uint64, i int) bool { return set[i/64]&(1<<(i%64)) != 0 }

// count returns the number of patterns in set.
func count(set []uint64) int {
	n := 0
	for _, w := range set {
		n += bits.OnesCount64(w)
	}
	return n
}
