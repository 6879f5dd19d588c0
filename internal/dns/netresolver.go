package dns

import (
	"context"
	"errors"
	"net"
	"net/netip"
)

// NetResolver adapts a Resolver to the method set of *net.Resolver, for
// third-party libraries that take one (e.g. blitiri.com.ar/go/spf's
// WithResolver). Its errors are *net.DNSError, which such libraries test
// with a type assertion: IsNotFound for NXDOMAIN and no data, IsTemporary
// and IsTimeout for temporary failures.
type NetResolver struct{ R *Resolver }

// LookupTXT is Resolver.LookupTXT with net-style errors.
func (n NetResolver) LookupTXT(ctx context.Context, name string) ([]string, error) {
	txt, err := n.R.LookupTXT(ctx, name)
	return txt, netError(err, name)
}

// LookupMX is Resolver.LookupMX with net-style errors.
func (n NetResolver) LookupMX(ctx context.Context, name string) ([]*net.MX, error) {
	mx, err := n.R.LookupMX(ctx, name)
	return mx, netError(err, name)
}

// LookupIPAddr is Resolver.LookupIP returning net.IPAddr values.
func (n NetResolver) LookupIPAddr(ctx context.Context, host string) ([]net.IPAddr, error) {
	addrs, err := n.R.LookupIP(ctx, host)
	if err != nil {
		return nil, netError(err, host)
	}
	out := make([]net.IPAddr, 0, len(addrs))
	for _, a := range addrs {
		out = append(out, net.IPAddr{IP: a.AsSlice()})
	}
	return out, nil
}

// LookupAddr is Resolver.LookupAddr taking the address as a string.
func (n NetResolver) LookupAddr(ctx context.Context, addr string) ([]string, error) {
	ip, err := netip.ParseAddr(addr)
	if err != nil {
		return nil, &net.DNSError{Err: "unrecognized address", Name: addr, IsNotFound: true}
	}
	names, err := n.R.LookupAddr(ctx, ip)
	return names, netError(err, addr)
}

// netError converts one of our errors to a *net.DNSError (nil stays nil).
func netError(err error, name string) error {
	if err == nil {
		return nil
	}
	de := &net.DNSError{Err: err.Error(), Name: name}
	var e *Error
	if errors.As(err, &e) {
		de.Err = e.Kind.Error()
		if e.Cause != nil {
			de.Err += ": " + e.Cause.Error()
		}
		de.IsTimeout = e.Timeout()
	}
	de.IsNotFound = IsNotFound(err)
	de.IsTemporary = IsTemporary(err)
	return de
}
