package spam

import "testing"

// FuzzCountSpans checks that counting a rule's matches only in the spans
// its gate finds (goMatcher.countSpans; btMatcher.countSpans, whose gate
// approximates the pattern) gives the count of the whole text.
func FuzzCountSpans(f *testing.F) {
	for _, s := range [][3]string{
		{`^[^>].*?<a href=`, "im", "x\n\n<A HREF=1>\n>no <a href=\nyes <a href= <a href=\n"},
		{`\bpay\b`, "", "pay\npayday\n pay pay\n\npay"},
		{`e\s+x`, "", "e\nx e  x\n\nex e\n\nx"},
		{`(?:ab)+$`, "m", "abab\nab\nxab\n"},
		{`\d{3}`, "", "1234567\n12\n345"},
		{`x*`, "", "xx\nx"},
		{`\Aa`, "", "a\na"},
		{`(?<=\n)ab(?=c)`, "", "abc\nabc\n\nxabc\nab"},
		{`^(?!x)\w+-(\w)\1$`, "m", "ab-cc\nxb-dd\n\nzz-ee"},
	} {
		f.Add(s[0], s[1], s[2])
	}
	f.Fuzz(func(t *testing.T, pat, flags, s string) {
		for _, c := range flags {
			if c != 'i' && c != 'm' && c != 's' {
				return
			}
		}
		mt, _, err := CompilePerl(pat, flags)
		if err != nil {
			return
		}
		mt.Count(newText(""), 1) // sets spansOK
		txt := newText(latin1s(s))
		var want int
		var spans func(*text, int) (int, bool)
		switch m := mt.(type) {
		case *goMatcher:
			want, spans = len(m.re.FindAllStringIndex(m.subject(txt), -1)), m.countSpans
		case *btMatcher:
			for mm, err := m.re.FindRunesMatch(txt.runes()); mm != nil; mm, err = m.re.FindNextMatch(mm) {
				if err != nil {
					return
				}
				want++
			}
			spans = m.countSpans
		default:
			return
		}
		for _, max := range []int{1, 2, 1000} {
			got, ok := spans(txt, max)
			if !ok {
				return
			}
			if w := min(want, max); got != w {
				t.Fatalf("/%s/%s on %q, max %d: spans count %d, whole text %d", pat, flags, s, max, got, w)
			}
		}
	})
}

// The spans path is taken for the rules it is meant for, and declined
// where a span's edges would change the answer.
func TestCountable(t *testing.T) {
	for _, c := range []struct {
		pat, flags string
		want       bool
	}{
		{`^[^>].*?<a href=`, "im", true},
		{`\bContent-[XYZ]-[a-z]{6,15}:\s+[a-z]{6,15}\b`, "", true},
		{`x*`, "", false},    // matches the empty string
		{`\Aabc`, "", false}, // the text's start
		{`abc\z`, "", false}, // the text's end
		{`^abc`, "", false},  // without /m, ^ is the text's start
		// Backtracking patterns: by their RE2 approximation.
		{`(?<=\n)ab(?=c)`, "", true},
		{`^(?!x)\w+-(\w)\1$`, "m", true},
		{`(?=a)`, "", false},
	} {
		mt, _, err := CompilePerl(c.pat, c.flags)
		if err != nil {
			t.Fatal(err)
		}
		mt.Count(newText(""), 1)
		var got bool
		switch m := mt.(type) {
		case *goMatcher:
			got = m.spansOK
		case *btMatcher:
			got = m.spansOK
		}
		if got != c.want {
			t.Errorf("/%s/%s countable = %v, want %v", c.pat, c.flags, got, c.want)
		}
	}
}
