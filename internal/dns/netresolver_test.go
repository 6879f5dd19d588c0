package dns_test

import (
	"errors"
	"net"
	"testing"
	"time"

	"blitiri.com.ar/go/spf"

	"github.com/gomilter/gomilter/internal/dns"
	"github.com/gomilter/gomilter/internal/dnstest"
)

func TestNetResolver(t *testing.T) {
	s := dnstest.New(t)
	s.AddTXT("example.org", "v=spf1 -all")
	s.AddMX("example.org", 10, "mx.example.org")
	s.AddA("mx.example.org", "192.0.2.1")
	s.AddPTR("192.0.2.1", "mx.example.org")
	s.SetTimeout("slow.example.org")
	n := dns.NetResolver{R: newResolver(t, s, dns.Options{})}
	// A short timeout only where a timeout is wanted, so a loaded machine
	// cannot turn the other lookups into timeouts.
	fast := dns.NetResolver{R: newResolver(t, s, dns.Options{Timeout: 30 * time.Millisecond, Attempts: 1})}
	ctx := t.Context()

	if txt, err := n.LookupTXT(ctx, "example.org"); err != nil || len(txt) != 1 {
		t.Errorf("LookupTXT = %q, %v", txt, err)
	}
	if mx, err := n.LookupMX(ctx, "example.org"); err != nil || len(mx) != 1 {
		t.Errorf("LookupMX = %v, %v", mx, err)
	}
	if ips, err := n.LookupIPAddr(ctx, "mx.example.org"); err != nil || len(ips) != 1 || !ips[0].IP.Equal(net.IPv4(192, 0, 2, 1)) {
		t.Errorf("LookupIPAddr = %v, %v", ips, err)
	}
	if names, err := n.LookupAddr(ctx, "192.0.2.1"); err != nil || len(names) != 1 {
		t.Errorf("LookupAddr = %q, %v", names, err)
	}

	tests := []struct {
		name                string
		notFound, temporary bool
	}{
		{"nope.example.org", true, false},
		{"mx.example.org", true, false}, // no TXT
		{"slow.example.org", false, true},
	}
	for _, tc := range tests {
		_, err := fast.LookupTXT(ctx, tc.name)
		de, ok := err.(*net.DNSError) // libraries use a plain type assertion
		if !ok {
			t.Errorf("LookupTXT(%s) err = %T %v, want *net.DNSError", tc.name, err, err)
			continue
		}
		if de.IsNotFound != tc.notFound || de.IsTemporary != tc.temporary {
			t.Errorf("LookupTXT(%s) = %+v, want IsNotFound=%v IsTemporary=%v", tc.name, de, tc.notFound, tc.temporary)
		}
	}
	_, err := n.LookupAddr(ctx, "not-an-ip")
	if de := (*net.DNSError)(nil); !errors.As(err, &de) || !de.IsNotFound {
		t.Errorf("LookupAddr(not-an-ip) err = %v", err)
	}
}

// The adapter fits the library it exists for.
var _ spf.DNSResolver = dns.NetResolver{}
