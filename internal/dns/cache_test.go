package dns_test

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/gomilter/gomilter/internal/dns"
	"github.com/gomilter/gomilter/internal/dnstest"
)

func TestCacheHit(t *testing.T) {
	s := dnstest.New(t)
	s.AddTXT("example.org", "hello")
	r := newResolver(t, s, dns.Options{})
	for _, name := range []string{"example.org", "EXAMPLE.org.", "example.ORG"} {
		if got, err := r.LookupTXT(t.Context(), name); err != nil || len(got) != 1 {
			t.Fatalf("LookupTXT(%q) = %q, %v", name, got, err)
		}
	}
	if n := s.Queries(); n != 1 {
		t.Errorf("server saw %d queries for 3 lookups of one name, want 1", n)
	}
	r.FlushCache()
	if _, err := r.LookupTXT(t.Context(), "example.org"); err != nil {
		t.Fatal(err)
	}
	if n := s.Queries(); n != 2 {
		t.Errorf("after FlushCache server saw %d queries, want 2", n)
	}
}

func TestCacheDisabled(t *testing.T) {
	s := dnstest.New(t)
	s.AddTXT("example.org", "hello")
	r := newResolver(t, s, dns.Options{CacheSize: -1})
	for range 3 {
		if _, err := r.LookupTXT(t.Context(), "example.org"); err != nil {
			t.Fatal(err)
		}
	}
	if n := s.Queries(); n != 3 {
		t.Errorf("without cache server saw %d queries, want 3", n)
	}
}

// lookupCount does one TXT lookup of name and returns the server's query
// count afterwards.
func lookupCount(t *testing.T, r *dns.Resolver, s *dnstest.Server, name string) int {
	t.Helper()
	_, _ = r.LookupTXT(t.Context(), name)
	return s.Queries()
}

func TestTTLExpiry(t *testing.T) {
	s := dnstest.New(t)
	s.AddRR(`short.example.org. 30 IN TXT "x"`)
	s.AddCNAME("alias.example.org", "long.example.org") // CNAME TTL 300
	s.AddRR(`long.example.org. 600 IN TXT "y"`)
	s.AddRR(`zero.example.org. 0 IN TXT "z"`)
	clk := &clock{now: time.Unix(1e9, 0)}
	r := newResolver(t, s, dns.Options{Now: clk.Now})

	steps := []struct {
		advance time.Duration
		name    string
		want    int // server query count after the lookup
	}{
		{0, "short.example.org", 1},
		{29 * time.Second, "short.example.org", 1},
		{2 * time.Second, "short.example.org", 2}, // expired after 30 s
		{0, "alias.example.org", 3},
		{299 * time.Second, "alias.example.org", 3},
		{2 * time.Second, "alias.example.org", 4}, // min TTL of the chain
		{0, "zero.example.org", 5},
		{0, "zero.example.org", 6}, // TTL 0 is never cached
		{0, "missing.example.org", 7},
		{dnstest.NegativeTTL*time.Second - time.Second, "missing.example.org", 7},
		{2 * time.Second, "missing.example.org", 8}, // negative TTL from SOA
	}
	for i, st := range steps {
		clk.Advance(st.advance)
		if got := lookupCount(t, r, s, st.name); got != st.want {
			t.Errorf("step %d (%s after +%v): %d queries, want %d", i, st.name, st.advance, got, st.want)
		}
	}
}

func TestTemporaryNotCached(t *testing.T) {
	s := dnstest.New(t)
	s.SetTimeout("slow.example.org")
	r := newResolver(t, s, dns.Options{Timeout: 20 * time.Millisecond, Attempts: 1})
	lookupCount(t, r, s, "slow.example.org")
	if got := lookupCount(t, r, s, "slow.example.org"); got != 2 {
		t.Errorf("temporary failure cached: %d queries for 2 lookups, want 2", got)
	}
}

func TestCacheEviction(t *testing.T) {
	s := dnstest.New(t)
	for i := range 3 {
		s.AddTXT(fmt.Sprintf("n%d.example.org", i), "x")
	}
	r := newResolver(t, s, dns.Options{CacheSize: 2})
	lookupCount(t, r, s, "n0.example.org")
	lookupCount(t, r, s, "n1.example.org")
	lookupCount(t, r, s, "n0.example.org") // n0 becomes most recent
	lookupCount(t, r, s, "n2.example.org") // evicts n1
	if got := lookupCount(t, r, s, "n0.example.org"); got != 3 {
		t.Errorf("recently used entry evicted: %d queries, want 3", got)
	}
	if got := lookupCount(t, r, s, "n1.example.org"); got != 4 {
		t.Errorf("least recently used entry kept: %d queries, want 4", got)
	}
}

// TestConcurrent checks, under -race, that concurrent lookups are safe and
// that identical in-flight queries are sent once.
func TestConcurrent(t *testing.T) {
	s := dnstest.New(t)
	const names = 10
	for i := range names {
		s.AddTXT(fmt.Sprintf("n%d.example.org", i), fmt.Sprint(i))
	}
	r := newResolver(t, s, dns.Options{})
	var wg sync.WaitGroup
	errs := make(chan error, 200)
	for g := range 200 {
		wg.Go(func() {
			name := fmt.Sprintf("n%d.example.org", g%names)
			got, err := r.LookupTXT(context.Background(), name)
			if err == nil && (len(got) != 1 || got[0] != fmt.Sprint(g%names)) {
				err = fmt.Errorf("LookupTXT(%s) = %q", name, got)
			}
			errs <- err
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Error(err)
		}
	}
	if n := s.Queries(); n != names {
		t.Errorf("server saw %d queries for %d distinct names, want %d", n, names, names)
	}
}
