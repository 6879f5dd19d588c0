package spam

import (
	"maps"
	"os"
	"path/filepath"
	"regexp"
	"regexp/syntax"
	"slices"
	"strings"
	"testing"

	"github.com/gomilter/gomilter/internal/testenv"
)

// gateSetOf builds a set of Go patterns, failing the test on error.
func gateSetOf(t testing.TB, pats []string) *dfaGate {
	t.Helper()
	var res []*syntax.Regexp
	for _, p := range pats {
		re, _ := gateRegexp(p)
		if re == nil {
			t.Fatalf("%s: no program", p)
		}
		res = append(res, re)
	}
	g, err := newGateSet(res)
	if err != nil {
		t.Fatal(err)
	}
	return g
}

// scanEach scans lines with the set and with each pattern's own gate and
// reports every line where they disagree.
func scanEach(t testing.TB, pats []string, lines []string) {
	t.Helper()
	set := gateSetOf(t, pats)
	ends := make([]int, len(lines))
	n := 0
	for i, l := range lines {
		n += len(l)
		ends[i] = n
	}
	out := make([]uint64, len(lines)*set.words)
	if !set.scanLines(strings.Join(lines, ""), ends, out) {
		t.Fatalf("scan gave up on %d bytes", n)
	}
	for p, pat := range pats {
		g := newDFAGate(pat)
		for i, l := range lines {
			if got, want := has(out[i*set.words:], p), g.mayMatch(l); got != want {
				t.Errorf("%s on line %q: set says %v, its own gate %v", pat, l, got, want)
			}
		}
	}
}

// Each line of a set's scan says of each pattern what the pattern's own
// gate says of that line alone: anchors hold at every line start, and a
// match does not run from one line into the next.
func TestGateSetScanLinesAgreesWithGates(t *testing.T) {
	pats := []string{
		`abc`, `(?i)click here`, `^from:`, `\bpay\b`, `xy$`, `(?s)a.c`,
		`[\x80-\xff]{2}`, `(?:e|\x{e8})`, `q*`, `^(?:\s{0,3})name`, `zz\nzz`,
	}
	// More than 64 patterns: sets span several words.
	for i := 0; i < 70; i++ {
		pats = append(pats, "w"+strings.Repeat("o", i%7)+"rd"+string(rune('a'+i%26)))
	}
	lines := []string{
		"ab", "c\n", "CLICK HERE now\n", "From: me\n", "  name\n", "payday pay\n",
		"zz\nzz\n", "caf\u00e8\n", "wooordf\n", "abc from: xy", "", "a\nc",
		"wrdz wooooordb\n", "xy\n",
	}
	scanEach(t, pats, lines)
}

func FuzzGateSet(f *testing.F) {
	f.Add(`ab|^c`, `x\d+y`, "ab\ncd\n", "x12y")
	f.Add(`(?i)hello`, `^\s*$`, "HELLO\n", "  \n")
	f.Fuzz(func(t *testing.T, p1, p2, l1, l2 string) {
		if len(p1) > 100 || len(p2) > 100 || len(l1) > 1000 || len(l2) > 1000 {
			return
		}
		for _, p := range []string{p1, p2} {
			if _, err := regexp.Compile(p); err != nil {
				return
			}
			if re, _ := gateRegexp(p); re == nil {
				return
			}
		}
		scanEach(t, []string{p1, p2}, []string{latin1s(l1), latin1s(l2)})
	})
}

// hitsOf runs every rule of e's base set on raw and returns what hit,
// subrules included.
func hitsOf(e *Engine, raw []byte) map[string]float64 {
	m := newMsgState(e, nil, raw)
	m.set = e.sets[0]
	e.runRules(m)
	return m.hits
}

// With the line sets, every rule (subrules too) hits on the corpus
// exactly as when each rule scans the text on its own.
func TestLineSetsAgreeWithPerRuleScans(t *testing.T) {
	testenv.SkipShort(t, "corpus run skipped in -short mode")
	e := systemEngine(t)
	solo := *e
	solo.lineSets = nil
	files, _ := filepath.Glob(filepath.Join(corpusDir(t), "train", "*", "*.eml"))
	step := 7
	if raceEnabled {
		step = 150
	}
	checked := 0
	for i := 0; i < len(files); i += step {
		raw, err := os.ReadFile(files[i])
		if err != nil {
			t.Fatal(err)
		}
		got, want := hitsOf(e, raw), hitsOf(&solo, raw)
		if !maps.Equal(got, want) {
			var diff []string
			for n, v := range want {
				if got[n] != v {
					diff = append(diff, n)
				}
			}
			for n := range got {
				if _, ok := want[n]; !ok {
					diff = append(diff, n)
				}
			}
			slices.Sort(diff)
			t.Errorf("%s: hits differ from per-rule scans in %v", filepath.Base(files[i]), diff)
		}
		checked++
	}
	// The comparison means something only if the sets took rules in.
	members := [3]int{}
	for _, r := range e.lineSets[KindBody].rules {
		switch {
		case r.line.idx < 0:
		case !r.line.exact:
			members[0]++
		case loopFree(r.re.gatePattern()):
			members[1]++
		default:
			members[2]++
		}
	}
	if members[0] < 300 || members[1] < 20 || members[2] < 4 {
		t.Errorf("body line set members: %d by literals, %d exact, %d with loops; want most body rules in", members[0], members[1], members[2])
	}
	t.Logf("%d messages agree; body members: %d by literals, %d exact, %d with loops", checked, members[0], members[1], members[2])
}

// With the header specs' gate groups, every header rule hits on the
// corpus as when each scans a long value with its own gate.
func TestHeaderGroupsAgreeWithPerRuleGates(t *testing.T) {
	testenv.SkipShort(t, "corpus run skipped in -short mode")
	e := systemEngine(t)
	solo := *e
	solo.hdrSpecs = nil
	grouped := 0
	for _, s := range e.hdrSpecs {
		c := &hdrSpec{members: s.members}
		c.gonce.Do(func() {}) // no groups: gateSays declines
		solo.hdrSpecs = append(solo.hdrSpecs, c)
		grouped += len(s.gated)
	}
	if grouped < 100 {
		t.Fatalf("only %d header rules in gate groups", grouped)
	}
	files, _ := filepath.Glob(filepath.Join(corpusDir(t), "train", "*", "*.eml"))
	step := 5
	if raceEnabled {
		step = 150
	}
	for i := 0; i < len(files); i += step {
		raw, err := os.ReadFile(files[i])
		if err != nil {
			t.Fatal(err)
		}
		if got, want := hitsOf(e, raw), hitsOf(&solo, raw); !maps.Equal(got, want) {
			t.Errorf("%s: hits %v, with per-rule gates %v", filepath.Base(files[i]), got, want)
		}
	}
}

// Patterns with large counted repetitions stay out of gate groups, where
// their counts would multiply the states; small ones join.
func TestGroupable(t *testing.T) {
	for pat, want := range map[string]bool{
		`\nFrom: [^\n]{0,80}<`:  false,
		`(?s)^From:.{1,200}x`:   false,
		`\bA(?i:ct) N(?i:ow)\b`: true,
		`^[^>].*?<a href=`:      true,
		`x{0,16}y`:              true,
		`x{0,17}y`:              false,
	} {
		re, _ := gateRegexp(pat)
		if got := groupable(re); got != want {
			t.Errorf("groupable(%s) = %v, want %v", pat, got, want)
		}
	}
}
