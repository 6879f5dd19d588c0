package spam

import (
	"regexp"
	"strings"
	"testing"
)

// The gate must never say "no" where the pattern matches (that would lose
// a rule hit); without assertions it must agree exactly.
func TestDFAGateAgreesWithRegexp(t *testing.T) {
	texts := []string{
		"", "a", "hello world\n", "Your full name and address:\n",
		"caf\u00e9 cr\u00e8me \u00ff\u0080", "line one\nline two\n", "XXXXXXXXXXyyyy",
		strings.Repeat("ab", 500) + "c", "pay me now", "P4Y M3 N0W", "snake\u20accase",
	}
	cases := []struct {
		pat   string
		exact bool // no assertions: the gate's language is the pattern's
	}{
		{`abc`, true},
		{`(?i)hello\s+WORLD`, true},
		{`a(?:b|c)*c`, true},
		{`[\x80-\xff]{2}`, true},
		{`(?i)(?:your|my)\s(?:full\s)?name`, true},
		{`y{4}$`, false},
		{`^line two`, false},
		{`^line`, false},
		{`(?m)^two`, false},
		{`^(?:one|two)|\Aline`, false},
		{`\Aab`, false},
		{`\bpay\b`, false},
		{`(?:ab){100}c`, true},
		{`(?s)one.*two`, true},
		{`one.two`, true},
		{`\x{20ac}`, true},
		{`zzz`, true},
	}
	for _, c := range cases {
		re := regexp.MustCompile(c.pat)
		g := newDFAGate(c.pat)
		if g == nil {
			t.Fatalf("%s: no gate", c.pat)
		}
		for _, s := range texts {
			want, got := re.MatchString(s), g.mayMatch(s)
			if want && !got {
				t.Errorf("%s on %q: gate says no, regexp matches", c.pat, s)
			}
			if c.exact && got != want {
				t.Errorf("%s on %q: gate %v, regexp %v", c.pat, s, got, want)
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

// A gate anchored at line starts restarts only after newlines.
func TestDFAGateLineAnchored(t *testing.T) {
	g := newDFAGate(`^(?:\s{0,5})name`)
	if !g.anchored {
		t.Fatal("not seen as anchored")
	}
	if g.mayMatch("your name here\n") {
		t.Error("a mid-line occurrence passed an anchored gate")
	}
	if !g.mayMatch("first line\n   name\n") {
		t.Error("a match at the second line's start was refused")
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
		if re.MatchString(s) && !g.mayMatch(s) {
			t.Fatalf("gate refused a match of %q in %q", pat, s)
		}
	})
}
