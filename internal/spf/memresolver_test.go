package spf

import (
	"context"
	"net"
	"net/netip"
	"strconv"
	"strings"
	"testing"

	"github.com/gomilter/gomilter/internal/dns"
	mdns "github.com/miekg/dns"
)

// memResolver answers straight from a zoneServer's data, without the wire
// or internal/dns. The suite runs through both: this one isolates the SPF
// logic from the resolver (raw TXT octets, names with any characters).
type memResolver struct{ z *zoneServer }

func (m memResolver) lookup(name string, qtype uint16) ([]mdns.RR, error) {
	m.z.mu.Lock()
	defer m.z.mu.Unlock()
	// The zone keys names in miekg's escaped presentation form (see hdr).
	if pres, ok := dns.CanonicalName(name); ok {
		name = pres
	} else {
		name = strings.ToLower(mdns.Fqdn(name))
	}
	var out []mdns.RR
	for range 8 {
		next := ""
		for _, rr := range m.z.rrs[name] {
			if rr.Header().Rrtype == qtype {
				out = append(out, rr)
			} else if cn, ok := rr.(*mdns.CNAME); ok {
				next = strings.ToLower(cn.Target)
			}
		}
		if len(out) > 0 {
			return out, nil
		}
		if m.z.timeout[name] {
			return nil, &dns.Error{Name: name, Kind: dns.ErrTemporary}
		}
		if next == "" || next == name {
			break
		}
		name = next
	}
	if _, ok := m.z.rrs[name]; !ok {
		return nil, &dns.Error{Name: name, Kind: dns.ErrNotFound}
	}
	return nil, &dns.Error{Name: name, Kind: dns.ErrNoData}
}

func (m memResolver) LookupTXT(_ context.Context, name string) ([]string, error) {
	rrs, err := m.lookup(name, mdns.TypeTXT)
	var out []string
	for _, rr := range rrs {
		var b strings.Builder
		for _, s := range rr.(*mdns.TXT).Txt {
			b.WriteString(unescapeTXT(s))
		}
		out = append(out, b.String())
	}
	return out, err
}

// unescapeTXT undoes txtStrings' presentation escapes (\DDD, \c).
func unescapeTXT(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] != '\\' || i+1 >= len(s) {
			b.WriteByte(s[i])
			continue
		}
		if i+3 < len(s)+0 && isDigit(s[i+1]) {
			n, _ := strconv.Atoi(s[i+1 : i+4])
			b.WriteByte(byte(n))
			i += 3
			continue
		}
		b.WriteByte(s[i+1])
		i++
	}
	return b.String()
}

func (m memResolver) addrs(name string, qtype uint16) ([]netip.Addr, error) {
	rrs, err := m.lookup(name, qtype)
	var out []netip.Addr
	for _, rr := range rrs {
		switch x := rr.(type) {
		case *mdns.A:
			a, _ := netip.AddrFromSlice(x.A)
			out = append(out, a.Unmap())
		case *mdns.AAAA:
			a, _ := netip.AddrFromSlice(x.AAAA)
			out = append(out, a)
		}
	}
	return out, err
}

func (m memResolver) LookupA(_ context.Context, name string) ([]netip.Addr, error) {
	return m.addrs(name, mdns.TypeA)
}

func (m memResolver) LookupAAAA(_ context.Context, name string) ([]netip.Addr, error) {
	return m.addrs(name, mdns.TypeAAAA)
}

func (m memResolver) LookupMX(_ context.Context, name string) ([]*net.MX, error) {
	rrs, err := m.lookup(name, mdns.TypeMX)
	var out []*net.MX
	for _, rr := range rrs {
		mx := rr.(*mdns.MX)
		out = append(out, &net.MX{Host: mx.Mx, Pref: mx.Preference})
	}
	return out, err
}

func (m memResolver) LookupAddr(_ context.Context, ip netip.Addr) ([]string, error) {
	arpa, err := mdns.ReverseAddr(ip.String())
	if err != nil {
		return nil, &dns.Error{Name: ip.String(), Kind: dns.ErrNotFound}
	}
	rrs, err := m.lookup(arpa, mdns.TypePTR)
	var out []string
	for _, rr := range rrs {
		out = append(out, rr.(*mdns.PTR).Ptr)
	}
	return out, err
}

type mdnsRR = mdns.RR

func mustRR(tb testing.TB, s string) mdns.RR {
	tb.Helper()
	rr, err := mdns.NewRR(s)
	if err != nil {
		tb.Fatal(err)
	}
	return rr
}
