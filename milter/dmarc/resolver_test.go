package dmarc

import (
	"context"
	"net"
	"net/netip"
	"strings"
	"sync"

	"github.com/gomilter/gomilter/internal/dns"
)

// fakeDNS is an in-memory zone: TXT records per name, names that exist
// (A), names that time out. It counts queries so tests can check how
// many lookups the walk makes.
type fakeDNS struct {
	mu      sync.Mutex
	txt     map[string][]string
	a       map[string]bool
	timeout map[string]bool
	queries []string
}

func newFake() *fakeDNS {
	return &fakeDNS{txt: map[string][]string{}, a: map[string]bool{}, timeout: map[string]bool{}}
}

func (f *fakeDNS) add(name string, txt ...string) *fakeDNS {
	f.txt[name] = append(f.txt[name], txt...)
	return f
}

func (f *fakeDNS) exists(name string) bool {
	if f.a[name] {
		return true
	}
	for k := range f.txt {
		if k == name || strings.HasSuffix(k, "."+name) {
			return true
		}
	}
	return false
}

func (f *fakeDNS) LookupTXT(_ context.Context, name string) ([]string, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.queries = append(f.queries, name)
	if f.timeout[name] {
		return nil, &dns.Error{Name: name, Type: "TXT", Kind: dns.ErrTemporary}
	}
	if t, ok := f.txt[name]; ok {
		return t, nil
	}
	if f.exists(name) {
		return nil, &dns.Error{Name: name, Type: "TXT", Kind: dns.ErrNoData}
	}
	return nil, &dns.Error{Name: name, Type: "TXT", Kind: dns.ErrNotFound}
}

func (f *fakeDNS) LookupIP(_ context.Context, name string) ([]netip.Addr, error) {
	if f.timeout[name] {
		return nil, &dns.Error{Name: name, Type: "A", Kind: dns.ErrTemporary}
	}
	if f.a[name] {
		return []netip.Addr{netip.MustParseAddr("192.0.2.1")}, nil
	}
	if f.exists(name) {
		return nil, &dns.Error{Name: name, Type: "A", Kind: dns.ErrNoData}
	}
	return nil, &dns.Error{Name: name, Type: "A", Kind: dns.ErrNotFound}
}

func (f *fakeDNS) LookupMX(_ context.Context, name string) ([]*net.MX, error) {
	return nil, &dns.Error{Name: name, Type: "MX", Kind: dns.ErrNoData}
}
