package dnstest

import (
	"net"
	"strings"
	"time"

	mdns "github.com/miekg/dns"
)

// AddRR adds one record in zone-file syntax, e.g.
// "example.org. 60 IN MX 10 mx.example.org." (no TTL means 3600).
func (s *Server) AddRR(zoneLine string) {
	if s.t != nil {
		s.t.Helper()
	}
	rr, err := mdns.NewRR(zoneLine)
	if err != nil || rr == nil {
		s.fatalf("dnstest: AddRR(%q): %v", zoneLine, err)
		return
	}
	s.add(rr)
}

// AddTXT adds one TXT record per txt argument. Strings longer than 255
// bytes are split into several character-strings (RFC 7208 section 3.3).
func (s *Server) AddTXT(name string, txt ...string) {
	for _, t := range txt {
		s.add(&mdns.TXT{Hdr: s.hdr(name, mdns.TypeTXT), Txt: splitTXT(t)})
	}
}

func splitTXT(t string) []string {
	parts := []string{}
	for len(t) > 255 {
		parts = append(parts, t[:255])
		t = t[255:]
	}
	return append(parts, t)
}

// AddA adds an A record.
func (s *Server) AddA(name, ip string) {
	if s.t != nil {
		s.t.Helper()
	}
	a := net.ParseIP(ip).To4()
	if a == nil {
		s.fatalf("dnstest: AddA(%q, %q): not an IPv4 address", name, ip)
		return
	}
	s.add(&mdns.A{Hdr: s.hdr(name, mdns.TypeA), A: a})
}

// AddAAAA adds an AAAA record.
func (s *Server) AddAAAA(name, ip string) {
	if s.t != nil {
		s.t.Helper()
	}
	a := net.ParseIP(ip)
	if a == nil || a.To4() != nil {
		s.fatalf("dnstest: AddAAAA(%q, %q): not an IPv6 address", name, ip)
		return
	}
	s.add(&mdns.AAAA{Hdr: s.hdr(name, mdns.TypeAAAA), AAAA: a})
}

// AddMX adds an MX record.
func (s *Server) AddMX(name string, pref uint16, host string) {
	s.add(&mdns.MX{Hdr: s.hdr(name, mdns.TypeMX), Preference: pref, Mx: mdns.Fqdn(host)})
}

// AddPTR adds a PTR record for ip (IPv4 or IPv6) pointing to name.
func (s *Server) AddPTR(ip, name string) {
	if s.t != nil {
		s.t.Helper()
	}
	arpa, err := mdns.ReverseAddr(ip)
	if err != nil {
		s.fatalf("dnstest: AddPTR(%q): %v", ip, err)
		return
	}
	s.add(&mdns.PTR{Hdr: s.hdr(arpa, mdns.TypePTR), Ptr: mdns.Fqdn(name)})
}

// AddCNAME makes name an alias of target.
func (s *Server) AddCNAME(name, target string) {
	s.add(&mdns.CNAME{Hdr: s.hdr(name, mdns.TypeCNAME), Target: mdns.Fqdn(target)})
}

// SetTimeout makes the server drop every query for name.
func (s *Server) SetTimeout(name string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.timeouts[fqdn(name)] = true
}

// SetDelay makes the server wait d before answering queries for name
// (to test deadlines and shared in-flight queries).
func (s *Server) SetDelay(name string, d time.Duration) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.delays[fqdn(name)] = d
}

// SetRcode makes the server answer every query for name with rcode
// (e.g. dns.RcodeServerFailure) and no records.
func (s *Server) SetRcode(name string, rcode int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.rcodes[fqdn(name)] = rcode
}

func (s *Server) hdr(name string, rrtype uint16) mdns.RR_Header {
	return mdns.RR_Header{Name: fqdn(name), Rrtype: rrtype, Class: mdns.ClassINET, Ttl: DefaultTTL}
}

// add stores rr and marks its owner and every ancestor as existing, so an
// empty non-terminal answers NODATA rather than NXDOMAIN.
func (s *Server) add(rr mdns.RR) {
	h := rr.Header()
	h.Name = fqdn(h.Name)
	s.mu.Lock()
	defer s.mu.Unlock()
	byType := s.rrs[h.Name]
	if byType == nil {
		byType = make(map[uint16][]mdns.RR)
		s.rrs[h.Name] = byType
	}
	byType[h.Rrtype] = append(byType[h.Rrtype], rr)
	for n := h.Name; n != "."; {
		s.names[n] = true
		_, rest, _ := strings.Cut(n, ".")
		if rest == "" {
			break
		}
		n = rest
	}
}
