package spf

import (
	"context"
	"net/netip"
	"testing"
	"time"

	"github.com/gomilter/gomilter/internal/dns"
	"github.com/gomilter/gomilter/internal/dnstest"
)

// benchZone is a typical policy: include chain, mx and a.
var benchRecords = []string{
	`example.com. TXT "v=spf1 include:_spf.example.com mx a:out.example.com -all"`,
	`_spf.example.com. TXT "v=spf1 ip4:198.51.100.0/24 ip6:2001:db8::/32 ~all"`,
	`example.com. MX 10 mx.example.com.`,
	`mx.example.com. A 203.0.113.1`,
	`out.example.com. A 203.0.113.2`,
}

// BenchmarkCheckMemory measures evaluation alone (in-memory zone).
func BenchmarkCheckMemory(b *testing.B) {
	z := &zoneServer{rrs: map[string][]mdnsRR{}, timeout: map[string]bool{}}
	for _, r := range benchRecords {
		z.add(mustRR(b, r))
	}
	c, _ := New(Options{Resolver: memResolver{z}})
	ip := netip.MustParseAddr("203.0.113.2") // matched by the last term
	b.ReportAllocs()
	for b.Loop() {
		if r := c.Check(context.Background(), ip, "h.example", "u@example.com"); r.Code != Pass {
			b.Fatal(r)
		}
	}
}

// BenchmarkCheckCachedDNS measures evaluation through internal/dns with
// a warm cache, as a long-running daemon sees it.
func BenchmarkCheckCachedDNS(b *testing.B) {
	s, err := dnstest.Start()
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	for _, r := range benchRecords {
		s.AddRR(r)
	}
	res, err := dns.New(dns.Options{Servers: []string{s.Addr()}, Timeout: time.Second})
	if err != nil {
		b.Fatal(err)
	}
	c, _ := New(Options{Resolver: res})
	ip := netip.MustParseAddr("203.0.113.2")
	b.ReportAllocs()
	for b.Loop() {
		if r := c.Check(context.Background(), ip, "h.example", "u@example.com"); r.Code != Pass {
			b.Fatal(r)
		}
	}
}
