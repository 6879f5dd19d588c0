package bayes

import (
	"bytes"
	"context"
	"fmt"
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

// BenchmarkScoreBolt scores corpus messages against a bbolt database
// trained on the rest: tokenizing plus one read transaction per message.
func BenchmarkScoreBolt(b *testing.B) {
	msgs := loadCorpus(b)
	st, err := OpenBolt(filepath.Join(b.TempDir(), "b.db"), BoltOptions{NoSync: true})
	if err != nil {
		b.Fatal(err)
	}
	defer st.Close()
	ctx := context.Background()
	for i, m := range msgs {
		if i%5 != 0 {
			st.Learn(ctx, "", m.id, m.toks, m.spam, 0)
		}
	}
	c, _ := New(Options{Store: st})
	var test []*corpusMsg
	for i := range msgs {
		if i%5 == 0 {
			test = append(test, &msgs[i])
		}
	}
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, _, err := c.Score(ctx, test[i%len(test)].msg, ""); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkLearnBolt learns messages into a bbolt file with fsync per
// message, as auto-learning in the daemon does.
func BenchmarkLearnBolt(b *testing.B) {
	msgs := loadCorpus(b)
	st, err := OpenBolt(filepath.Join(b.TempDir(), "b.db"), BoltOptions{})
	if err != nil {
		b.Fatal(err)
	}
	defer st.Close()
	c, _ := New(Options{Store: st})
	ctx := context.Background()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		m := msgs[i%len(msgs)]
		if _, err := c.Learn(ctx, m.msg, m.spam, fmt.Sprint(i/len(msgs))); err != nil {
			b.Fatal(err)
		}
	}
}
