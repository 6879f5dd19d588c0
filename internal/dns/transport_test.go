package dns_test

import (
	"context"
	"errors"
	"fmt"
	"net"
	"testing"
	"time"

	mdns "github.com/miekg/dns"

	"github.com/gomilter/gomilter/internal/dns"
	"github.com/gomilter/gomilter/internal/dnstest"
)

func TestTruncationFallsBackToTCP(t *testing.T) {
	s := dnstest.New(t)
	const n = 20 // 20 x 200 bytes does not fit the 1232-byte UDP buffer
	for i := range n {
		s.AddTXT("big.example.org", fmt.Sprintf("%03d-%0197d", i, i))
	}
	r := newResolver(t, s, dns.Options{})
	got, err := r.LookupTXT(t.Context(), "big.example.org")
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != n {
		t.Errorf("LookupTXT(big) returned %d records, want %d", len(got), n)
	}
	if q := s.Queries(); q != 2 {
		t.Errorf("server saw %d queries, want 2 (UDP truncated, then TCP)", q)
	}
}

func TestContextDeadline(t *testing.T) {
	s := dnstest.New(t)
	s.SetTimeout("slow.example.org")
	r := newResolver(t, s, dns.Options{Timeout: 5 * time.Second})
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Millisecond)
	defer cancel()
	start := time.Now()
	_, err := r.LookupTXT(ctx, "slow.example.org")
	if !errors.Is(err, dns.ErrTemporary) || !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("err = %v, want ErrTemporary wrapping context.DeadlineExceeded", err)
	}
	if d := time.Since(start); d > time.Second {
		t.Errorf("lookup took %v, ctx deadline was 30ms", d)
	}
}

func TestServerFailover(t *testing.T) {
	s := dnstest.New(t)
	s.AddTXT("example.org", "ok")
	// A bound UDP socket that never answers: the first server times out.
	dead, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer dead.Close()
	r := newResolver(t, s, dns.Options{
		Servers: []string{dead.LocalAddr().String(), s.Addr()},
		Timeout: 50 * time.Millisecond,
	})
	if got, err := r.LookupTXT(t.Context(), "example.org"); err != nil || len(got) != 1 {
		t.Errorf("LookupTXT via second server = %q, %v", got, err)
	}
}

func TestSERVFAILRetried(t *testing.T) {
	s := dnstest.New(t)
	s.SetRcode("broken.example.org", mdns.RcodeServerFailure)
	r := newResolver(t, s, dns.Options{Attempts: 3})
	if _, err := r.LookupTXT(t.Context(), "broken.example.org"); !dns.IsTemporary(err) {
		t.Fatalf("err = %v, want temporary", err)
	}
	if q := s.Queries(); q != 3 {
		t.Errorf("server saw %d queries, want 3 attempts", q)
	}
}

func TestExchange(t *testing.T) {
	s := dnstest.New(t)
	s.AddRR("example.org. 300 IN CAA 0 issue \"ca.example.net\"")
	r := newResolver(t, s, dns.Options{})
	m := new(mdns.Msg)
	m.SetQuestion("example.org.", mdns.TypeCAA)
	id := m.Id
	for range 2 {
		resp, err := r.Exchange(t.Context(), m)
		if err != nil {
			t.Fatal(err)
		}
		if len(resp.Answer) != 1 || resp.Answer[0].Header().Rrtype != mdns.TypeCAA {
			t.Errorf("Exchange answer = %v, want one CAA", resp.Answer)
		}
	}
	if q := s.Queries(); q != 2 {
		t.Errorf("Exchange is uncached: server saw %d queries, want 2", q)
	}
	if m.Id != id || m.IsEdns0() != nil {
		t.Errorf("Exchange modified the caller's message")
	}
	if _, err := r.Exchange(t.Context(), new(mdns.Msg)); err == nil {
		t.Errorf("Exchange of a message without a question succeeded")
	}
	s.SetTimeout("slow.example.org")
	fast := newResolver(t, s, dns.Options{Timeout: 30 * time.Millisecond, Attempts: 1})
	slow := new(mdns.Msg)
	slow.SetQuestion("slow.example.org.", mdns.TypeA)
	if _, err := fast.Exchange(t.Context(), slow); !dns.IsTemporary(err) {
		t.Errorf("Exchange(timeout) err = %v, want temporary", err)
	}
	nx := new(mdns.Msg)
	nx.SetQuestion("nope.example.org.", mdns.TypeA)
	if resp, err := r.Exchange(t.Context(), nx); err != nil || resp.Rcode != mdns.RcodeNameError {
		t.Errorf("Exchange(nonexistent) = %v, %v; want an NXDOMAIN response", resp, err)
	}
}

func TestNewOptions(t *testing.T) {
	tests := []struct {
		servers []string
		want    []string
		ok      bool
	}{
		{[]string{"127.0.0.1:5353"}, []string{"127.0.0.1:5353"}, true},
		{[]string{"192.0.2.1"}, []string{"192.0.2.1:53"}, true},
		{[]string{"[2001:db8::1]:53", "::1"}, []string{"[2001:db8::1]:53", "[::1]:53"}, true},
		{[]string{"dns.example.org:53"}, nil, false},
		{[]string{"127.0.0.1:0"}, nil, false},
		{[]string{"127.0.0.1:99999"}, nil, false},
	}
	for _, tc := range tests {
		r, err := dns.New(dns.Options{Servers: tc.servers})
		if (err == nil) != tc.ok {
			t.Errorf("New(%q) err = %v, want ok=%v", tc.servers, err, tc.ok)
			continue
		}
		if err == nil && fmt.Sprint(r.Servers()) != fmt.Sprint(tc.want) {
			t.Errorf("New(%q).Servers() = %q, want %q", tc.servers, r.Servers(), tc.want)
		}
	}
}
