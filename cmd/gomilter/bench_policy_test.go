package main

import (
	"bytes"
	"context"
	"strings"
	"testing"

	"github.com/gomilter/gomilter/internal/dnstest"
)

// TestBenchPolicy loads an in-process SPF policy server through the bench
// client and checks the decisions: of every four senders one fails SPF.
func TestBenchPolicy(t *testing.T) {
	z := dnstest.New(t)
	for _, rr := range benchZone {
		z.AddRR(rr)
	}
	srv, l, err := newBenchPolicyServer(z.Addr(), "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go srv.Serve(l)
	defer srv.Close()
	var out, errb bytes.Buffer
	code := runBenchPolicy(context.Background(), []string{"-addr", l.Addr().String(), "-dns", z.Addr(),
		"-n", "40", "-gomilter-n", "40", "-c", "2", "-per-conn", "3"}, &out, &errb)
	if code != 0 {
		t.Fatalf("exit %d\n%s%s", code, out.String(), errb.String())
	}
	if !strings.Contains(out.String(), "results: 5xx=10 prepend=30") {
		t.Errorf("unexpected results:\n%s", out.String())
	}
}
