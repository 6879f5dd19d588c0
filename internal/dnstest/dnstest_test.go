package dnstest_test

import (
	"strings"
	"sync"
	"testing"
	"time"

	mdns "github.com/miekg/dns"

	"github.com/gomilter/gomilter/internal/dnstest"
)

// ask sends one question over network ("udp" or "tcp") with an EDNS0
// buffer of bufsize (0: no OPT record).
func ask(t *testing.T, s *dnstest.Server, network, name string, qtype uint16, bufsize uint16) *mdns.Msg {
	t.Helper()
	m := new(mdns.Msg)
	m.SetQuestion(name, qtype)
	if bufsize > 0 {
		m.SetEdns0(bufsize, false)
	}
	c := &mdns.Client{Net: network, Timeout: time.Second}
	resp, _, err := c.Exchange(m, s.Addr())
	if err != nil {
		t.Fatalf("%s %s %s: %v", network, name, mdns.TypeToString[qtype], err)
	}
	return resp
}

func TestAnswers(t *testing.T) {
	s := dnstest.New(t)
	s.AddA("Mail.Example.org.", "192.0.2.1")
	s.AddAAAA("mail.example.org", "2001:db8::1")
	s.AddMX("example.org", 10, "mail.example.org")
	s.AddPTR("192.0.2.1", "mail.example.org")
	s.AddCNAME("www.example.org", "mail.example.org")
	s.AddRR("example.org. 60 IN NS ns.example.org.")
	s.SetRcode("broken.example.org", mdns.RcodeServerFailure)

	tests := []struct {
		name    string
		qtype   uint16
		rcode   int
		answers int
		soa     bool
	}{
		{"mail.example.org.", mdns.TypeA, mdns.RcodeSuccess, 1, false},
		{"MAIL.EXAMPLE.ORG.", mdns.TypeAAAA, mdns.RcodeSuccess, 1, false},
		{"example.org.", mdns.TypeMX, mdns.RcodeSuccess, 1, false},
		{"example.org.", mdns.TypeNS, mdns.RcodeSuccess, 1, false},
		{"1.2.0.192.in-addr.arpa.", mdns.TypePTR, mdns.RcodeSuccess, 1, false},
		{"www.example.org.", mdns.TypeA, mdns.RcodeSuccess, 2, false}, // CNAME + A
		{"www.example.org.", mdns.TypeCNAME, mdns.RcodeSuccess, 1, false},
		{"mail.example.org.", mdns.TypeTXT, mdns.RcodeSuccess, 0, true}, // NODATA
		{"org.", mdns.TypeA, mdns.RcodeSuccess, 0, true},                // empty non-terminal
		{"nope.example.org.", mdns.TypeA, mdns.RcodeNameError, 0, true},
		{"broken.example.org.", mdns.TypeA, mdns.RcodeServerFailure, 0, false},
	}
	for _, tc := range tests {
		for _, network := range []string{"udp", "tcp"} {
			resp := ask(t, s, network, tc.name, tc.qtype, 1232)
			if resp.Rcode != tc.rcode || len(resp.Answer) != tc.answers || (len(resp.Ns) > 0) != tc.soa {
				t.Errorf("%s %s %s: rcode %s, %d answers, %d authority; want %s, %d, soa=%v",
					network, tc.name, mdns.TypeToString[tc.qtype], mdns.RcodeToString[resp.Rcode],
					len(resp.Answer), len(resp.Ns), mdns.RcodeToString[tc.rcode], tc.answers, tc.soa)
			}
		}
	}
}

func TestTXTSplitAndTruncation(t *testing.T) {
	s := dnstest.New(t)
	long := strings.Repeat("x", 600)
	s.AddTXT("long.example.org", long)
	resp := ask(t, s, "udp", "long.example.org.", mdns.TypeTXT, 1232)
	if resp.Truncated || len(resp.Answer) != 1 {
		t.Fatalf("600-byte TXT with a 1232 buffer: TC=%v, %d answers", resp.Truncated, len(resp.Answer))
	}
	txt := resp.Answer[0].(*mdns.TXT).Txt
	if len(txt) != 3 || len(txt[0]) != 255 || strings.Join(txt, "") != long {
		t.Errorf("600-byte TXT split into %d strings, want 255+255+90", len(txt))
	}

	for range 10 {
		s.AddTXT("big.example.org", strings.Repeat("y", 200))
	}
	if resp := ask(t, s, "udp", "big.example.org.", mdns.TypeTXT, 0); !resp.Truncated {
		t.Errorf("2 kB answer over UDP without EDNS0: TC not set")
	}
	if resp := ask(t, s, "udp", "big.example.org.", mdns.TypeTXT, 4096); resp.Truncated || len(resp.Answer) != 10 {
		t.Errorf("2 kB answer with a 4096 EDNS0 buffer: TC=%v, %d answers", resp.Truncated, len(resp.Answer))
	}
	if resp := ask(t, s, "tcp", "big.example.org.", mdns.TypeTXT, 0); resp.Truncated || len(resp.Answer) != 10 {
		t.Errorf("2 kB answer over TCP: TC=%v, %d answers", resp.Truncated, len(resp.Answer))
	}
}

func TestTimeoutAndQueries(t *testing.T) {
	s := dnstest.New(t)
	s.SetTimeout("slow.example.org")
	m := new(mdns.Msg)
	m.SetQuestion("slow.example.org.", mdns.TypeA)
	c := &mdns.Client{Timeout: 50 * time.Millisecond}
	if _, _, err := c.Exchange(m, s.Addr()); err == nil {
		t.Errorf("query for a SetTimeout name was answered")
	}
	ask(t, s, "udp", "other.example.org.", mdns.TypeA, 0)
	if n := s.Queries(); n != 2 {
		t.Errorf("Queries() = %d, want 2", n)
	}
}

func TestConcurrentAddAndQuery(t *testing.T) {
	s := dnstest.New(t)
	var wg sync.WaitGroup
	for range 4 {
		wg.Go(func() {
			for range 50 {
				s.AddTXT("race.example.org", "v")
			}
		})
		wg.Go(func() {
			for range 20 {
				c := &mdns.Client{Timeout: time.Second}
				m := new(mdns.Msg)
				m.SetQuestion("race.example.org.", mdns.TypeTXT)
				_, _, _ = c.Exchange(m, s.Addr())
			}
		})
	}
	wg.Wait()
	resp := ask(t, s, "tcp", "race.example.org.", mdns.TypeTXT, 0)
	if len(resp.Answer) != 200 {
		t.Errorf("after 200 concurrent AddTXT: %d answers", len(resp.Answer))
	}
}

func TestStartClose(t *testing.T) {
	s, err := dnstest.Start()
	if err != nil {
		t.Fatal(err)
	}
	s.AddA("x.example.org", "192.0.2.1")
	if resp := ask(t, s, "udp", "x.example.org.", mdns.TypeA, 0); len(resp.Answer) != 1 {
		t.Errorf("answer = %v", resp.Answer)
	}
	s.Close()
	s.Close()
}
