package bayes

import (
	"bytes"
	"os"
	"path/filepath"
	"sort"
	"testing"
)

// BenchmarkTokenize measures tokenizing the first 50 corpus messages.
func BenchmarkTokenize(b *testing.B) {
	files, _ := filepath.Glob(filepath.Join(corpusDir(b), "train", "spam-1", "*.eml"))
	sort.Strings(files)
	var msgs [][]byte
	for _, f := range files[:50] {
		raw, _ := os.ReadFile(f)
		msgs = append(msgs, raw)
	}
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		Tokenize(ParseMessage(msgs[i%len(msgs)]))
	}
}

// BenchmarkTokenizeHostile measures worst-case shapes: one huge word, many
// title-case sentences, many tiny MIME parts.
func BenchmarkTokenizeHostile(b *testing.B) {
	cases := map[string][]byte{
		"hugeword":  append([]byte("Subject: x\r\n\r\n"), bytes.Repeat([]byte("A"), 1<<20)...),
		"sentences": append([]byte("Subject: x\r\n\r\n"), bytes.Repeat([]byte("Ab. Cd. "), 1<<17)...),
		"parts": append([]byte("Content-Type: multipart/mixed; boundary=b\r\n\r\n"),
			bytes.Repeat([]byte("--b\r\nContent-Type: text/html\r\n\r\n<p>x</p>\r\n"), 1<<14)...),
	}
	for name, raw := range cases {
		b.Run(name, func(b *testing.B) {
			for i := 0; i < b.N; i++ {
				Tokenize(ParseMessage(raw))
			}
		})
	}
}
