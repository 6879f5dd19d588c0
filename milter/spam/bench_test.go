package spam

import (
	"context"
	"os"
	"path/filepath"
	"testing"
)

// BenchmarkCheck scores corpus messages in turn (spam and ham mixed).
func BenchmarkCheck(b *testing.B) {
	e := systemEngine(b)
	dir := corpusDir(b)
	var msgs [][]byte
	for _, g := range []string{"spam-1", "easy-ham-1", "hard-ham-1"} {
		files, _ := filepath.Glob(filepath.Join(dir, "train", g, "*.eml"))
		for i, f := range files {
			if i >= 60 {
				break
			}
			raw, err := os.ReadFile(f)
			if err != nil {
				b.Fatal(err)
			}
			msgs = append(msgs, raw)
		}
	}
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		e.CheckBytes(context.Background(), nil, msgs[i%len(msgs)])
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "msgs/s")
}
