package dns

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"slices"
	"strings"
	"time"

	mdns "github.com/miekg/dns"
	"github.com/prometheus/client_golang/prometheus"
)

// Defaults for Options.
const (
	DefaultTimeout   = 2 * time.Second
	DefaultAttempts  = 2
	DefaultCacheSize = 10000
	// EDNSBufferSize is the EDNS0 UDP payload size we advertise (the DNS
	// Flag Day 2020 value, which avoids IP fragmentation).
	EDNSBufferSize = 1232
)

// Options configures a Resolver. The zero value is usable: it reads the
// name servers from /etc/resolv.conf.
type Options struct {
	// Servers are the recursive resolvers to ask, as "host:port" with host
	// an IP address (a bare IP means port 53). They are tried in order.
	// Default: the nameserver lines of /etc/resolv.conf.
	Servers []string
	// Timeout bounds one query to one server. Default 2s.
	Timeout time.Duration
	// Attempts is how many times the whole server list is tried. Default 2.
	Attempts int
	// CacheSize is the number of cached answers: 0 means DefaultCacheSize,
	// negative disables the cache.
	CacheSize int
	// Registerer receives the gomilter_dns_* metrics; nil means none.
	Registerer prometheus.Registerer
	// Now is the clock used for cache expiry; nil means time.Now. Tests
	// inject a fake clock here; it must be safe for concurrent use.
	Now func() time.Time
}

// Resolver is a caching stub resolver. It is safe for concurrent use.
type Resolver struct {
	servers  []string
	timeout  time.Duration
	attempts int
	now      func() time.Time
	cache    *cache
	flights  flights
	metrics  *metrics
}

// New validates opts and returns a Resolver.
func New(opts Options) (*Resolver, error) {
	r := &Resolver{timeout: opts.Timeout, attempts: opts.Attempts, now: opts.Now}
	if r.timeout <= 0 {
		r.timeout = DefaultTimeout
	}
	if r.attempts <= 0 {
		r.attempts = DefaultAttempts
	}
	if r.now == nil {
		r.now = time.Now
	}
	servers := opts.Servers
	if len(servers) == 0 {
		var err error
		if servers, err = systemServers(); err != nil {
			return nil, fmt.Errorf("dns: %w", err)
		}
	}
	for _, s := range servers {
		hp, err := normalizeServer(s)
		if err != nil {
			return nil, err
		}
		r.servers = append(r.servers, hp)
	}
	if len(r.servers) == 0 {
		return nil, ErrNoServers
	}
	size := opts.CacheSize
	if size == 0 {
		size = DefaultCacheSize
	}
	r.cache = newCache(size)
	m, err := newMetrics(opts.Registerer)
	if err != nil {
		return nil, fmt.Errorf("dns: registering metrics: %w", err)
	}
	r.metrics = m
	return r, nil
}

// normalizeServer checks that s is an IP with an optional port and returns
// host:port.
func normalizeServer(s string) (string, error) {
	if a, err := netip.ParseAddr(s); err == nil {
		return net.JoinHostPort(a.String(), "53"), nil
	}
	ap, err := netip.ParseAddrPort(s)
	if err != nil || ap.Port() == 0 {
		return "", fmt.Errorf("dns: server %q: want an IP address and port", s)
	}
	return ap.String(), nil
}

// Servers returns the name servers in use, as host:port.
func (r *Resolver) Servers() []string { return slices.Clone(r.servers) }

// FlushCache drops every cached answer.
func (r *Resolver) FlushCache() { r.cache.flush() }

// Exchange sends m to the configured servers (with retries, UDP then TCP on
// truncation) and returns the first NOERROR or NXDOMAIN response, else the
// last response received. It bypasses the cache. m is not modified. The
// error, if any, wraps ErrTemporary.
func (r *Resolver) Exchange(ctx context.Context, m *mdns.Msg) (*mdns.Msg, error) {
	if len(m.Question) != 1 {
		return nil, errors.New("dns: Exchange: message must have exactly one question")
	}
	resp, err := r.exchange(ctx, m)
	if resp != nil {
		return resp, nil
	}
	q := m.Question[0]
	return nil, &Error{Name: q.Name, Type: typeName(q.Qtype), Kind: ErrTemporary, Cause: err}
}

// exchange tries every server Attempts times. It returns a definitive
// response (NOERROR or NXDOMAIN), or else the last other response and the
// last error.
func (r *Resolver) exchange(ctx context.Context, m *mdns.Msg) (*mdns.Msg, error) {
	var last *mdns.Msg
	var lastErr error
	for range r.attempts {
		for _, srv := range r.servers {
			if err := ctx.Err(); err != nil {
				return last, err
			}
			resp, err := r.exchangeOne(ctx, m, srv)
			switch {
			case err != nil:
				lastErr = err
			case resp.Rcode == mdns.RcodeSuccess || resp.Rcode == mdns.RcodeNameError:
				return resp, nil
			default:
				last, lastErr = resp, fmt.Errorf("server %s answered %s", srv, mdns.RcodeToString[resp.Rcode])
			}
		}
	}
	return last, lastErr
}

// exchangeOne asks one server over UDP, then over TCP if the answer was
// truncated.
func (r *Resolver) exchangeOne(ctx context.Context, m *mdns.Msg, srv string) (*mdns.Msg, error) {
	q := m.Copy()
	q.Id = mdns.Id()
	resp, err := r.roundTrip(ctx, "udp", q, srv)
	if err == nil && resp.Rcode == mdns.RcodeFormatError && stripEDNS(q) {
		// A server without EDNS0 support answers FORMERR: ask again
		// without the OPT record (RFC 6891 section 7).
		q.Id = mdns.Id()
		resp, err = r.roundTrip(ctx, "udp", q, srv)
	}
	if err == nil && resp.Truncated {
		q.Id = mdns.Id()
		resp, err = r.roundTrip(ctx, "tcp", q, srv)
	}
	return resp, err
}

// roundTrip sends q to srv over network and checks the reply matches q.
func (r *Resolver) roundTrip(ctx context.Context, network string, q *mdns.Msg, srv string) (*mdns.Msg, error) {
	ctx, cancel := context.WithTimeout(ctx, r.timeout)
	defer cancel()
	c := &mdns.Client{Net: network, Timeout: r.timeout, UDPSize: EDNSBufferSize}
	conn, err := c.DialContext(ctx, srv)
	if err != nil {
		return nil, err
	}
	defer conn.Close()
	// miekg only watches the deadline; closing the socket makes a
	// cancellation interrupt the read too.
	stop := context.AfterFunc(ctx, func() { conn.Close() })
	defer stop()
	resp, _, err := c.ExchangeWithConnContext(ctx, q, conn)
	if err != nil {
		if cerr := ctx.Err(); cerr != nil {
			return nil, fmt.Errorf("%w (%v)", cerr, err)
		}
		return nil, err
	}
	if !sameQuestion(q, resp) {
		return nil, fmt.Errorf("server %s answered another question", srv)
	}
	return resp, nil
}

// stripEDNS removes the OPT record from q and reports whether it had one.
func stripEDNS(q *mdns.Msg) bool {
	n := len(q.Extra)
	q.Extra = slices.DeleteFunc(q.Extra, func(rr mdns.RR) bool { return rr.Header().Rrtype == mdns.TypeOPT })
	return len(q.Extra) != n
}

func sameQuestion(q, resp *mdns.Msg) bool {
	if len(resp.Question) != 1 {
		return false
	}
	a, b := q.Question[0], resp.Question[0]
	return a.Qtype == b.Qtype && a.Qclass == b.Qclass && strings.EqualFold(a.Name, b.Name)
}
