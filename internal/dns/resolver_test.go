package dns_test

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	mdns "github.com/miekg/dns"

	"github.com/gomilter/gomilter/internal/dns"
	"github.com/gomilter/gomilter/internal/dnstest"
)

// clock is a fake clock for cache expiry.
type clock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

func newResolver(t *testing.T, s *dnstest.Server, opts dns.Options) *dns.Resolver {
	t.Helper()
	if opts.Servers == nil {
		opts.Servers = []string{s.Addr()}
	}
	if opts.Timeout == 0 {
		opts.Timeout = time.Second
	}
	r, err := dns.New(opts)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	return r
}

func TestLookupTXT(t *testing.T) {
	s := dnstest.New(t)
	long := strings.Repeat("a", 300) + strings.Repeat("b", 300)
	s.AddTXT("example.org", "v=spf1 -all", long)
	s.AddRR(`multi.example.org. 300 IN TXT "v=DKIM1; " "k=rsa; " "p=AAAA"`)
	r := newResolver(t, s, dns.Options{})
	ctx := t.Context()

	got, err := r.LookupTXT(ctx, "Example.ORG")
	if err != nil {
		t.Fatal(err)
	}
	slices.Sort(got)
	if want := []string{long, "v=spf1 -all"}; !slices.Equal(got, want) {
		t.Errorf("LookupTXT = %q, want %q", got, want)
	}
	got, err = r.LookupTXT(ctx, "multi.example.org.")
	if err != nil || len(got) != 1 || got[0] != "v=DKIM1; k=rsa; p=AAAA" {
		t.Errorf("LookupTXT(multi) = %q, %v; want one concatenated string", got, err)
	}
}

func TestLookupAddresses(t *testing.T) {
	s := dnstest.New(t)
	s.AddA("mail.example.org", "192.0.2.1")
	s.AddA("mail.example.org", "192.0.2.2")
	s.AddAAAA("mail.example.org", "2001:db8::1")
	s.AddA("v4only.example.org", "192.0.2.9")
	r := newResolver(t, s, dns.Options{})
	ctx := t.Context()

	tests := []struct {
		name   string
		lookup func(context.Context, string) ([]netip.Addr, error)
		host   string
		want   string
	}{
		{"A", r.LookupA, "mail.example.org", "[192.0.2.1 192.0.2.2]"},
		{"AAAA", r.LookupAAAA, "mail.example.org", "[2001:db8::1]"},
		{"IP", r.LookupIP, "mail.example.org", "[192.0.2.1 192.0.2.2 2001:db8::1]"},
		{"IP-v4only", r.LookupIP, "v4only.example.org", "[192.0.2.9]"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := tc.lookup(ctx, tc.host)
			if err != nil {
				t.Fatal(err)
			}
			slices.SortFunc(got, netip.Addr.Compare)
			if s := fmt.Sprint(got); s != tc.want {
				t.Errorf("Lookup%s(%q) = %s, want %s", tc.name, tc.host, s, tc.want)
			}
		})
	}
	if _, err := r.LookupIP(ctx, "nothing.example.org"); !dns.IsNXDomain(err) {
		t.Errorf("LookupIP(nonexistent) err = %v, want NXDOMAIN", err)
	}
}

func TestLookupMX(t *testing.T) {
	s := dnstest.New(t)
	s.AddMX("example.org", 20, "mx2.example.org")
	s.AddMX("example.org", 10, "mx1.example.org")
	s.AddRR("null.example.org. 300 IN MX 0 .")
	r := newResolver(t, s, dns.Options{})

	got, err := r.LookupMX(t.Context(), "example.org")
	if err != nil {
		t.Fatal(err)
	}
	want := []*net.MX{{Host: "mx1.example.org.", Pref: 10}, {Host: "mx2.example.org.", Pref: 20}}
	if !slices.EqualFunc(got, want, func(a, b *net.MX) bool { return *a == *b }) {
		t.Errorf("LookupMX = %v, want %v", got, want)
	}
	got, err = r.LookupMX(t.Context(), "null.example.org")
	if err != nil || len(got) != 1 || got[0].Host != "." {
		t.Errorf("LookupMX(null MX) = %v, %v", got, err)
	}
}

func TestLookupAddr(t *testing.T) {
	s := dnstest.New(t)
	s.AddPTR("192.0.2.1", "mail.example.org")
	s.AddPTR("2001:db8::1", "mail6.example.org.")
	r := newResolver(t, s, dns.Options{})
	for ip, want := range map[string]string{
		"192.0.2.1":          "mail.example.org.",
		"::ffff:192.0.2.1":   "mail.example.org.",
		"2001:db8::1":        "mail6.example.org.",
		"2001:0db8:0:0::0:1": "mail6.example.org.",
	} {
		got, err := r.LookupAddr(t.Context(), netip.MustParseAddr(ip))
		if err != nil || len(got) != 1 || got[0] != want {
			t.Errorf("LookupAddr(%s) = %q, %v; want [%s]", ip, got, err, want)
		}
	}
	if _, err := r.LookupAddr(t.Context(), netip.MustParseAddr("192.0.2.99")); !dns.IsNXDomain(err) {
		t.Errorf("LookupAddr(no PTR) err = %v, want NXDOMAIN", err)
	}
	if _, err := r.LookupAddr(t.Context(), netip.Addr{}); !dns.IsNotFound(err) {
		t.Errorf("LookupAddr(zero Addr) err = %v, want a permanent error", err)
	}
}

func TestCNAMEChain(t *testing.T) {
	s := dnstest.New(t)
	s.AddCNAME("www.example.org", "web.example.net")
	s.AddCNAME("web.example.net", "host.example.com")
	s.AddA("host.example.com", "192.0.2.7")
	s.AddCNAME("dangling.example.org", "gone.example.net")
	s.AddCNAME("loop1.example.org", "loop2.example.org")
	s.AddCNAME("loop2.example.org", "loop1.example.org")
	r := newResolver(t, s, dns.Options{})
	ctx := t.Context()

	got, err := r.LookupA(ctx, "www.example.org")
	if err != nil || len(got) != 1 || got[0] != netip.MustParseAddr("192.0.2.7") {
		t.Errorf("LookupA(www) = %v, %v; want [192.0.2.7]", got, err)
	}
	if _, err := r.LookupTXT(ctx, "www.example.org"); !errors.Is(err, dns.ErrNoData) {
		t.Errorf("LookupTXT(alias of A-only name) err = %v, want ErrNoData", err)
	}
	if _, err := r.LookupA(ctx, "dangling.example.org"); !dns.IsNXDomain(err) {
		t.Errorf("LookupA(dangling CNAME) err = %v, want NXDOMAIN", err)
	}
	if _, err := r.LookupA(ctx, "loop1.example.org"); err == nil {
		t.Errorf("LookupA(CNAME loop) succeeded")
	}
}

func TestErrorClasses(t *testing.T) {
	s := dnstest.New(t)
	s.AddA("a.example.org", "192.0.2.1")
	s.AddA("deep.sub.example.org", "192.0.2.1")
	s.SetTimeout("slow.example.org")
	s.SetRcode("broken.example.org", mdns.RcodeServerFailure)
	s.SetRcode("refused.example.org", mdns.RcodeRefused)
	r := newResolver(t, s, dns.Options{Attempts: 1})
	// Only the timeout case gets a short timeout: a loaded machine must not
	// turn the other answers into timeouts.
	fast := newResolver(t, s, dns.Options{Timeout: 50 * time.Millisecond, Attempts: 1})

	tests := []struct {
		name string
		want error
	}{
		{"nope.example.org", dns.ErrNotFound},
		{"a.example.org", dns.ErrNoData},                    // exists, no TXT
		{"sub.example.org", dns.ErrNoData},                  // empty non-terminal
		{"slow.example.org", dns.ErrTemporary},              // timeout
		{"broken.example.org", dns.ErrTemporary},            // SERVFAIL
		{"refused.example.org", dns.ErrTemporary},           // REFUSED
		{"bad..example.org", dns.ErrNotFound},               // invalid: never exists
		{strings.Repeat("x", 64) + ".org", dns.ErrNotFound}, // label too long
	}
	for _, tc := range tests {
		res := r
		if tc.name == "slow.example.org" {
			res = fast
		}
		_, err := res.LookupTXT(t.Context(), tc.name)
		if !errors.Is(err, tc.want) {
			t.Errorf("LookupTXT(%q) err = %v, want %v", tc.name, err, tc.want)
			continue
		}
		if !strings.Contains(err.Error(), "TXT") {
			t.Errorf("error %q does not name the query type", err)
		}
		for _, other := range []error{dns.ErrNotFound, dns.ErrNoData, dns.ErrTemporary} {
			if other != tc.want && errors.Is(err, other) {
				t.Errorf("LookupTXT(%q) err = %v is also %v", tc.name, err, other)
			}
		}
	}
	_, err := fast.LookupTXT(t.Context(), "slow.example.org")
	var de *dns.Error
	if !errors.As(err, &de) || !de.Timeout() || !de.Temporary() {
		t.Errorf("timeout error %v: want *dns.Error with Timeout() and Temporary()", err)
	}
}
