package bayes

import (
	"os"
	"path/filepath"
	"slices"
	"testing"
)

func TestReadIgnoreHeaders(t *testing.T) {
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "a.cf"), []byte("# x\nbayes_ignore_header X-Foo\n  bayes_ignore_header Precedence\nbody X /y/\n"), 0o644)
	os.WriteFile(filepath.Join(dir, "b.cf"), []byte("bayes_ignore_header x-foo\nbayes_ignore_header\n"), 0o644)
	os.WriteFile(filepath.Join(dir, "c.txt"), []byte("bayes_ignore_header Not-Read\n"), 0o644)
	got, err := ReadIgnoreHeaders(dir, filepath.Join(dir, "missing"))
	if err != nil || !slices.Equal(got, []string{"precedence", "x-foo"}) {
		t.Fatalf("ReadIgnoreHeaders = %q, %v", got, err)
	}
	msg := ParseMessage([]byte("Precedence: bulk\r\nX-Other: kept\r\n\r\nbody\r\n"))
	c, _ := New(Options{Store: NewMemoryStore(), IgnoreHeaders: got})
	toks := c.tokenize(msg)
	if _, ok := toks[HashToken("HPrecedence:bulk")]; ok {
		t.Error("ignored header tokenized")
	}
	if _, ok := toks[HashToken("HX-Other:kept")]; !ok {
		t.Error("other header not tokenized")
	}
}
