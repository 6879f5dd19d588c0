package spam

import (
	"testing"
	"time"

	"github.com/dlclark/regexp2"
)

func TestPossessify(t *testing.T) {
	cases := []struct{ in, want string }{
		{`(?:[^\n]+\n+)*Subject:`, `(?:(?>[^\n]+)\n+)*Subject:`},
		{`(?:[^\n]{1,200}\n+)*`, `(?:(?>[^\n]{1,200})\n+)*`},
		{`(?:[^\n<]{0,80}<)?`, `(?:(?>[^\n<]{0,80})<)?`},
		{`[^\s>;]+;`, `(?>[^\s>;]+);`},
		{`[^a-f]*c`, `[^a-f]*c`},       // a letter: left alone (case folding)
		{`[^\n]+\n?x`, `[^\n]+\n?x`},   // the newline may not come
		{`[^\n]+ for `, `[^\n]+ for `}, // a space is in the class
		{`[^\n]+?\n`, `[^\n]+?\n`},     // lazy
		{`[ab]+\n`, `[ab]+\n`},         // not negated
		{`(?<=[^\n]+\n)x`, `(?<=[^\n]+\n)x`},
		{`\[^\n]+\n`, `\[^\n]+\n`},
	}
	for _, c := range cases {
		if got := possessify(c.in); got != c.want {
			t.Errorf("possessify(%q) = %q, want %q", c.in, got, c.want)
		}
	}
}

// The rewrite never changes where regexp2 finds the first match.
func FuzzPossessify(f *testing.F) {
	f.Add(`(?:[^\n]+\n+)*S: ([^\n]{0,3})x`, "a\nbb\n\nS: yyx\n")
	f.Add(`([^<;]+);[^\n]+\n+\1`, "ab;cd\nab")
	f.Fuzz(func(t *testing.T, pat, s string) {
		if len(pat) > 80 || len(s) > 400 {
			return
		}
		p2 := possessify(pat)
		if p2 == pat {
			return
		}
		r1, err1 := regexp2.Compile(pat, regexp2.None)
		r2, err2 := regexp2.Compile(p2, regexp2.None)
		if err1 != nil {
			return
		}
		if err2 != nil {
			t.Fatalf("%q compiles, possessified %q does not: %v", pat, p2, err2)
		}
		r1.MatchTimeout, r2.MatchTimeout = 50*time.Millisecond, 50*time.Millisecond
		m1, e1 := r1.FindStringMatch(s)
		m2, e2 := r2.FindStringMatch(s)
		if e1 != nil || e2 != nil {
			return // a timeout says nothing
		}
		if (m1 == nil) != (m2 == nil) || m1 != nil && (m1.Index != m2.Index || m1.Length != m2.Length) {
			t.Fatalf("%q and %q disagree on %q: %v vs %v", pat, p2, s, m1, m2)
		}
	})
}
