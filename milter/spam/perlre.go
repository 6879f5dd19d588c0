package spam

import (
	"errors"
	"fmt"
	"regexp"
	"regexp/syntax"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/dlclark/regexp2"
)

// Matcher is a compiled rule pattern. Inputs are "Latin-1 strings": every
// byte of the mail text is one rune (see latin1), so a Perl byte regex such
// as /[\x80-\xff]{3}/ keeps its meaning.
type Matcher interface {
	// Match reports whether t contains a match.
	Match(t *text) bool
	// matchPassed is Match for a text the gate has just let through:
	// the gate is not asked again.
	matchPassed(t *text) bool
	// Count returns the number of non-overlapping matches, up to max.
	Count(t *text, max int) int
	// String returns the Perl source.
	String() string
	// Prefilter returns lower-case literals one of which every match
	// contains, or nil.
	Prefilter() []string
	// Gate returns the pattern's DFA gate (built on first use), or nil.
	Gate() *dfaGate
	// gatePattern parses the pattern the gate is built from; nil for
	// none.
	gatePattern() *syntax.Regexp
	// maxCount is the largest count ({n}, {n,}, {n,m}) the gate's
	// pattern holds, before simplification writes the counts out.
	maxCount() int
	// decided reports whether the gate's "yes" is a match.
	decided() bool
}

// lazyGate builds a dfaGate from a Go pattern on first use, so that rules
// which never reach a long text cost nothing at load time.
type lazyGate struct {
	once   sync.Once
	goSrc  string
	approx bool // goSrc approximates a backtracking rule
	g      *dfaGate
}

func (l *lazyGate) Gate() *dfaGate {
	l.once.Do(func() {
		if l.goSrc != "" {
			l.g = newDFAGate(l.goSrc)
		}
	})
	return l.g
}

func (l *lazyGate) gatePattern() *syntax.Regexp {
	if l.goSrc == "" {
		return nil
	}
	re, _ := gateRegexp(l.goSrc)
	return re
}

func (l *lazyGate) maxCount() int {
	re, err := syntax.Parse(l.goSrc, syntax.Perl)
	if err != nil {
		return 0
	}
	return maxRepeat(re)
}

func maxRepeat(re *syntax.Regexp) int {
	n := 0
	if re.Op == syntax.OpRepeat {
		n = max(re.Min, re.Max)
	}
	for _, s := range re.Sub {
		n = max(n, maxRepeat(s))
	}
	return n
}

// decided reports whether the gate's "yes" is a match of the rule: its
// language is the rule's, so the regex need not confirm it.
func (l *lazyGate) decided() bool {
	g := l.Gate()
	return g != nil && g.exact && !l.approx
}

// text is one match subject with a lazily computed lower-case copy, so
// case-insensitive rules run as case-sensitive ones on lowered input
// (RE2 case folding is several times slower and defeats its literal
// prefix scan).
type text struct {
	s, low string
	lowOK  bool
	rs     []rune // s decoded, for the backtracking engine; nil until asked
}

// runes returns s as runes, decoded once however many backtracking rules
// read it (regexp2 decodes the string on every call otherwise).
func (t *text) runes() []rune {
	if t.rs == nil {
		t.rs = []rune(t.s)
	}
	return t.rs
}

func newText(s string) *text { return &text{s: s} }

func (t *text) lower() string {
	if !t.lowOK {
		t.low, t.lowOK = strings.ToLower(t.s), true
	}
	return t.low
}

type goMatcher struct {
	lazyGate
	re    *regexp.Regexp
	src   string
	lits  []string
	lower bool // re expects lower-cased input
	// fixed counts without the regex when the pattern matches only a
	// few fixed strings; built on the first Count.
	fixedOnce sync.Once
	fixed     *fixedSet
	spansOK   bool // countable: Count may search only the gate's match spans
}

func (m *goMatcher) subject(t *text) string {
	if m.lower {
		return t.lower()
	}
	return t.s
}

func (m *goMatcher) Prefilter() []string { return m.lits }
func (m *goMatcher) Match(t *text) bool  { return m.re.MatchString(m.subject(t)) }

func (m *goMatcher) matchPassed(t *text) bool { return m.Match(t) }
func (m *goMatcher) String() string           { return m.src }
func (m *goMatcher) Count(t *text, max int) int {
	m.fixedOnce.Do(func() {
		m.fixed = newFixedSet(m.re.String())
		m.spansOK = m.decided() && countable(m.Gate().prog)
	})
	if m.fixed != nil {
		return m.fixed.count(m.subject(t), max)
	}
	subj := m.subject(t)
	// On a long text the regex engines pay for every character, the DFA
	// a table lookup: it finds the pieces that hold matches, and only
	// those are searched.
	if len(subj) >= minSpanText {
		if n, ok := m.countSpans(t, max); ok {
			return n
		}
	}
	return len(m.re.FindAllStringIndex(subj, max))
}

// countSpans is Count searching only the gate's match spans; ok is false
// when the pattern is not countable so or the gate gave up.
func (m *goMatcher) countSpans(t *text, max int) (n int, ok bool) {
	subj := m.subject(t)
	if !m.spansOK || len(subj) != len(t.s) {
		return 0, false
	}
	spans, ok := m.Gate().matchSpans(t.s, nil)
	if !ok {
		return 0, false
	}
	for _, sp := range spans {
		n += len(m.re.FindAllStringIndex(subj[sp[0]:sp[1]], max-n))
		if n >= max {
			break
		}
	}
	return n, true
}

// minSpanText is the text length from which Count searches match spans.
const minSpanText = 256

// countable reports whether counting prog's matches span by span (see
// matchSpans) gives its count in the whole text: it never asserts the
// text's start or end (a span's are not the text's), and it cannot match
// the empty string, which at a span's end would count in two spans.
func countable(prog *syntax.Prog) bool {
	for _, in := range prog.Inst {
		if in.Op == syntax.InstEmptyWidth && syntax.EmptyOp(in.Arg)&(syntax.EmptyBeginText|syntax.EmptyEndText) != 0 {
			return false
		}
	}
	// Can the start reach a match without reading a character, with
	// every assertion granted?
	c := newClosure(len(prog.Inst))
	for _, pc := range c.of(prog, []uint32{uint32(prog.Start)}, ^syntax.EmptyOp(0)) {
		if prog.Inst[pc].Op == syntax.InstMatch {
			return false
		}
	}
	return true
}

// btMatcher runs patterns RE2 cannot express (look-around, back
// references) on dlclark/regexp2 with a per-call timeout, so one
// pathological pattern cannot stall a message.
type btMatcher struct {
	// joinable: no anchors or look-behind, so a match in one line is also
	// a match in the lines joined; one call on the joined text can then
	// rule out a whole message.
	joinable bool
	// lazyGate's pattern is the RE2 approximation (approxPerl): no
	// match of it, no match.
	lazyGate
	re   *regexp2.Regexp
	src  string
	lits []string
	// spansOK: Count may skip to the gate's match spans (countable).
	spansOnce sync.Once
	spansOK   bool
}

func (m *btMatcher) Prefilter() []string { return m.lits }

func (m *btMatcher) Match(t *text) bool {
	if g := m.Gate(); g != nil && !g.mayMatch(t.s) {
		return false
	}
	return m.matchPassed(t)
}

func (m *btMatcher) matchPassed(t *text) bool {
	ok, err := m.re.MatchRunes(t.runes())
	return err == nil && ok
}

// mayMatch is Match for gating: a timeout counts as a possible match.
func (m *btMatcher) mayMatch(t *text) bool {
	if g := m.Gate(); g != nil && !g.mayMatch(t.s) {
		return false
	}
	ok, err := m.re.MatchRunes(t.runes())
	return err != nil || ok
}

func (m *btMatcher) String() string { return m.src }
func (m *btMatcher) Count(t *text, max int) int {
	m.spansOnce.Do(func() {
		g := m.Gate()
		m.spansOK = g != nil && countable(g.prog)
	})
	if len(t.s) >= minSpanText {
		if n, ok := m.countSpans(t, max); ok {
			return n
		}
	}
	n := 0
	mt, err := m.re.FindRunesMatch(t.runes())
	for err == nil && mt != nil && n < max {
		n++
		mt, err = m.re.FindNextMatch(mt)
	}
	return n
}

// countSpans is Count starting each search no earlier than the next of
// the gate's match spans: the gate's pattern approximates this one from
// above, so no match starts between spans. Look-arounds still see the
// whole text. ok is false when the approximation is not countable by
// spans, the gate gave up, or a search failed.
func (m *btMatcher) countSpans(t *text, max int) (n int, ok bool) {
	if !m.spansOK {
		return 0, false
	}
	spans, ok := m.Gate().matchSpans(t.s, nil)
	if !ok {
		return 0, false
	}
	rs := t.runes()
	// Spans are byte offsets; regexp2 counts runes.
	at, ri := 0, 0
	runeAt := func(b int) int {
		ri += utf8.RuneCountInString(t.s[at:b])
		at = b
		return ri
	}
	pos := 0
	for _, sp := range spans {
		a, b := runeAt(sp[0]), runeAt(sp[1])
		if pos < a {
			pos = a
		}
		for pos < b && n < max {
			mt, err := m.re.FindRunesMatchStartingAt(rs, pos)
			if err != nil || mt != nil && mt.Length == 0 {
				return 0, false
			}
			if mt == nil {
				return n, true
			}
			n++
			pos = mt.Index + mt.Length
		}
	}
	return n, true
}

// lowerPattern rewrites a case-insensitive pattern to match lower-cased
// input without folding: literals are lowered, classes were already
// folded by the parser. Patterns that switch folding off return nil.
func lowerPattern(src string) *regexp.Regexp {
	if strings.Contains(src, "(?-") || strings.Contains(src, `\p`) || strings.Contains(src, `\P`) {
		return nil
	}
	re, err := syntax.Parse(src, syntax.Perl)
	if err != nil {
		return nil
	}
	if !unfoldLits(re) {
		return nil
	}
	out, err := regexp.Compile(re.String())
	if err != nil {
		return nil
	}
	return out
}

func unfoldLits(re *syntax.Regexp) bool {
	if re.Op == syntax.OpLiteral {
		if re.Flags&syntax.FoldCase == 0 {
			for _, r := range re.Rune {
				if unicode.ToLower(r) != r || unicode.ToUpper(r) != r {
					return false // case-sensitive letter
				}
			}
		}
		for i, r := range re.Rune {
			re.Rune[i] = unicode.ToLower(r)
		}
		re.Flags &^= syntax.FoldCase
	}
	for _, s := range re.Sub {
		if !unfoldLits(s) {
			return false
		}
	}
	return true
}

// errNeedBacktrack marks Perl constructs RE2 lacks.
var errNeedBacktrack = errors.New("needs backtracking engine")

// bigPattern is the translated size above which regexp2 is preferred.
var bigPattern = 1500

// backtrackTimeout bounds one regexp2 match call. It is wall-clock time,
// so it is generous: a busy machine must not turn hits into misses. The
// DFA gate keeps regexp2 off almost every text, and the engine's
// time_limit bounds the message as a whole.
const backtrackTimeout = 100 * time.Millisecond

// CompilePerl compiles a Perl regex body with its modifier letters
// (imsx; g and o are ignored). It prefers Go's RE2 engine and falls back to
// regexp2 for look-around and back references. backtracked reports the
// fallback so the loader can count it.
func CompilePerl(pat, flags string) (m Matcher, backtracked bool, err error) {
	var f reFlags
	for _, c := range flags {
		switch c {
		case 'i':
			f.i = true
		case 'm':
			f.m = true
		case 's':
			f.s = true
		case 'x':
			f.x = true
		case 'g', 'o', 'a', 'u', 'l', 'd', 'p':
		default:
			return nil, false, fmt.Errorf("unknown regex modifier %q", c)
		}
	}
	src := "/" + pat + "/" + flags
	goSrc, terr := translatePerl(pat, f, false)
	// Huge patterns (ReplaceTags expansions) exceed RE2's backtracking
	// limit and run on its slow NFA; a backtracker rejects most start
	// positions at the first character and is much faster on them.
	var bigLits []string
	if terr == nil && len(goSrc) > bigPattern {
		terr, bigLits = errNeedBacktrack, prefilterFor(goSrc)
	}
	if terr == nil {
		re, cerr := regexp.Compile(goSrc)
		if cerr == nil {
			gm := &goMatcher{re: re, src: src, lits: prefilterFor(goSrc), lazyGate: lazyGate{goSrc: goSrc}}
			if f.i {
				if low := lowerPattern(goSrc); low != nil {
					gm.re, gm.lower = low, true
				}
			}
			return gm, false, nil
		}
	}
	btSrc, terr2 := translatePerl(pat, f, true)
	if terr2 != nil {
		return nil, false, terr2
	}
	btSrc = possessify(btSrc)
	opts := regexp2.None
	if f.i {
		opts |= regexp2.IgnoreCase
	}
	if f.m {
		opts |= regexp2.Multiline
	}
	if f.s {
		opts |= regexp2.Singleline
	}
	re, cerr := regexp2.Compile(btSrc, opts)
	if cerr != nil {
		return nil, false, fmt.Errorf("regex %s: %v", src, cerr)
	}
	re.MatchTimeout = backtrackTimeout
	approx, aerr := translatePerl(approxPerl(pat), f, false)
	if aerr != nil {
		approx = ""
	}
	lits := prefilterFor(approx)
	if lits == nil {
		lits = bigLits
	}
	joinable := !strings.ContainsAny(pat, "^$") && !strings.Contains(pat, "(?<") &&
		!strings.Contains(pat, `\A`) && !strings.Contains(pat, `\z`) && !strings.Contains(pat, `\Z`)
	return &btMatcher{re: re, src: src, lits: lits, joinable: joinable, lazyGate: lazyGate{goSrc: approx, approx: true}}, true, nil
}

type reFlags struct{ i, m, s, x bool }

// translatePerl rewrites Perl syntax into RE2 syntax (bt=false) or into
// the .NET dialect of regexp2 (bt=true).
func translatePerl(p string, f reFlags, bt bool) (string, error) {
	var b strings.Builder
	if !bt {
		var fl string
		if f.i {
			fl += "i"
		}
		if f.m {
			fl += "m"
		}
		if f.s {
			fl += "s"
		}
		if fl != "" {
			b.WriteString("(?" + fl + ")")
		}
	}
	t := translator{p: p, f: f, bt: bt, b: &b}
	if err := t.run(); err != nil {
		return "", err
	}
	return b.String(), nil
}

type translator struct {
	p     string
	i     int
	f     reFlags
	bt    bool
	b     *strings.Builder
	class bool // inside [...]
	quote bool // inside \Q...\E
}

func (t *translator) run() error {
	for t.i < len(t.p) {
		c := t.p[t.i]
		if t.quote {
			if strings.HasPrefix(t.p[t.i:], `\E`) {
				t.quote = false
				t.i += 2
				continue
			}
			t.b.WriteString(regexp.QuoteMeta(string(c)))
			t.i++
			continue
		}
		if err := t.step(c); err != nil {
			return err
		}
	}
	if t.class {
		return errors.New("unterminated character class")
	}
	return nil
}

func (t *translator) step(c byte) error {
	switch {
	case c >= 0x80:
		// Rule files are bytes, as the mail is: a raw byte stands for
		// the Latin-1 rune the text holds for it (see latin1), in a
		// class or not. Left raw, it was invalid UTF-8 to RE2 and a
		// replacement character to regexp2, and never matched.
		t.writeRune(rune(c))
		t.i++
		return nil
	case c == '\\':
		return t.escape()
	case t.class:
		if c == ']' {
			t.class = false
		}
		if c == '[' && strings.HasPrefix(t.p[t.i:], "[:") {
			if j := strings.Index(t.p[t.i:], ":]"); j > 0 {
				t.b.WriteString(t.p[t.i : t.i+j+2])
				t.i += j + 2
				return nil
			}
		}
		if c == '[' {
			t.b.WriteString(`\[`)
			t.i++
			return nil
		}
		t.b.WriteByte(c)
		t.i++
		return nil
	case t.f.x && (c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f'):
		t.i++
		return nil
	case t.f.x && c == '#':
		for t.i < len(t.p) && t.p[t.i] != '\n' {
			t.i++
		}
		return nil
	case c == '[':
		return t.openClass()
	case c == '(':
		return t.group()
	case c == '$' && !t.f.m && !t.bt:
		t.b.WriteString(`(?:\n?\z)`)
		t.i++
		return nil
	case c == '+' && t.i > 0 && isQuantEnd(t.p, t.i-1):
		// Possessive quantifier: neither engine has it; the greedy form
		// matches the same inputs in all rules we ship, just slower.
		t.i++
		return nil
	}
	t.b.WriteByte(c)
	t.i++
	return nil
}

// isQuantEnd reports whether p[i] ends a quantifier, so that a following
// '+' is possessive.
func isQuantEnd(p string, i int) bool {
	c := p[i]
	if i > 0 && p[i-1] == '\\' {
		return false
	}
	return c == '*' || c == '+' || c == '?' || c == '}'
}

func (t *translator) openClass() error {
	t.class = true
	t.b.WriteByte('[')
	t.i++
	if t.i < len(t.p) && t.p[t.i] == '^' {
		t.b.WriteByte('^')
		t.i++
	}
	if t.i < len(t.p) && t.p[t.i] == ']' {
		t.b.WriteString(`\]`)
		t.i++
	}
	return nil
}

func (t *translator) group() error {
	rest := t.p[t.i:]
	switch {
	case strings.HasPrefix(rest, "(?#"):
		j := strings.IndexByte(rest, ')')
		if j < 0 {
			return errors.New("unterminated comment")
		}
		t.i += j + 1
		return nil
	case strings.HasPrefix(rest, "(?="), strings.HasPrefix(rest, "(?!"),
		strings.HasPrefix(rest, "(?<="), strings.HasPrefix(rest, "(?<!"),
		strings.HasPrefix(rest, "(?>"):
		if !t.bt {
			return errNeedBacktrack
		}
	case strings.HasPrefix(rest, "(?'"):
		j := strings.IndexByte(rest[3:], '\'')
		if j < 0 {
			return errors.New("bad named group")
		}
		t.b.WriteString("(?P<" + rest[3:3+j] + ">")
		t.i += 4 + j
		return nil
	case strings.HasPrefix(rest, "(?^"), strings.HasPrefix(rest, "(?|"):
		return errors.New("unsupported group " + rest[:3])
	}
	t.b.WriteByte('(')
	t.i++
	return nil
}

func (t *translator) escape() error {
	if t.i+1 >= len(t.p) {
		return errors.New("trailing backslash")
	}
	c := t.p[t.i+1]
	t.i += 2
	if t.class {
		return t.classEscape(c)
	}
	switch c {
	case 'Q':
		t.quote = true
	case 'E':
	case 'Z':
		if t.bt {
			t.b.WriteString(`\Z`)
		} else {
			t.b.WriteString(`(?:\n?\z)`)
		}
	case 'G', 'K', 'X':
		return fmt.Errorf(`unsupported \%c`, c)
	case 'h':
		t.b.WriteString(`[\t ]`)
	case 'H':
		t.b.WriteString(`[^\t ]`)
	case 'v':
		t.b.WriteString(`[\n\x0B\f\r]`)
	case 'V':
		t.b.WriteString(`[^\n\x0B\f\r]`)
	case 'R':
		t.b.WriteString(`(?:\r\n|[\n\x0B\f\r])`)
	case 'N':
		t.b.WriteString(`[^\n]`)
	case '1', '2', '3', '4', '5', '6', '7', '8', '9':
		if c <= '7' && t.i+1 < len(t.p) && isOctal(t.p[t.i]) && isOctal(t.p[t.i+1]) {
			t.i--
			return t.octal() // A: three octal digits are a character
		}
		if !t.bt {
			return errNeedBacktrack
		}
		t.b.WriteByte('\\')
		t.b.WriteByte(c)
	default:
		return t.commonEscape(c)
	}
	return nil
}

func (t *translator) classEscape(c byte) error {
	switch c {
	case 'h':
		t.b.WriteString(`\t `)
	case 'v':
		t.b.WriteString(`\n\x0B\f\r`)
	case 'b':
		t.b.WriteString(`\x08`)
	case 'N', 'R', 'H', 'V':
		return fmt.Errorf(`unsupported \%c in class`, c)
	default:
		if c >= '1' && c <= '7' {
			t.i--
			return t.octal()
		}
		return t.commonEscape(c)
	}
	return nil
}

// commonEscape handles escapes with the same meaning in and out of classes.
func (t *translator) commonEscape(c byte) error {
	switch c {
	case 'd', 'D', 'w', 'W', 's', 'S', 'b', 'B', 'A', 'z', 'n', 't', 'r', 'f', 'a', 'p', 'P':
		t.b.WriteByte('\\')
		t.b.WriteByte(c)
	case 'e':
		t.b.WriteString(`\x1B`)
	case '0':
		t.i--
		return t.octal()
	case 'x':
		return t.hex()
	case 'c':
		if t.i >= len(t.p) {
			return errors.New(`bad \c`)
		}
		t.writeRune(rune(t.p[t.i]&^0x20) ^ 0x40)
		t.i++
	default:
		if isAlnum(c) {
			// Perl reads an unknown letter escape as the letter.
			t.b.WriteByte(c)
		} else if c < 0x80 {
			t.b.WriteByte('\\')
			t.b.WriteByte(c)
		} else {
			t.writeRune(rune(c))
		}
	}
	return nil
}

func (t *translator) octal() error {
	j := t.i
	for j < len(t.p) && j-t.i < 3 && t.p[j] >= '0' && t.p[j] <= '7' {
		j++
	}
	v, err := strconv.ParseUint(t.p[t.i:j], 8, 16)
	if err != nil {
		return err
	}
	t.i = j
	t.writeRune(rune(v))
	return nil
}

func (t *translator) hex() error {
	if t.i < len(t.p) && t.p[t.i] == '{' {
		j := strings.IndexByte(t.p[t.i:], '}')
		if j < 0 {
			return errors.New(`bad \x{`)
		}
		v, err := strconv.ParseUint(strings.TrimSpace(t.p[t.i+1:t.i+j]), 16, 32)
		if err != nil {
			return err
		}
		t.i += j + 1
		t.writeRune(rune(v))
		return nil
	}
	j := t.i
	for j < len(t.p) && j-t.i < 2 && isHex(t.p[j]) {
		j++
	}
	v := uint64(0)
	if j > t.i {
		v, _ = strconv.ParseUint(t.p[t.i:j], 16, 8)
	}
	t.i = j
	t.writeRune(rune(v))
	return nil
}

func (t *translator) writeRune(r rune) {
	if t.bt {
		fmt.Fprintf(t.b, `\u%04X`, r) // .NET spells code points \uXXXX
		return
	}
	fmt.Fprintf(t.b, `\x{%X}`, r)
}

func isOctal(c byte) bool { return c >= '0' && c <= '7' }

func isAlnum(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9'
}

func isHex(c byte) bool {
	return c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F'
}

// latin1 maps each byte to the rune of the same value, so non-UTF-8 mail
// bytes survive into Go strings and \xNN classes match them.
func latin1(b []byte) string {
	ascii := true
	for _, c := range b {
		if c >= 0x80 {
			ascii = false
			break
		}
	}
	if ascii {
		return string(b)
	}
	r := make([]rune, len(b))
	for i, c := range b {
		r[i] = rune(c)
	}
	return string(r)
}

// latin1s is latin1 for a string holding raw bytes.
func latin1s(s string) string {
	for i := 0; i < len(s); i++ {
		if s[i] >= 0x80 {
			return latin1([]byte(s))
		}
	}
	return s
}
