package spf

import (
	"fmt"
	"github.com/gomilter/gomilter/internal/dns"
	"net"
	"strings"
	"sync"
	"testing"

	mdns "github.com/miekg/dns"
)

// zoneServer is a tiny authoritative server for the test-suite zone data:
// it answers from an in-memory map, follows in-zone CNAMEs, puts an SOA in
// negative answers and never answers names marked TIMEOUT.
type zoneServer struct {
	mu      sync.Mutex
	rrs     map[string][]mdns.RR // owner (lower-case FQDN) -> records
	timeout map[string]bool
	addr    string
}

func newZoneServer(t testing.TB) *zoneServer {
	t.Helper()
	z := &zoneServer{rrs: map[string][]mdns.RR{}, timeout: map[string]bool{}}
	pc, l := listenBoth(t)
	z.addr = pc.LocalAddr().String()
	for _, srv := range []*mdns.Server{{PacketConn: pc, Handler: z}, {Listener: l, Handler: z}} {
		started := make(chan struct{})
		srv.NotifyStartedFunc = func() { close(started) }
		go srv.ActivateAndServe()
		<-started
		t.Cleanup(func() { srv.Shutdown() })
	}
	return z
}

// listenBoth binds UDP and TCP on the same free loopback port, so answers
// truncated over UDP can be retried over TCP.
func listenBoth(t testing.TB) (net.PacketConn, net.Listener) {
	t.Helper()
	for range 20 {
		pc, err := net.ListenPacket("udp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		l, err := net.Listen("tcp", pc.LocalAddr().String())
		if err == nil {
			return pc, l
		}
		pc.Close()
	}
	t.Fatal("no free port for UDP+TCP")
	return nil, nil
}

func (z *zoneServer) add(rr mdns.RR) {
	z.mu.Lock()
	defer z.mu.Unlock()
	k := strings.ToLower(rr.Header().Name)
	z.rrs[k] = append(z.rrs[k], rr)
}

func (z *zoneServer) setTimeout(name string) {
	z.mu.Lock()
	defer z.mu.Unlock()
	z.timeout[strings.ToLower(mdns.Fqdn(name))] = true
}

// hdr names the suite's raw owner names ("a  b.example.com") in the
// escaped presentation form miekg uses for the names it unpacks.
func hdr(name string, rrtype uint16) mdns.RR_Header {
	pres, ok := dns.CanonicalName(name)
	if !ok {
		pres = mdns.Fqdn(name)
	}
	return mdns.RR_Header{Name: pres, Rrtype: rrtype, Class: mdns.ClassINET, Ttl: 60}
}

// splitTXT cuts a string into character-strings of at most 255 octets.
func splitTXT(s string) []string {
	var out []string
	for len(s) > 255 {
		out = append(out, s[:255])
		s = s[255:]
	}
	return append(out, s)
}

func (z *zoneServer) ServeDNS(w mdns.ResponseWriter, req *mdns.Msg) {
	if len(req.Question) != 1 {
		return
	}
	q := req.Question[0]
	resp := new(mdns.Msg)
	resp.SetReply(req)
	resp.Authoritative = true
	z.mu.Lock()
	defer z.mu.Unlock()
	name := strings.ToLower(q.Name)
	for range 8 { // follow in-zone CNAMEs, bounded against loops
		next := ""
		for _, rr := range z.rrs[name] {
			if rr.Header().Rrtype == q.Qtype {
				resp.Answer = append(resp.Answer, rr)
			} else if cn, ok := rr.(*mdns.CNAME); ok {
				resp.Answer = append(resp.Answer, rr)
				next = strings.ToLower(cn.Target)
			}
		}
		if len(resp.Answer) == 0 && z.timeout[name] {
			return // never answer: the client times out
		}
		if next == "" || next == name {
			break
		}
		name = next
	}
	if len(resp.Answer) == 0 {
		if _, ok := z.rrs[name]; !ok {
			resp.Rcode = mdns.RcodeNameError
		}
		soa := &mdns.SOA{Hdr: hdr(".", mdns.TypeSOA), Ns: "ns.", Mbox: "h.", Serial: 1, Minttl: 60}
		resp.Ns = append(resp.Ns, soa)
	}
	if w.LocalAddr().Network() == "udp" {
		size := 512
		if o := req.IsEdns0(); o != nil {
			size = int(o.UDPSize())
		}
		resp.Truncate(size)
	}
	_ = w.WriteMsg(resp)
}

func (z *zoneServer) String() string { return fmt.Sprintf("zone@%s", z.addr) }
