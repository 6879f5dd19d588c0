package spam

import (
	"regexp"
	"strings"
	"testing"
	"unicode/utf8"
)

var spaceRunRe = regexp.MustCompile(`\s+`)

func FuzzSqueezeSpace(f *testing.F) {
	for _, s := range []string{"", " ", "a  b", "\tfrom x\n\tby y ", "abc", "a\r\n\r\nb\f"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if got, want := squeezeSpace(s), spaceRunRe.ReplaceAllString(s, " "); got != want {
			t.Fatalf("squeezeSpace(%q) = %q, want %q", s, got, want)
		}
	})
}

// globRegexp is how the lists were matched before globMatch: the glob
// turned into an anchored regex.
func globRegexp(p string) *regexp.Regexp {
	var b strings.Builder
	b.WriteString("^")
	for _, c := range p {
		switch c {
		case '*':
			b.WriteString(".*")
		case '?':
			b.WriteString(".")
		default:
			b.WriteString(regexp.QuoteMeta(string(c)))
		}
	}
	b.WriteString("$")
	return regexp.MustCompile(b.String())
}

func TestGlobMatch(t *testing.T) {
	cases := []struct {
		p, s string
		want bool
	}{
		{"*@example.com", "joe@example.com", true},
		{"*@example.com", "joe@example.com.evil", false},
		{"*@*.paypal.com", "service@mail.paypal.com", true},
		{"*@*.paypal.com", "service@paypal.com", false},
		{"j?e@x", "joe@x", true},
		{"j?e@x", "je@x", false},
		{"j?e@x", "j\u00e9e@x", true}, // '?' is one character, not one byte
		{"a*", "a\nb", false},         // as '.': no newline
		{"**", "", true},
		{"*a*b", "xaxxab", true},
		{"abc", "abc", true},
		{"abc", "abcd", false},
	}
	for _, c := range cases {
		if got := globMatch(c.p, c.s); got != c.want {
			t.Errorf("globMatch(%q, %q) = %v, want %v", c.p, c.s, got, c.want)
		}
	}
}

func FuzzGlobMatch(f *testing.F) {
	f.Add("*@*.example.com", "a@b.example.com")
	f.Add("?*x", "\u00e9yx")
	f.Fuzz(func(t *testing.T, p, s string) {
		// On invalid UTF-8 the regex decoded every bad byte to U+FFFD,
		// so any bad byte matched any other; globMatch compares bytes.
		if len(p) > 64 || len(s) > 256 || !utf8.ValidString(p) || !utf8.ValidString(s) {
			return
		}
		if got, want := globMatch(p, s), globRegexp(p).MatchString(s); got != want {
			t.Fatalf("globMatch(%q, %q) = %v, regexp says %v", p, s, got, want)
		}
	})
}

// FuzzSqueezeRendered checks the one-pass paragraph squeeze against the
// three substitutions it stands for.
func FuzzSqueezeRendered(f *testing.F) {
	for _, s := range []string{"", "a\n\nb", "a\n \n \nb", "a \n\t\n\n  b\n", "\n\n", "x\n\v\ny", "a\x00b  \r\n c\n\n\n"} {
		f.Add(s)
	}
	paraBreak := regexp.MustCompile(`\n+[ \t\r\f\v]*\n+`)
	wsAny := regexp.MustCompile(`[ \t\n\r\f\v]+`)
	f.Fuzz(func(t *testing.T, s string) {
		want := paraBreak.ReplaceAllString(s, "\x00")
		want = wsAny.ReplaceAllString(want, " ")
		want = strings.ReplaceAll(want, "\x00", "\n")
		if got := squeezeRendered(s); got != want {
			t.Fatalf("%q: %q, want %q", s, got, want)
		}
	})
}

// FuzzSqueezeWS checks squeezeWS against the regex it replaces, on any
// bytes (HTML text pieces need not be valid UTF-8).
func FuzzSqueezeWS(f *testing.F) {
	for _, s := range []string{"", "a b", " \t\n x\u00a0\u00a0y ", "\xc2", "\xe2\xc2\xa0z", "\xc2\xa0", "no-space"} {
		f.Add(s)
	}
	wsRun := regexp.MustCompile(`(?:[ \t\n\r\f\x0b]|\x{a0})+`)
	f.Fuzz(func(t *testing.T, s string) {
		if got, want := squeezeWS(s), wsRun.ReplaceAllString(s, " "); got != want {
			t.Fatalf("%q: %q, want %q", s, got, want)
		}
	})
}

// FuzzHasSchemeColon checks that the precheck never rules out a line
// (Latin-1, as rendered lines are) in which uriScheme finds a URI.
func FuzzHasSchemeColon(f *testing.F) {
	for _, s := range []string{"see http://x.example/", "Re: 10:30", "MAILTO:a@b", "xhttps:y", "news:", "\xe9ftp:z"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		ln := latin1s(s)
		if uriScheme.MatchString(ln) && !hasSchemeColon(ln) {
			t.Fatalf("%q: uriScheme matches, precheck says no", ln)
		}
	})
}
