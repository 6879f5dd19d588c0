package bench

import (
	"context"
	"fmt"
	"io"
	"maps"
	"slices"
	"sort"
	"sync"
	"sync/atomic"
	"time"
)

// Op is one unit of load: worker is the worker index, i the operation's
// sequence number (0..N-1). It returns the outcome label to count (e.g.
// "accept") and extra counters to bump (e.g. "headers_added").
type Op func(ctx context.Context, worker, i int) (outcome string, extra []string, err error)

// RunOptions size a run.
type RunOptions struct {
	Workers int    // concurrent workers (>= 1)
	N       int    // total operations (>= 1)
	PID     int    // daemon to sample in /proc before and after (0 = none)
	Unit    string // what one operation is, for the summary ("ops")
}

// Report is the outcome of a run.
type Report struct {
	Kind      string
	Unit      string
	N         int
	Workers   int
	Elapsed   time.Duration
	Latencies []time.Duration // one per operation, sorted
	Outcomes  map[string]int  // "error" counts failed operations
	Extra     map[string]int
	FirstErr  error
	Proc      *ProcDelta // nil without PID
}

// Run drives op N times from Workers goroutines, timing each call.
func Run(ctx context.Context, kind string, o RunOptions, op Op) (*Report, error) {
	if o.Workers < 1 || o.N < 1 {
		return nil, fmt.Errorf("bench: need workers >= 1 and n >= 1 (got %d, %d)", o.Workers, o.N)
	}
	var before ProcSample
	if o.PID > 0 {
		var err error
		if before, err = ReadProc(o.PID); err != nil {
			return nil, err
		}
	}
	if o.Unit == "" {
		o.Unit = "ops"
	}
	r := &Report{Kind: kind, Unit: o.Unit, N: o.N, Workers: o.Workers, Outcomes: map[string]int{}, Extra: map[string]int{}}
	var (
		next atomic.Int64
		mu   sync.Mutex
		wg   sync.WaitGroup
	)
	lat := make([]time.Duration, o.N)
	start := time.Now()
	for w := range o.Workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for ctx.Err() == nil {
				i := int(next.Add(1) - 1)
				if i >= o.N {
					return
				}
				t0 := time.Now()
				outcome, extra, err := op(ctx, w, i)
				lat[i] = time.Since(t0)
				mu.Lock()
				r.record(outcome, extra, err)
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	r.Elapsed = time.Since(start)
	// Every claimed index ran to the end, so the executed ones are a
	// prefix (shorter than N only after ctx was cancelled).
	r.N = min(int(next.Load()), o.N)
	r.Latencies = lat[:r.N]
	slices.Sort(r.Latencies)
	if o.PID > 0 {
		after, err := ReadProc(o.PID)
		if err != nil {
			return r, err
		}
		d := after.Sub(before)
		r.Proc = &d
	}
	return r, ctx.Err()
}

func (r *Report) record(outcome string, extra []string, err error) {
	if err != nil {
		outcome = "error"
		if r.FirstErr == nil {
			r.FirstErr = err
		}
	}
	r.Outcomes[outcome]++
	for _, e := range extra {
		r.Extra[e]++
	}
}

// Percentile returns the p-th percentile (0..100) latency, nearest rank.
func (r *Report) Percentile(p float64) time.Duration {
	if len(r.Latencies) == 0 {
		return 0
	}
	i := int(p/100*float64(len(r.Latencies))+0.5) - 1
	return r.Latencies[min(max(i, 0), len(r.Latencies)-1)]
}

// Rate is completed operations per second.
func (r *Report) Rate() float64 {
	if r.Elapsed <= 0 {
		return 0
	}
	return float64(r.N) / r.Elapsed.Seconds()
}

// Print writes the human-readable summary.
func (r *Report) Print(w io.Writer) {
	fmt.Fprintf(w, "%s: %d %s, %d workers, %.2fs, %.1f %s/s\n", r.Kind, r.N, r.Unit, r.Workers, r.Elapsed.Seconds(), r.Rate(), r.Unit)
	fmt.Fprintf(w, "latency: p50 %s  p95 %s  p99 %s  max %s\n",
		round(r.Percentile(50)), round(r.Percentile(95)), round(r.Percentile(99)), round(r.Percentile(100)))
	fmt.Fprintf(w, "results:")
	for _, k := range sortedKeys(r.Outcomes) {
		fmt.Fprintf(w, " %s=%d", k, r.Outcomes[k])
	}
	fmt.Fprintln(w)
	if len(r.Extra) > 0 {
		fmt.Fprintf(w, "extra:  ")
		for _, k := range sortedKeys(r.Extra) {
			fmt.Fprintf(w, " %s=%d", k, r.Extra[k])
		}
		fmt.Fprintln(w)
	}
	if r.Proc != nil {
		fmt.Fprintf(w, "daemon: %.3f CPU-s per 1000 %s (%.2f CPU-s total), peak RSS %d KiB\n",
			r.Proc.CPUSeconds*1000/float64(r.N), r.Unit, r.Proc.CPUSeconds, r.Proc.PeakRSSKiB)
	}
	if r.FirstErr != nil {
		fmt.Fprintf(w, "first error: %v\n", r.FirstErr)
	}
}

func round(d time.Duration) time.Duration {
	switch {
	case d > time.Second:
		return d.Round(time.Millisecond)
	case d > time.Millisecond:
		return d.Round(10 * time.Microsecond)
	}
	return d.Round(time.Microsecond)
}

func sortedKeys(m map[string]int) []string {
	keys := slices.Collect(maps.Keys(m))
	sort.Strings(keys)
	return keys
}
