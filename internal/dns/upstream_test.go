package dns_test

import (
	"net"
	"testing"

	mdns "github.com/miekg/dns"

	"github.com/gomilter/gomilter/internal/dns"
)

// rawServer runs a miekg server with handler h on 127.0.0.1 UDP, for
// answers dnstest never gives (a non-chasing or misbehaving server).
func rawServer(t *testing.T, h mdns.HandlerFunc) string {
	t.Helper()
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := &mdns.Server{PacketConn: pc, Handler: h}
	go func() { _ = srv.ActivateAndServe() }()
	t.Cleanup(func() { _ = srv.Shutdown() })
	return pc.LocalAddr().String()
}

func TestCNAMENotChasedByServer(t *testing.T) {
	queries := make(chan string, 10)
	addr := rawServer(t, func(w mdns.ResponseWriter, req *mdns.Msg) {
		q := req.Question[0]
		queries <- q.Name
		resp := new(mdns.Msg)
		resp.SetReply(req)
		switch q.Name {
		case "alias.example.org.":
			resp.Answer = append(resp.Answer, &mdns.CNAME{
				Hdr:    mdns.RR_Header{Name: q.Name, Rrtype: mdns.TypeCNAME, Class: mdns.ClassINET, Ttl: 60},
				Target: "target.example.net."})
		case "target.example.net.":
			resp.Answer = append(resp.Answer, &mdns.TXT{
				Hdr: mdns.RR_Header{Name: q.Name, Rrtype: mdns.TypeTXT, Class: mdns.ClassINET, Ttl: 60},
				Txt: []string{"found"}})
		}
		_ = w.WriteMsg(resp)
	})
	r, err := dns.New(dns.Options{Servers: []string{addr}})
	if err != nil {
		t.Fatal(err)
	}
	got, err := r.LookupTXT(t.Context(), "alias.example.org")
	if err != nil || len(got) != 1 || got[0] != "found" {
		t.Errorf("LookupTXT(alias) = %q, %v; want [found] via a second query", got, err)
	}
	if n := len(queries); n != 2 {
		t.Errorf("server saw %d queries, want 2", n)
	}
}

func TestWrongQuestionRejected(t *testing.T) {
	addr := rawServer(t, func(w mdns.ResponseWriter, req *mdns.Msg) {
		resp := new(mdns.Msg)
		resp.SetReply(req)
		resp.Question[0].Name = "attacker.example."
		resp.Answer = append(resp.Answer, &mdns.A{
			Hdr: mdns.RR_Header{Name: "attacker.example.", Rrtype: mdns.TypeA, Class: mdns.ClassINET, Ttl: 60},
			A:   net.IPv4(192, 0, 2, 66)})
		_ = w.WriteMsg(resp)
	})
	r, err := dns.New(dns.Options{Servers: []string{addr}, Attempts: 1})
	if err != nil {
		t.Fatal(err)
	}
	if got, err := r.LookupA(t.Context(), "victim.example.org"); !dns.IsTemporary(err) {
		t.Errorf("answer to another question accepted: %v, %v", got, err)
	}
}

func TestNoEDNSServer(t *testing.T) {
	addr := rawServer(t, func(w mdns.ResponseWriter, req *mdns.Msg) {
		resp := new(mdns.Msg)
		if req.IsEdns0() != nil {
			resp.SetRcode(req, mdns.RcodeFormatError)
		} else {
			resp.SetReply(req)
			resp.Answer = append(resp.Answer, &mdns.TXT{
				Hdr: mdns.RR_Header{Name: req.Question[0].Name, Rrtype: mdns.TypeTXT, Class: mdns.ClassINET, Ttl: 60},
				Txt: []string{"old server"}})
		}
		_ = w.WriteMsg(resp)
	})
	r, err := dns.New(dns.Options{Servers: []string{addr}, Attempts: 1})
	if err != nil {
		t.Fatal(err)
	}
	if got, err := r.LookupTXT(t.Context(), "example.org"); err != nil || len(got) != 1 {
		t.Errorf("LookupTXT via a server without EDNS0 = %q, %v", got, err)
	}
}
