package spam

import (
	"context"
	"os"
	"path/filepath"
	"sort"
	"testing"
	"time"
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
	lat := make([]time.Duration, 0, b.N)
	for i := 0; i < b.N; i++ {
		t0 := time.Now()
		e.CheckBytes(context.Background(), nil, msgs[i%len(msgs)])
		lat = append(lat, time.Since(t0))
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "msgs/s")
	sort.Slice(lat, func(i, j int) bool { return lat[i] < lat[j] })
	b.ReportMetric(float64(lat[len(lat)/2].Microseconds())/1000, "p50-ms")
	b.ReportMetric(float64(lat[len(lat)*99/100].Microseconds())/1000, "p99-ms")
}
