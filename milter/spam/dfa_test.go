package spam

import (
	"context"
	"regexp"
	"strings"
	"testing"
)

// A gate built from a Go pattern says what the pattern says, assertions
// included.
func TestDFAGateAgreesWithRegexp(t *testing.T) {
	texts := []string{
		"", "a", "hello world\n", "Your full name and address:\n",
		"caf\u00e9 cr\u00e8me \u00ff\u0080", "line one\nline two\n", "XXXXXXXXXXyyyy",
		strings.Repeat("ab", 500) + "c", "pay me now", "P4Y M3 N0W", "snake\u20accase",
		"payday", "x\npay\n", "name\n", "\n", "two", "yyyy\n", "\xff\xfe",
	}
	pats := []string{
		`abc`, `(?i)hello\s+WORLD`, `a(?:b|c)*c`, `[\x80-\xff]{2}`,
		`(?i)(?:your|my)\s(?:full\s)?name`, `y{4}$`, `y{4}(?:\n?\z)`, `^line two`,
		`^line`, `(?m)^two`, `(?m)two$`, `^(?:one|two)|\Aline`, `\Aab`, `\bpay\b`,
		`\Bay`, `(?:ab){100}c`, `(?s)one.*two`, `one.two`, `\x{20ac}`, `zzz`, `^$`,
		`(?m)^$`, `x*`, `\b`, `caf\b`, `\z`, `e\b`, `^\s*\S`,
	}
	for _, pat := range pats {
		re := regexp.MustCompile(pat)
		g := newDFAGate(pat)
		if g == nil {
			t.Fatalf("%s: no gate", pat)
		}
		if !g.exact {
			t.Errorf("%s: gate not exact", pat)
		}
		for _, s := range texts {
			want := re.MatchString(s)
			if got := g.mayMatch(s); got != want {
				t.Errorf("%s on %q: gate %v, regexp %v", pat, s, got, want)
			}
		}
	}
}

// Nested counts beyond RE2's limit are loosened, largest first, so the
// gate still exists and keeps the small outer count.
func TestDFAGateRelaxesLargeCounts(t *testing.T) {
	g := newDFAGate(`(?:a[-_ ]{1,500}b){3}`)
	if g == nil {
		t.Fatal("no gate")
	}
	if g.mayMatch("a_b a b") {
		t.Error("two repetitions passed a gate that keeps {3}")
	}
	if !g.mayMatch("a_ba ba" + strings.Repeat(" ", 600) + "b") {
		t.Error("a match with a long inner run was refused")
	}
}

// A cache too small for the text resets and, past dfaMaxResets, answers
// "maybe" rather than a wrong "no".
func TestDFAGateCacheBound(t *testing.T) {
	g := newDFAGate(`(?:[a-z][0-9]){1,20}QQ`)
	var b strings.Builder
	for i := 0; i < 5000; i++ {
		b.WriteByte(byte('a' + i%26))
		b.WriteByte(byte('0' + i%10))
	}
	if g.mayMatch(b.String()) {
		t.Error("no QQ in the text, gate said maybe with a roomy cache")
	}
	if !g.mayMatch(b.String() + "QQ") {
		t.Error("match missed")
	}
}

// A gate anchored at line starts restarts only there: after a newline
// for (?m)^, at the text's start only for ^.
func TestDFAGateLineAnchored(t *testing.T) {
	text := "first line\n   name\n"
	g := newDFAGate(`^(?:\s{0,5})name`)
	if !g.anchored {
		t.Fatal("not seen as anchored")
	}
	if g.mayMatch("your name here\n") {
		t.Error("a mid-line occurrence passed an anchored gate")
	}
	if g.mayMatch(text) {
		t.Error("^ without (?m) matched after a newline")
	}
	if !newDFAGate(`(?m)^(?:\s{0,5})name`).mayMatch(text) {
		t.Error("(?m)^: a match at the second line's start was refused")
	}
	if newDFAGate(`^a|b`).anchored {
		t.Error("an alternative without ^ must not anchor the gate")
	}
}

func FuzzDFAGate(f *testing.F) {
	f.Add(`(?i)ab+c`, "xxABBBCxx")
	f.Add(`^a$`, "b\na\n")
	f.Add(`(?:x{2,5}y){2}`, "xxyxxxy")
	f.Fuzz(func(t *testing.T, pat, s string) {
		re, err := regexp.Compile(pat)
		if err != nil || len(pat) > 200 || len(s) > 4096 {
			return
		}
		g := newDFAGate(pat)
		if g == nil {
			return // RE2 limits even relaxed: no gate, the engine runs
		}
		want := re.MatchString(s)
		if got := g.mayMatch(s); got != want && (g.exact || want) {
			t.Fatalf("gate (exact %v) says %v of %q in %q, regexp %v", g.exact, got, pat, s, want)
		}
	})
}

// A gate that gives up on a text (too many new states) does not know;
// a rule whose gate is exact must then ask its regex, not count a hit.
func TestGateGivingUpIsNotAHit(t *testing.T) {
	const cf = "header T_HDR_BLOWUP Subject =~ /[ab]*a[ab]{14}c/\nscore T_HDR_BLOWUP 1\n" +
		"body T_BODY_BLOWUP /x[ab]*a[ab]{14}c/\nscore T_BODY_BLOWUP 1\n"
	e, _, err := LoadConf("blowup.cf", cf, Options{})
	if err != nil {
		t.Fatal(err)
	}
	ab := func(n int, seed uint32) string {
		b := make([]byte, n)
		for i := range b {
			seed = seed*1664525 + 1013904223
			b[i] = "ab"[seed>>31]
		}
		return string(b)
	}
	subj := ab(3000, 1)
	if hit, sure := newDFAGate(`[ab]*a[ab]{14}c`).match(subj); sure {
		t.Fatalf("the gate was sure (%v): the test needs one that gives up", hit)
	}
	msg := "Subject: " + subj + "\r\n\r\nx" + ab(3000, 2) + "\r\n"
	res := e.CheckBytes(context.Background(), nil, []byte(msg))
	if len(res.Rules) != 0 {
		t.Errorf("rules hit on a text without a match: %v", res.Rules)
	}
}
