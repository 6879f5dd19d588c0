package dns_test

import (
	"fmt"
	"testing"

	"github.com/gomilter/gomilter/internal/dns"
	"github.com/gomilter/gomilter/internal/dnstest"
)

func benchResolver(b *testing.B, cacheSize int) (*dns.Resolver, *dnstest.Server) {
	b.Helper()
	s := dnstest.New(b)
	s.AddTXT("example.org", "v=spf1 ip4:192.0.2.0/24 -all")
	r, err := dns.New(dns.Options{Servers: []string{s.Addr()}, CacheSize: cacheSize})
	if err != nil {
		b.Fatal(err)
	}
	return r, s
}

// BenchmarkLookupTXTCached measures the cache-hit path, run in parallel.
func BenchmarkLookupTXTCached(b *testing.B) {
	r, _ := benchResolver(b, 0)
	ctx := b.Context()
	if _, err := r.LookupTXT(ctx, "example.org"); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if _, err := r.LookupTXT(ctx, "Example.org"); err != nil {
				b.Error(err)
				return
			}
		}
	})
}

// BenchmarkLookupTXTUncached measures one UDP round trip to a local server.
func BenchmarkLookupTXTUncached(b *testing.B) {
	r, _ := benchResolver(b, -1)
	ctx := b.Context()
	b.ReportAllocs()
	for b.Loop() {
		if _, err := r.LookupTXT(ctx, "example.org"); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkCacheChurn measures lookups of many names through a small cache
// (every lookup evicts).
func BenchmarkCacheChurn(b *testing.B) {
	s := dnstest.New(b)
	const names = 64
	for i := range names {
		s.AddTXT(fmt.Sprintf("n%d.example.org", i), "x")
	}
	r, err := dns.New(dns.Options{Servers: []string{s.Addr()}, CacheSize: names / 2})
	if err != nil {
		b.Fatal(err)
	}
	ctx := b.Context()
	i := 0
	for b.Loop() {
		_, _ = r.LookupTXT(ctx, fmt.Sprintf("n%d.example.org", i%names))
		i++
	}
}
