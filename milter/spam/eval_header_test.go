package spam

import (
	"regexp"
	"strings"
	"testing"
)

// FuzzToInSubject checks the literal check_for_to_in_subject tests first:
// whenever the subject lacks it, the pattern must not match either, or
// the shortcut would lose hits.
func FuzzToInSubject(f *testing.F) {
	for _, s := range [][3]string{
		{"alice@example.com", "Re: alice", "user"},
		{"alice@example.com", "hello ALICE, news", "user"},
		{"Ünal@example.com", "Fw: offer ünal", "user"},
		{"bob@example.com", "for BOB@EXAMPLE.COM only", "address"},
		{"a.b+c@x.y", "about a.b+c@x.y!", "address"},
	} {
		f.Add(s[0], s[1], s[2])
	}
	f.Fuzz(func(t *testing.T, to, subject, kind string) {
		to, subject = latin1s(to), latin1s(subject)
		pat, lit := toInSubjectPattern(to, kind)
		if pat == "" {
			return
		}
		re, err := regexp.Compile(pat)
		if err != nil {
			return
		}
		if re.MatchString(subject) && !strings.Contains(strings.ToLower(subject), strings.ToLower(lit)) {
			t.Fatalf("%s of %q matches %q, which lacks %q", kind, to, subject, lit)
		}
	})
}

func TestToInSubject(t *testing.T) {
	e, _, err := LoadConf("test.cf", "", Options{Hostname: "mx.example"})
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		to, subject, kind string
		want              bool
	}{
		{"alice@example.com", "Re: alice", "user", true},
		{"alice@example.com", "alice, your invoice", "user", true},
		{"alice@example.com", "ALICE", "user", true},
		{"alice@example.com", "Your invoice, Alice!", "user", false}, // the pattern is anchored at the start
		{"alice@example.com", "malice aforethought", "user", false},
		{"alice@example.com", "meeting notes", "user", false},
		{"bob@example.com", "mail for BOB@example.com today", "address", true},
		{"bob@example.com", "mail for bob today", "address", false},
	} {
		m := newMsgState(e, nil, []byte("To: "+c.to+"\nSubject: "+c.subject+"\n\nbody\n"))
		if got := evalToInSubject(m, []string{c.kind}); got != c.want {
			t.Errorf("%s %q in %q = %v, want %v", c.kind, c.to, c.subject, got, c.want)
		}
	}
}
