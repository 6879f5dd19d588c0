package sieve

import (
	"context"
	"math"
	"strings"
	"testing"
	"time"
)

// TestExecutedConflicts covers Pigeonhole's conflict rules against
// actions of an earlier, already executed script.
func TestExecutedConflicts(t *testing.T) {
	compile := func(src string) *Script {
		t.Helper()
		s, err := Compile([]byte(src), Options{Extensions: []string{"fileinto", "reject", "copy", "vacation"}})
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	in := &Input{Message: ParseMessage([]byte(testMsg)), Envelope: Envelope{From: "a@example.org", To: "b@example.com"}}
	run := func(scripts ...string) (*Result, error) {
		var ss []*Script
		for _, s := range scripts {
			ss = append(ss, compile(s))
		}
		return RunSequence(context.Background(), ss, in)
	}

	// In one script a reject after a delivery is a runtime error.
	_, err := run(`require ["fileinto","copy","reject"]; fileinto :copy "A"; reject "no";`)
	if err == nil || !strings.Contains(err.Error(), "tries to deliver") {
		t.Fatalf("single script: err = %v, want a conflict", err)
	}
	// After the delivery was executed by an earlier script it is allowed.
	res, err := run(`require ["fileinto","copy"]; fileinto :copy "A";`, `require "reject"; reject "no";`)
	if err != nil {
		t.Fatal(err)
	}
	if got := summary(res); got != "fileinto:A,reject:no" {
		t.Errorf("sequence = %s", got)
	}
	// A second reject after an executed one is dropped.
	r := compile(`require "reject"; reject "second";`).NewRuntime(context.Background(), in)
	first := &Result{}
	r.SetResult(first)
	if err := compile(`require "reject"; reject "first";`).NewRuntime(context.Background(), in).runInto(first); err != nil {
		t.Fatal(err)
	}
	first.MarkExecuted()
	if err := r.Exec(); err != nil {
		t.Fatal(err)
	}
	if got := summary(first); got != "reject:first" {
		t.Errorf("after executed reject = %s", got)
	}
	// A reject after an executed vacation sends no second response.
	res, err = run(`require "vacation"; vacation "away"; keep;`, `require "reject"; reject "no";`)
	if err != nil {
		t.Fatal(err)
	}
	var rej *Action
	for _, a := range res.Actions {
		if a.Kind == ActReject {
			rej = a
		}
	}
	if rej == nil || !rej.Silent {
		t.Errorf("reject after executed vacation: %+v, want a silent reject", rej)
	}
}

// runInto runs the script with res as its result.
func (r *Runtime) runInto(res *Result) error {
	r.SetResult(res)
	return r.Exec()
}

func TestDurationOfSaturates(t *testing.T) {
	if got := durationOf(3, time.Second); got != 3*time.Second {
		t.Errorf("durationOf(3s) = %v", got)
	}
	for _, n := range []uint64{1 << 40, 1<<64 - 1} {
		if got := durationOf(n, 24*time.Hour); got != math.MaxInt64 {
			t.Errorf("durationOf(%d days) = %v, want the maximum", n, got)
		}
	}
}
