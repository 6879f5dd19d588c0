package spam

import (
	"encoding/binary"
	"fmt"
	"regexp/syntax"
	"slices"
	"strings"
	"sync"
	"unicode/utf8"
)

// dfaGate answers "could this pattern match anywhere in the text?" with
// a lazily built DFA, one table lookup per character. It exists because
// Go's regexp falls back to its NFA simulation (and regexp2 to
// backtracking) on long texts and large patterns, and most rules never
// match a given message: scanning a text once in linear time and running
// the exact engine only where the gate says "maybe" is what keeps the
// slow tail of the message distribution short.
//
// Assertions (^ $ \b \B \A \z) are decided as Go's regexp decides them,
// from the characters on either side, so a gate says exactly what its Go
// pattern does. Built from a rule's own pattern, it is exact and its
// "yes" is a match; built from a looser one (counts relaxed to fit RE2,
// or the RE2 approximation of a backtracking pattern), it only rules
// texts out.
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
	// instruction tells apart, and alike for assertions (word character,
	// newline), share transitions. rep holds a rune of each class.
	class  [256]uint16
	nclass int
	rep    []rune
	// accept[kind[pc]] is the set of classes rune instruction pc
	// accepts (kind -1: not a rune instruction), so that a step tests a
	// bit instead of matching the rune.
	kind   []int32
	accept [][4]uint64
	// free are the starts of the unanchored patterns, live at every
	// position; line, of every pattern, live at a line start (the text's
	// start or after a newline).
	free, line []uint32
	anchored   bool // some pattern is line-anchored
	exact      bool // the gate's language is its Go pattern's (see newDFAGate)
	mu         sync.Mutex
	// starts caches, per context and class, what the implicit starts
	// become on reading that class: the threads and the matches found
	// just before it.
	starts [nctx][]*startStep
	// States are numbered; trans[state*nclass+class] caches the next
	// state's row offset (state*nclass) + 1, negated when entering it
	// found a match, and 0 while not computed. State 0 is the line start
	// with nothing under way.
	states []dfaState
	trans  []int32
	// hitSets interns the sets of patterns matches were found of; index
	// 0 is the empty set.
	hitSets  [][]uint64
	hitIndex map[string]int32
	// index finds a state by a hash of its key; states whose hash
	// collides with an earlier one's live in overflow (rare).
	index    map[uint64]int32
	overflow map[string]int32
	cells    int // transition cells and threads held, for the memory bound
	maxCells int
	resets   int
	scratch  closure
}

// A state's context is what the character before it was, all that
// assertions ask of the past.
const (
	ctxStart   = iota // text start
	ctxNewline        // after a newline
	ctxWord           // after a word character (ASCII [0-9A-Za-z_])
	ctxOther
	nctx
)

// ctxRune is a rune of each context, for syntax.EmptyOpContext.
var ctxRune = [nctx]rune{-1, '\n', 'a', ' '}

func ctxOf(r rune) uint8 {
	switch {
	case r == '\n':
		return ctxNewline
	case syntax.IsWordChar(r):
		return ctxWord
	}
	return ctxOther
}

type dfaState struct {
	pcs  []uint32 // threads waiting for the next character, sorted
	ctx  uint8
	hits int32 // hitSets index of the matches found on entering
	end  int32 // hitSets index + 1 of the matches at the text's end; 0: not computed
}

type startStep struct {
	pcs  []uint32
	hits int32
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
// pattern does not parse or compile even with its counts relaxed. The
// gate is exact unless they were relaxed.
func newDFAGate(goSrc string) *dfaGate {
	re, relaxed := gateRegexp(goSrc)
	if re == nil {
		return nil
	}
	prog, err := syntax.Compile(re)
	if err != nil {
		return nil
	}
	g := &dfaGate{prog: prog, words: 1, maxCells: dfaMaxCells, exact: !relaxed}
	start := []uint32{uint32(prog.Start)}
	var free []uint32
	if g.anchored = lineAnchored(re); !g.anchored {
		free = start
	}
	g.init(start, free)
	return g
}

// gateRegexp parses a Go pattern for a gate and simplifies it; nil when it
// does not parse even with its counts relaxed (relaxed reports that they
// were).
func gateRegexp(goSrc string) (re *syntax.Regexp, relaxed bool) {
	// RE2 refuses nested counts whose product passes 1000; loosen the
	// largest counts first, so small ones like (...){3} keep the gate
	// selective.
	var err error
	for _, limit := range []int{-1, 50, 10, 0} {
		src := goSrc
		if limit >= 0 {
			src, relaxed = relaxCountsAbove(goSrc, limit), true
		}
		if re, err = syntax.Parse(src, syntax.Perl); err == nil {
			break
		}
	}
	if err != nil {
		return nil, false
	}
	re = re.Simplify()
	if _, err := syntax.Compile(re); err != nil {
		return nil, false
	}
	return re, relaxed
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

// init sets up the classes and state 0.
func (g *dfaGate) init(line, free []uint32) {
	g.index, g.hitIndex = map[uint64]int32{}, map[string]int32{}
	g.hitSets = [][]uint64{nil}
	g.classes()
	g.scratch = newClosure(len(g.prog.Inst))
	g.line, g.free = line, free
	for c := range g.starts {
		g.starts[c] = make([]*startStep, g.nclass)
	}
	g.stateFor(nil, ctxStart, 0)
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
		// Assertions tell newlines and word characters apart.
		key := string(sig) + string(rune('0'+ctxOf(rune(r))))
		c, ok := seen[key]
		if !ok {
			c = uint16(len(seen))
			seen[key] = c
			g.rep = append(g.rep, rune(r))
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

// closure computes epsilon closures with a reusable sparse set. Its
// results live in a reused buffer, valid until the next call: states keep
// copies, so a transition into a state that exists allocates nothing.
type closure struct {
	mark  []uint32
	gen   uint32
	stack []uint32
	out   []uint32
	next  []uint32 // moveAll's buffer, likewise
}

func newClosure(n int) closure { return closure{mark: make([]uint32, n)} }

// of returns the rune and match instructions reachable from pcs without
// consuming input, passing the assertions that hold in context ctx.
func (c *closure) of(prog *syntax.Prog, pcs []uint32, ctx syntax.EmptyOp) []uint32 {
	c.gen++
	if c.gen == 0 { // wrapped: forget old marks
		clear(c.mark)
		c.gen = 1
	}
	out := c.out[:0]
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
		case syntax.InstCapture, syntax.InstNop:
			c.stack = append(c.stack, in.Out)
		case syntax.InstEmptyWidth:
			if syntax.EmptyOp(in.Arg)&^ctx == 0 {
				c.stack = append(c.stack, in.Out)
			}
		case syntax.InstRune, syntax.InstRune1, syntax.InstRuneAny, syntax.InstRuneAnyNotNL, syntax.InstMatch:
			out = append(out, pc)
		}
	}
	c.out = out
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
	hit, sure := g.match(s)
	return hit || !sure // a text that defeats the cache: maybe
}

// match is mayMatch telling "no" and "don't know" apart: sure is false
// when the text defeated the cache, and only then. An exact gate's sure
// answer is its pattern's.
func (g *dfaGate) match(s string) (hit, sure bool) {
	g.mu.Lock()
	defer g.mu.Unlock()
	sc := g.newScan(len(s))
	cur, _, hit, ok := g.run(&sc, s, 0, len(s), 0)
	if !ok {
		return false, false
	}
	return hit || g.endHits(cur) != 0, true
}

// matchSpans scans s and returns, in order, the spans s[a:b] that hold
// its matches: s is cut after each newline where no partial match is
// under way, and the pieces with a match are kept (spans[i] = {a, b}).
// Every match lies within one span, and a search in a span alone sees
// the same assertions up to its end (a span starts at a line start,
// after a non-word character), so counting a pattern's matches span by
// span gives its count in s; see countable for the patterns this holds
// for. ok is false when the text defeated the cache.
func (g *dfaGate) matchSpans(s string, spans [][2]int) (_ [][2]int, ok bool) {
	g.mu.Lock()
	defer g.mu.Unlock()
	sc := g.newScan(len(s))
	var cur int32
	start, i, found := 0, 0, false
	for i < len(s) {
		end := len(s)
		if nl := strings.IndexByte(s[i:], '\n'); nl >= 0 {
			end = i + nl + 1
		}
		for i < end {
			var hit bool
			if cur, i, hit, ok = g.run(&sc, s, i, end, cur); !ok {
				return nil, false
			}
			found = found || hit
		}
		if end < len(s) && len(g.states[cur].pcs) == 0 {
			if found {
				spans = append(spans, [2]int{start, end})
			}
			start, found = end, false
		}
	}
	if found || g.endHits(cur) != 0 {
		spans = append(spans, [2]int{start, len(s)})
	}
	return spans, true
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
		g.addHits(set, g.endHits(cur))
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
	// The loop follows the row offset of the state (see trans), which
	// keeps a multiplication off its chain of dependent loads.
	row := cur * nclass
	for i < end {
		r := rune(s[i])
		if r < utf8.RuneSelf {
			i++
			// The hot path: a known transition into a non-matching state.
			if v := trans[row+int32(class[r])]; v > 0 {
				row = v - 1
				continue
			}
		} else {
			var n int
			r, n = latin1At(s, i)
			i += n
		}
		v, ok := g.advance(sc, row/nclass, r, len(s)-i)
		if !ok {
			return row / nclass, i, false, false
		}
		if v < 0 {
			return (-v - 1) / nclass, i, true, true
		}
		row = v - 1
		trans = g.trans // advance may have grown the table
	}
	return row / nclass, i, false, true
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
		return g.transValue(g.step(cur, r)), true
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
		cur = g.stateFor(st.pcs, st.ctx, st.hits) // the current state survives
		idx = cur*int32(g.nclass) + int32(g.class[r])
	}
	v = g.transValue(g.step(cur, r))
	g.trans[idx] = v
	return v, true
}

// transValue is how trans holds a move to state nx: its row offset + 1,
// negated when entering it found a match.
func (g *dfaGate) transValue(nx int32) int32 {
	v := nx*int32(g.nclass) + 1
	if g.states[nx].hits != 0 {
		v = -v
	}
	return v
}

func (g *dfaGate) reset() {
	g.states, g.trans, g.index, g.overflow, g.cells = g.states[:0], g.trans[:0], map[uint64]int32{}, nil, 0
	g.resets++
	g.stateFor(nil, ctxStart, 0)
}

// step returns the state after reading r in state cur: the assertions
// between the previous character and r are decided, matches ending
// there found, and the threads move over r.
func (g *dfaGate) step(cur int32, r rune) int32 {
	st := g.states[cur]
	var c uint16
	if r < 256 {
		c = g.class[r]
	}
	ctx := syntax.EmptyOpContext(ctxRune[st.ctx], r)
	closed := g.scratch.of(g.prog, st.pcs, ctx)
	next := g.moveAll(g.scratch.next[:0], closed, r, c)
	hits := g.hitsOf(closed)
	ss := g.startStep(st.ctx, r, c) // may reuse closed's buffer, not next's
	next = append(next, ss.pcs...)
	g.scratch.next = next
	if ss.hits != 0 {
		hits = g.unionHits(hits, ss.hits)
	}
	return g.stateFor(sortedPCs(next), ctxOf(r), hits)
}

// moveAll appends to next where the threads at pcs go on reading r, of
// class c when r is Latin-1 (before closure).
func (g *dfaGate) moveAll(next, pcs []uint32, r rune, c uint16) []uint32 {
	if r >= 256 {
		for _, pc := range pcs {
			if in := &g.prog.Inst[pc]; in.Op != syntax.InstMatch && in.MatchRune(r) {
				next = append(next, in.Out)
			}
		}
		return next
	}
	w, bit := c/64, uint64(1)<<(c%64)
	for _, pc := range pcs {
		if k := g.kind[pc]; k >= 0 && g.accept[k][w]&bit != 0 {
			next = append(next, g.prog.Inst[pc].Out)
		}
	}
	return next
}

// startStep returns what the implicit starts do in context ctx on
// reading r (class c): the threads they become and the matches of
// patterns that match the empty string there.
func (g *dfaGate) startStep(ctx uint8, r rune, c uint16) *startStep {
	if r < 256 {
		if ss := g.starts[ctx][c]; ss != nil {
			return ss
		}
	}
	from := g.free
	if ctx == ctxStart || ctx == ctxNewline {
		from = g.line
	}
	closed := g.scratch.of(g.prog, from, syntax.EmptyOpContext(ctxRune[ctx], r))
	ss := &startStep{pcs: g.moveAll(nil, closed, r, c), hits: g.hitsOf(closed)}
	if r < 256 {
		g.starts[ctx][c] = ss
		g.cells += len(ss.pcs)
	}
	return ss
}

// endHits returns the matches found at the text's end in state cur: what
// its threads and the implicit starts reach with the end-of-text
// assertions.
func (g *dfaGate) endHits(cur int32) int32 {
	st := &g.states[cur]
	if st.end == 0 {
		ctx := syntax.EmptyOpContext(ctxRune[st.ctx], -1)
		h := g.hitsOf(g.scratch.of(g.prog, st.pcs, ctx))
		from := g.free
		if st.ctx == ctxStart || st.ctx == ctxNewline {
			from = g.line
		}
		if h2 := g.hitsOf(g.scratch.of(g.prog, from, ctx)); h2 != 0 {
			h = g.unionHits(h, h2)
		}
		st.end = h + 1
	}
	return st.end - 1
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
	return g.internHits(set)
}

func (g *dfaGate) unionHits(a, b int32) int32 {
	if a == 0 || a == b {
		return b
	}
	if b == 0 {
		return a
	}
	set := slices.Clone(g.hitSets[a])
	for j, w := range g.hitSets[b] {
		set[j] |= w
	}
	return g.internHits(set)
}

func (g *dfaGate) internHits(set []uint64) int32 {
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

// stateFor interns the state of a sorted thread list, its context and
// the matches found on entering it.
func (g *dfaGate) stateFor(pcs []uint32, ctx uint8, hits int32) int32 {
	h := uint64(14695981039346656037) // FNV-1a over the key
	h = (h ^ uint64(ctx)) * 1099511628211
	h = (h ^ uint64(hits)) * 1099511628211
	for _, pc := range pcs {
		h = (h ^ uint64(pc)) * 1099511628211
	}
	i, ok := g.index[h]
	if ok && g.states[i].ctx == ctx && g.states[i].hits == hits && slices.Equal(g.states[i].pcs, pcs) {
		return i
	}
	var key string
	if ok { // a collision: the overflow map, keyed by the whole key
		b := make([]byte, 5+4*len(pcs))
		b[0] = ctx
		binary.LittleEndian.PutUint32(b[1:], uint32(hits))
		for j, pc := range pcs {
			binary.LittleEndian.PutUint32(b[5+4*j:], pc)
		}
		key = string(b)
		if i, ok := g.overflow[key]; ok {
			return i
		}
	}
	i = int32(len(g.states))
	pcs = slices.Clone(pcs) // callers pass scratch buffers
	g.states = append(g.states, dfaState{pcs: pcs, ctx: ctx, hits: hits})
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
