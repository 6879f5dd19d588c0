package spf

import (
	"context"
	"net/netip"
	"testing"
)

// FuzzParseRecord: the record parser must never panic, and an accepted
// record must survive evaluation against an empty zone.
func FuzzParseRecord(f *testing.F) {
	for _, s := range []string{
		"v=spf1 -all", "v=spf1 a:foo:bar/baz.example.com", "v=spf1 mx/24//64 ~all",
		"v=spf1 include:_spf.google.com ~all", "v=spf1 exists:%{i}.%{l2r-}.user.%{d2} -all",
		"v=spf1 ip6:2001:db8::/32 ip4:192.0.2.0/24 redirect=_spf.example.com",
		"v=spf1 -all exp=msg.%{D2}", "v=spf1 a:%{a}.example.com", "v=spf1 ptr:%{d} ?all",
		"v=spf1 foo=%{l}%% bar=%_", "V=sPf1 +all",
	} {
		f.Add(s)
	}
	c, err := New(Options{Resolver: memResolver{&zoneServer{}}})
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, txt string) {
		rec, err := parseRecord(txt)
		if err != nil {
			return
		}
		e := &evaluator{c: c, ip: netip.MustParseAddr("192.0.2.1"), local: "a", senderDomain: "b.example", sender: "a@b.example", helo: "h"}
		for i := range rec.directives {
			_, _ = e.evalDirective(context.Background(), &rec.directives[i], "b.example")
		}
	})
}

// FuzzExpand: macro expansion never panics, with or without exp letters.
func FuzzExpand(f *testing.F) {
	for _, s := range []string{"%{ir}.%{v}._spf.%{d2}", "%{L1r-+}", "%{c} at %{t} by %{r}", "%%%_%-", "%{p}", "%{S}%{h9r=}"} {
		f.Add(s, true)
	}
	c, err := New(Options{Resolver: memResolver{&zoneServer{}}})
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, s string, exp bool) {
		e := &evaluator{c: c, ip: netip.MustParseAddr("2001:db8::1"), local: "a-b.c", senderDomain: "b.example", sender: "a-b.c@b.example", helo: "h"}
		_, _ = e.expand(context.Background(), s, "b.example", exp)
	})
}
