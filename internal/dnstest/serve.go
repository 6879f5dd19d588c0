package dnstest

import (
	"net"
	"time"

	mdns "github.com/miekg/dns"
)

// maxChase bounds CNAME chasing inside the server's data (loops).
const maxChase = 8

func (s *Server) serveDNS(w mdns.ResponseWriter, req *mdns.Msg) {
	s.queries.Add(1)
	resp := new(mdns.Msg)
	if len(req.Question) != 1 {
		resp.SetRcode(req, mdns.RcodeFormatError)
		_ = w.WriteMsg(resp)
		return
	}
	name := presented(req.Question[0].Name)
	resp.SetReply(req)
	resp.Authoritative = true
	resp.RecursionAvailable = true

	s.mu.RLock()
	drop := s.timeouts[name]
	rcode, forced := s.rcodes[name]
	delay := s.delays[name]
	if !drop && !forced {
		s.answer(resp, name, req.Question[0].Qtype)
	}
	s.mu.RUnlock()
	if drop {
		return
	}
	time.Sleep(delay)
	if forced {
		resp.Rcode = rcode
	}
	size := mdns.MaxMsgSize
	if _, udp := w.RemoteAddr().(*net.UDPAddr); udp {
		size = mdns.MinMsgSize
	}
	if opt := req.IsEdns0(); opt != nil {
		if _, udp := w.RemoteAddr().(*net.UDPAddr); udp {
			size = max(int(opt.UDPSize()), mdns.MinMsgSize)
		}
		resp.SetEdns0(opt.UDPSize(), false)
	}
	resp.Truncate(size)
	_ = w.WriteMsg(resp)
}

// answer fills resp for (name, qtype), chasing CNAMEs within the data.
// The caller holds s.mu for reading.
func (s *Server) answer(resp *mdns.Msg, name string, qtype uint16) {
	cur := name
	for range maxChase {
		byType := s.rrs[cur]
		if rrs := byType[qtype]; len(rrs) > 0 {
			for _, rr := range rrs {
				// Packing writes the header's Rdlength: hand out copies.
				resp.Answer = append(resp.Answer, mdns.Copy(rr))
			}
			return
		}
		cn := byType[mdns.TypeCNAME]
		if len(cn) == 0 || qtype == mdns.TypeCNAME {
			break
		}
		resp.Answer = append(resp.Answer, mdns.Copy(cn[0]))
		cur = presented(cn[0].(*mdns.CNAME).Target)
	}
	if !s.names[cur] {
		resp.Rcode = mdns.RcodeNameError
	}
	resp.Ns = append(resp.Ns, &mdns.SOA{
		Hdr:     mdns.RR_Header{Name: ".", Rrtype: mdns.TypeSOA, Class: mdns.ClassINET, Ttl: NegativeTTL},
		Ns:      "ns.dnstest.",
		Mbox:    "hostmaster.dnstest.",
		Serial:  1,
		Refresh: 3600,
		Retry:   600,
		Expire:  86400,
		Minttl:  NegativeTTL,
	})
}
