package spf

import (
	"context"
	"net/netip"
	"strings"
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

// FuzzCheck runs whole evaluations with arbitrary identities against a
// zone whose records feed them into macros, exists, exp= and ptr, so
// hostile MAIL FROM/HELO values reach every expansion path.
func FuzzCheck(f *testing.F) {
	f.Add("mail.example.com", "~jack&jill=up-a_b3.c@e.example", []byte{192, 0, 2, 1})
	f.Add("", "@e.example", []byte{0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1})
	f.Add("[1.2.3.4]", "a%b@e.example", []byte{127, 0, 0, 1})
	f.Add("h.example", "x@r.example", []byte{203, 0, 113, 5})
	z := &zoneServer{rrs: map[string][]mdnsRR{}, timeout: map[string]bool{}}
	for _, r := range []string{
		`e.example. TXT "v=spf1 exists:%{l}.%{i}.%{h}.x.e.example ptr:%{o} a:%{s}.e.example mx:%{d1r} include:%{l1r-}.e.example redirect=r.example"`,
		`r.example. TXT "v=spf1 -all exp=%{L}.msg.r.example"`,
		`*.msg.r.example. TXT "%{s} from %{c} via %{p} at %{t} for %{r}: %{H}"`,
		`h.example. TXT "v=spf1 a -all"`,
		`1.0.0.127.in-addr.arpa. PTR h.example.`,
		`h.example. A 127.0.0.1`,
	} {
		z.add(mustRR(f, r))
	}
	c, err := New(Options{Resolver: memResolver{z}})
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, helo, mailFrom string, ipb []byte) {
		ip, ok := netip.AddrFromSlice(ipb)
		if !ok {
			return
		}
		r := c.Check(context.Background(), ip, helo, mailFrom)
		if r.Code == "" {
			t.Fatal("empty result code")
		}
		if h := r.ReceivedSPF("mx.test"); strings.ContainsAny(h, "\r\n\x00") {
			t.Fatalf("Received-SPF value with a line break or NUL: %q", h)
		}
	})
}
