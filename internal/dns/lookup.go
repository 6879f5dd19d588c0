package dns

import (
	"context"
	"errors"
	"net"
	"net/netip"
	"slices"
	"strings"

	mdns "github.com/miekg/dns"
)

// LookupTXT returns the TXT records of name, one string per record with
// the record's character-strings concatenated (as SPF, DKIM and DMARC
// require: RFC 7208 section 3.3, RFC 6376 section 3.6.2.2).
func (r *Resolver) LookupTXT(ctx context.Context, name string) ([]string, error) {
	rrs, err := r.query(ctx, name, mdns.TypeTXT)
	if err != nil {
		return nil, err
	}
	out := make([]string, 0, len(rrs))
	for _, rr := range rrs {
		var b strings.Builder
		for _, part := range rr.(*mdns.TXT).Txt {
			b.WriteString(unescapeTXT(part))
		}
		out = append(out, b.String())
	}
	return out, nil
}

// LookupA returns the IPv4 addresses of name.
func (r *Resolver) LookupA(ctx context.Context, name string) ([]netip.Addr, error) {
	rrs, err := r.query(ctx, name, mdns.TypeA)
	if err != nil {
		return nil, err
	}
	out := make([]netip.Addr, 0, len(rrs))
	for _, rr := range rrs {
		if a, ok := netip.AddrFromSlice(rr.(*mdns.A).A); ok {
			out = append(out, a.Unmap())
		}
	}
	return out, nil
}

// LookupAAAA returns the IPv6 addresses of name.
func (r *Resolver) LookupAAAA(ctx context.Context, name string) ([]netip.Addr, error) {
	rrs, err := r.query(ctx, name, mdns.TypeAAAA)
	if err != nil {
		return nil, err
	}
	out := make([]netip.Addr, 0, len(rrs))
	for _, rr := range rrs {
		if a, ok := netip.AddrFromSlice(rr.(*mdns.AAAA).AAAA); ok {
			out = append(out, a)
		}
	}
	return out, nil
}

// LookupIP returns the IPv4 then the IPv6 addresses of name, queried in
// parallel. If either query fails temporarily the result is that temporary
// error: a partial answer could turn an SPF temperror into a fail. If both
// are absent, the error is ErrNotFound when the name does not exist, else
// ErrNoData.
func (r *Resolver) LookupIP(ctx context.Context, name string) ([]netip.Addr, error) {
	var v6 []netip.Addr
	var err6 error
	done := make(chan struct{})
	go func() {
		defer close(done)
		v6, err6 = r.LookupAAAA(ctx, name)
	}()
	v4, err4 := r.LookupA(ctx, name)
	<-done
	switch {
	case IsTemporary(err4):
		return nil, err4
	case IsTemporary(err6):
		return nil, err6
	case err4 != nil && err6 != nil:
		if errors.Is(err6, ErrNotFound) {
			return nil, err6
		}
		return nil, err4
	}
	return append(v4, v6...), nil
}

// LookupMX returns the MX records of name sorted by preference. Host names
// are absolute (with the trailing dot), as in net.LookupMX; a null MX
// (RFC 7505) has Host ".".
func (r *Resolver) LookupMX(ctx context.Context, name string) ([]*net.MX, error) {
	rrs, err := r.query(ctx, name, mdns.TypeMX)
	if err != nil {
		return nil, err
	}
	out := make([]*net.MX, 0, len(rrs))
	for _, rr := range rrs {
		mx := rr.(*mdns.MX)
		out = append(out, &net.MX{Host: mx.Mx, Pref: mx.Preference})
	}
	slices.SortStableFunc(out, func(a, b *net.MX) int { return int(a.Pref) - int(b.Pref) })
	return out, nil
}

// LookupAddr returns the PTR names of ip (absolute, with the trailing dot,
// as in net.LookupAddr).
func (r *Resolver) LookupAddr(ctx context.Context, ip netip.Addr) ([]string, error) {
	if !ip.IsValid() {
		return nil, &Error{Name: "invalid IP", Type: "PTR", Kind: ErrNotFound, Cause: ErrInvalidName}
	}
	arpa, err := mdns.ReverseAddr(ip.Unmap().WithZone("").String())
	if err != nil {
		return nil, &Error{Name: ip.String(), Type: "PTR", Kind: ErrNotFound, Cause: ErrInvalidName}
	}
	rrs, err := r.query(ctx, arpa, mdns.TypePTR)
	if err != nil {
		return nil, err
	}
	out := make([]string, 0, len(rrs))
	for _, rr := range rrs {
		out = append(out, rr.(*mdns.PTR).Ptr)
	}
	return out, nil
}

// unescapeTXT turns miekg's presentation escapes (\DDD, \X) back into the
// bytes on the wire: SPF, DKIM and DMARC parse the raw record text.
func unescapeTXT(s string) string {
	if !strings.Contains(s, "\\") {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c != '\\' || i+1 >= len(s) {
			b.WriteByte(c)
			continue
		}
		if i+3 < len(s) && isDigit(s[i+1]) && isDigit(s[i+2]) && isDigit(s[i+3]) {
			v := int(s[i+1]-'0')*100 + int(s[i+2]-'0')*10 + int(s[i+3]-'0')
			if v < 256 {
				b.WriteByte(byte(v))
				i += 3
				continue
			}
		}
		b.WriteByte(s[i+1])
		i++
	}
	return b.String()
}

func isDigit(c byte) bool { return '0' <= c && c <= '9' }
