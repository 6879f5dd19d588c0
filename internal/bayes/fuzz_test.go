package bayes

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"unicode/utf8"
)

// FuzzTokenize feeds arbitrary bytes through the message parser, the MIME
// walk, the HTML renderer and the tokenizer: nothing may panic, every token
// must be non-empty and its key must be its hash.
func FuzzTokenize(f *testing.F) {
	f.Add([]byte(sampleMsg))
	f.Add([]byte("Subject: x\n\n\xe4\xb8\xad\xe6\x96\x87\xe5\xad\x97\xe4\xb8\xad\xe6\x96\x87\xe5\xad\x97 caf\xe9 www.a.b"))
	f.Add([]byte("Content-Type: multipart/mixed; boundary=x\r\n\r\n--x\r\nContent-Type: message/rfc822\r\n\r\nContent-Type: text/html\r\n\r\n<a href=http://x.y>z</a>\r\n--x--"))
	for _, g := range []string{"spam-1", "easy-ham-1"} {
		files, _ := filepath.Glob(filepath.Join(corpusDir(f), "train", g, "0000*.eml"))
		for _, p := range files {
			if raw, err := os.ReadFile(p); err == nil {
				f.Add(raw)
			}
		}
	}
	f.Fuzz(func(t *testing.T, raw []byte) {
		msg := ParseMessage(raw)
		for h, s := range Tokenize(msg) {
			if s == "" || HashToken(s) != h {
				t.Fatalf("bad token %q", s)
			}
		}
	})
}

// FuzzTokenizeLine checks the line tokenizer's invariants on any input.
func FuzzTokenizeLine(f *testing.F) {
	for _, s := range []string{"Hello World...foo", "FREE!!! bob@x.example.com", "\xf0\x9f\x98\x80\xf0\x9f\x98\x80\xf0\x9f\x98\x80\xf0\x9f\x98\x80x", "a--b---c"} {
		f.Add(s, 1)
	}
	f.Fuzz(func(t *testing.T, line string, region int) {
		region = ((region % 3) + 3) % 3
		for _, tok := range tokenizeLine(line, "H:", region) {
			if len(tok) <= len("H:") && region == regionHeader {
				t.Fatalf("empty header token from %q", line)
			}
		}
		_ = utf8.ValidString(line)
	})
}

// squeezeParagraphs does in one pass what the two regexes it replaced did.
func FuzzSqueezeParagraphs(f *testing.F) {
	for _, s := range []string{"", "a\n\nb", " a \n \n\t b ", "x\n \n \ny", "a\x00b", "\n", "\n\n", " \n\r\n \f"} {
		f.Add(s)
	}
	para, space := regexp.MustCompile(`\n+\s*\n+`), regexp.MustCompile(`\s+`)
	f.Fuzz(func(t *testing.T, s string) {
		want := strings.ReplaceAll(space.ReplaceAllString(para.ReplaceAllString(s, "\x00"), " "), "\x00", "\n")
		if got := squeezeParagraphs(s); got != want {
			t.Fatalf("squeezeParagraphs(%q) = %q, want %q", s, got, want)
		}
	})
}
