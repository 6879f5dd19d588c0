package spam

import (
	"context"
	"os"
	"path/filepath"
	"testing"
)

// FuzzConf feeds arbitrary configuration text to the rule-file parser
// and engine builder; it must never panic, and a loaded engine must run.
func FuzzConf(f *testing.F) {
	f.Add(testCF)
	for _, name := range []string{"20_head_tests.cf", "25_replace.cf", "72_active.cf"} {
		if b, err := os.ReadFile(filepath.Join("/usr/share/spamassassin", name)); err == nil {
			if len(b) > 8000 {
				b = b[:8000]
			}
			f.Add(string(b))
		}
	}
	f.Add("if (version >= 3.004000) && !plugin(X)\nbody A /x/\nelse\nendif\nendif\n")
	f.Add("meta M (A + B) > 1 && !(C || D)\nscore M 1 2 3\n")
	f.Add("header H From:addr:first =~ m{^\\x{41}(?!b)\\1}i [if-unset: x]\n")
	f.Fuzz(func(t *testing.T, conf string) {
		e, _, err := LoadConf("fuzz.cf", conf, Options{})
		if err != nil {
			return
		}
		e.CheckBytes(context.Background(), nil, []byte(testMsg))
	})
}

// FuzzMessage runs the MIME walker, renderer, relay parser and a small
// rule set on arbitrary messages.
func FuzzMessage(f *testing.F) {
	f.Add([]byte(testMsg))
	f.Add([]byte("Content-Type: multipart/mixed; boundary=x\n\n--x\nContent-Type: message/rfc822\n\nSubject: in\n\nbody\n--x"))
	f.Add([]byte("Received: from a (b [1.2.3.4]) by c (Postfix) with ESMTP id 1; Mon, 1 Jan 2024 00:00:00 +0000\nContent-Transfer-Encoding: base64\n\naGVsbG8=\n"))
	files, _ := filepath.Glob("../../../shared/testsuites/corpus/train/spam-1/*.eml")
	for i, p := range files {
		if i >= 8 {
			break
		}
		if b, err := os.ReadFile(p); err == nil {
			f.Add(b)
		}
	}
	e, _, err := LoadConf("fuzz.cf", testCF+"\nbody HT eval:html_test('html')\nheader AT eval:check_all_trusted()\n", Options{})
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, raw []byte) {
		res := e.CheckBytes(context.Background(), nil, raw)
		if res == nil || len(res.Headers) == 0 {
			t.Fatal("no result headers")
		}
	})
}

// FuzzPerlRegex checks that translation never panics and that whatever
// compiles can be matched.
func FuzzPerlRegex(f *testing.F) {
	for _, s := range []string{`foo(?!bar)`, `\x{41}\101[\h\v]`, `(?i)a{2,}+b`, `[[:alpha:]]\Z`, `(a|b)\1`, `\Qa.b\E$`} {
		f.Add(s, "i")
	}
	f.Fuzz(func(t *testing.T, pat, flags string) {
		if len(flags) > 4 {
			flags = flags[:4]
		}
		m, _, err := CompilePerl(pat, flags)
		if err != nil {
			return
		}
		m.Match(newText("some text\nWITH lines \xe9"))
	})
}
