package spam

import (
	"regexp"
	"slices"
	"strings"
	"testing"
	"unicode/utf8"
)

func TestPrefilterLiterals(t *testing.T) {
	cases := []struct {
		pat  string
		want []string // nil: no literal is required
	}{
		{`c[uo]rrent\s`, []string{"corrent", "current"}},
		{`\bA(?i:ct) N(?i:ow)\b`, []string{"act now"}},
		{`\bgu[e\x{e9}\x{e8}]i\b`, []string{"guei", "gu\u00e8i", "gu\u00e9i"}},
		{`(?:foo|bar)\s+baz`, []string{"baz"}}, // as long, and one string
		{`(?i)WINNER`, []string{"winner"}},
		{`x?yz`, []string{"xyz", "yz"}},
		{`[^a]bc\d+`, []string{"bc"}},
		{`(?:ab|cd)(?:ef|gh)`, []string{"abef", "abgh", "cdef", "cdgh"}},
		{`a.*bcd`, []string{"bcd"}},
		{`\w+@\w+`, []string{"@"}},
		{`\w+`, nil},
		{`x?`, nil},
		{`(?:abc|\d+)`, nil}, // one branch has no literal
		{`[a-z]{3}`, nil},    // a range too wide to spell out
	}
	for _, c := range cases {
		got := prefilterFor(c.pat)
		if !slices.Equal(got, c.want) {
			t.Errorf("%s: literals %q, want %q", c.pat, got, c.want)
		}
	}
}

// Whatever the pattern, a text it matches holds one of its literals
// (both lower-cased): a wrong literal would lose rule hits.
func FuzzPrefilter(f *testing.F) {
	f.Add(`c[uo]rrent`, "a Current affair")
	f.Add(`\bA(?i:ct) N(?i:ow)\b`, "ACT NOW!")
	f.Add(`(?:ab|cd)?(?:ef|gh)`, "xxghxx")
	f.Fuzz(func(t *testing.T, pat, text string) {
		if len(pat) > 200 || len(text) > 2000 || !latin1Only(pat) {
			return
		}
		re, err := regexp.Compile(pat)
		if err != nil {
			return
		}
		s := latin1s(text)
		lits := prefilterFor(pat)
		if lits != nil && re.MatchString(s) && !containsAny(strings.ToLower(s), lits) {
			t.Fatalf("%q matches %q, which holds none of the literals %q", pat, s, lits)
		}
	})
}

// latin1Only reports whether s spells only runes up to U+00FF, as rule
// patterns do; beyond them case folding and lower-casing part ways
// (U+212A KELVIN SIGN folds to k).
func latin1Only(s string) bool {
	for _, r := range s {
		if r > 0xff || r == utf8.RuneError {
			return false
		}
	}
	return true
}

// A pattern too large for RE2 is parsed with its counts relaxed; the
// relaxed gate and literals must still admit every text the pattern
// matches. Dropping an exact count (x{2000} read as x) did not.
func TestRelaxedCountsStayLooser(t *testing.T) {
	pat := `a(?:bc){2000}d`
	text := "a" + strings.Repeat("bc", 2000) + "d"
	g := newDFAGate(pat)
	if g == nil || g.exact {
		t.Fatalf("gate of %s: %v, want a relaxed one", pat, g)
	}
	if !g.mayMatch(text) {
		t.Errorf("relaxed gate of %s rules out a text it matches", pat)
	}
	for _, l := range prefilterFor(pat) {
		if !strings.Contains(text, l) {
			t.Errorf("literal %q of %s is not in a text it matches", l, pat)
		}
	}
}
