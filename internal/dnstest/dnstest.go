// Package dnstest runs a local authoritative DNS server (RFC 1034/1035)
// for tests, so that lookups made through internal/dns never leave
// 127.0.0.1.
//
// The server answers for every name that was added: records of the asked
// type (chasing CNAMEs inside its data, RFC 1034 section 4.3.2), NOERROR
// with no data (and a SOA, RFC 2308) when the name exists with other types
// only, NXDOMAIN for unknown names. UDP answers larger than the client's
// buffer are truncated so the client retries over TCP.
//
//	s := dnstest.New(t)
//	s.AddTXT("_dmarc.example.org", "v=DMARC1; p=reject")
//	r, _ := dns.New(dns.Options{Servers: []string{s.Addr()}})
package dnstest

import (
	"fmt"
	"github.com/gomilter/gomilter/internal/dns"
	"net"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	mdns "github.com/miekg/dns"
)

// DefaultTTL is the TTL of records added without an explicit one.
const DefaultTTL = 300

// NegativeTTL is the SOA TTL and MINIMUM of negative answers (RFC 2308).
const NegativeTTL = 60

// Server is a local DNS server. Its methods are safe for concurrent use.
type Server struct {
	t         testing.TB // nil under Start
	addr      string
	queries   atomic.Int64
	udp, tcp  *mdns.Server
	closeOnce sync.Once

	mu       sync.RWMutex
	names    map[string]bool                 // every existing name, empty non-terminals included
	rrs      map[string]map[uint16][]mdns.RR // name -> type -> records
	timeouts map[string]bool
	rcodes   map[string]int
	delays   map[string]time.Duration
}

// New starts a server on 127.0.0.1 (UDP and TCP on the same random port)
// and stops it when the test ends. Misuse of the Add methods fails t.
func New(t testing.TB) *Server {
	t.Helper()
	s, err := Start()
	if err != nil {
		t.Fatalf("dnstest: %v", err)
	}
	s.t = t
	t.Cleanup(s.Close)
	return s
}

// Start starts a server outside of a test (examples, benchmarks' helpers).
// The caller must Close it. Misuse of the Add methods panics.
func Start() (*Server, error) {
	s := &Server{
		names:    make(map[string]bool),
		rrs:      make(map[string]map[uint16][]mdns.RR),
		timeouts: make(map[string]bool),
		rcodes:   make(map[string]int),
		delays:   make(map[string]time.Duration),
	}
	pc, l, err := listen()
	if err != nil {
		return nil, err
	}
	s.addr = pc.LocalAddr().String()
	h := mdns.HandlerFunc(s.serveDNS)
	s.udp = &mdns.Server{PacketConn: pc, Handler: h}
	s.tcp = &mdns.Server{Listener: l, Handler: h}
	// The sockets are bound already, so queries sent before the serve
	// loops start just wait in the kernel queue.
	go func() { _ = s.udp.ActivateAndServe() }()
	go func() { _ = s.tcp.ActivateAndServe() }()
	return s, nil
}

// Close stops the server. It is safe to call more than once.
func (s *Server) Close() {
	s.closeOnce.Do(func() {
		_ = s.udp.Shutdown()
		_ = s.tcp.Shutdown()
	})
}

// listen binds UDP on a random port, then TCP on the same port, retrying
// if another process holds that TCP port.
func listen() (net.PacketConn, net.Listener, error) {
	var lastErr error
	for range 20 {
		pc, err := net.ListenPacket("udp", "127.0.0.1:0")
		if err != nil {
			return nil, nil, err
		}
		l, err := net.Listen("tcp", pc.LocalAddr().String())
		if err == nil {
			return pc, l, nil
		}
		lastErr = err
		pc.Close()
	}
	return nil, nil, fmt.Errorf("no free UDP+TCP port pair: %w", lastErr)
}

// fatalf reports misuse: through t under New, by panicking under Start.
func (s *Server) fatalf(format string, args ...any) {
	if s.t != nil {
		s.t.Helper()
		s.t.Fatalf(format, args...)
		return
	}
	panic(fmt.Sprintf(format, args...))
}

// Addr returns the server address as "127.0.0.1:port".
func (s *Server) Addr() string { return s.addr }

// Queries returns how many queries the server received (dropped ones
// included), to assert caching.
func (s *Server) Queries() int { return int(s.queries.Load()) }

// fqdn returns name lower-cased with a trailing dot.
// fqdn is the key of a name a test gives as raw octets ("a b.example"):
// the presentation form miekg uses for names it unpacks from queries.
func fqdn(name string) string {
	if c, ok := dns.CanonicalName(name); ok {
		return c
	}
	return strings.ToLower(mdns.Fqdn(name))
}

// presented is the key of a name miekg unpacked (already escaped).
func presented(name string) string { return strings.ToLower(mdns.Fqdn(name)) }
