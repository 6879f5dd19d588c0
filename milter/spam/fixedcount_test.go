package spam

import (
	"regexp"
	"testing"
)

func TestFixedSet(t *testing.T) {
	for _, c := range []struct {
		pat   string
		fixed bool
	}{
		{`e`, true},
		{`00\.? NET`, true},
		{`(?:a|ab)(?:c|bc)`, true},
		{`[a-d]x`, true},
		{`(?i)e`, false},    // folding: left to the regex
		{`\be`, false},      // an assertion
		{`e+`, false},       // unbounded
		{`x?`, false},       // may match empty
		{`[^a]`, false},     // too many runes
		{`\x{FFFD}`, false}, // stands for invalid bytes too
	} {
		if got := newFixedSet(c.pat) != nil; got != c.fixed {
			t.Errorf("%q: fixed %v, want %v", c.pat, got, c.fixed)
		}
	}
	// SA's __E_LIKE_LETTER as the rule compiles it.
	m, _, err := CompilePerl(`(?:e|\xc3[\xa8\xa9\xaa\xab]|\xc4[\x93\x95\x97\x99\x9b]|\xd1[\x90\x91\x94\xb3])`, "")
	if err != nil {
		t.Fatal(err)
	}
	gm, ok := m.(*goMatcher)
	if !ok {
		t.Fatalf("compiled to %T", m)
	}
	txt := newText(latin1s("Bébé e\xc3\xa8 here"))
	want := len(gm.re.FindAllStringIndex(txt.s, -1))
	if got := gm.Count(txt, 1000); got != want || gm.fixed == nil {
		t.Errorf("count %d (fixed %v), regexp %d", got, gm.fixed != nil, want)
	}
}

// FuzzFixedCount checks fixedSet's count against regexp's for every
// pattern it takes.
func FuzzFixedCount(f *testing.F) {
	for _, s := range [][2]string{
		{`e|\xc3[\xa8\xa9]`, "bébé e\xc3\xa8\xc3"},
		{`00\.? NET`, "100. NET 200 NET 00.NET"},
		{`(?:a|ab)(?:c|bc)`, "abc abbc ac"},
		{`ab??`, "abab a"},
		{`[a-c]x|ax`, "axbxcx\xffax"},
		{`é`, "\xc3\xa9\xe9é"},
	} {
		f.Add(s[0], s[1])
	}
	f.Fuzz(func(t *testing.T, pat, s string) {
		re, err := regexp.Compile(pat)
		if err != nil {
			return
		}
		fs := newFixedSet(pat)
		if fs == nil {
			return
		}
		for _, max := range []int{1, 3, 1000} {
			if got, want := fs.count(s, max), len(re.FindAllStringIndex(s, max)); got != want {
				t.Fatalf("%q on %q, max %d: %d, regexp %d", pat, s, max, got, want)
			}
		}
	})
}
