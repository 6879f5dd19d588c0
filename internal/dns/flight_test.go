package dns_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/gomilter/gomilter/internal/dns"
	"github.com/gomilter/gomilter/internal/dnstest"
)

// TestSharedQueryOutlivesImpatientCaller: two callers share one upstream
// query; the first gives up at its deadline, the second still gets the
// answer, and only one query was sent.
func TestSharedQueryOutlivesImpatientCaller(t *testing.T) {
	s := dnstest.New(t)
	s.AddTXT("slow.example.org", "late")
	s.SetDelay("slow.example.org", 150*time.Millisecond)
	r := newResolver(t, s, dns.Options{})

	patient := make(chan error, 1)
	go func() {
		_, err := r.LookupTXT(t.Context(), "slow.example.org")
		patient <- err
	}()
	// Wait until the patient caller's query reached the server, so the
	// impatient one joins it rather than starting its own.
	for s.Queries() == 0 {
		time.Sleep(time.Millisecond)
	}
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Millisecond)
	defer cancel()
	if _, err := r.LookupTXT(ctx, "slow.example.org"); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("impatient caller err = %v, want deadline exceeded", err)
	}
	if err := <-patient; err != nil {
		t.Errorf("patient caller err = %v", err)
	}
	if n := s.Queries(); n != 1 {
		t.Errorf("server saw %d queries, want 1 shared query", n)
	}
}

// TestAbandonedQueryCancelled: when every caller has left, the shared
// query is cancelled, and a later caller starts a fresh one.
func TestAbandonedQueryCancelled(t *testing.T) {
	s := dnstest.New(t)
	s.AddTXT("slow.example.org", "late")
	s.SetDelay("slow.example.org", 100*time.Millisecond)
	r := newResolver(t, s, dns.Options{})
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Millisecond)
	defer cancel()
	if _, err := r.LookupTXT(ctx, "slow.example.org"); !dns.IsTemporary(err) {
		t.Fatalf("err = %v, want temporary", err)
	}
	if got, err := r.LookupTXT(t.Context(), "slow.example.org"); err != nil || len(got) != 1 {
		t.Errorf("second lookup = %q, %v", got, err)
	}
	if n := s.Queries(); n != 2 {
		t.Errorf("server saw %d queries, want 2 (the abandoned one was not joined)", n)
	}
}
