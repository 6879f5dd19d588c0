package spf

import (
	"context"
	"net/netip"
	"strings"
	"testing"

	"github.com/emersion/go-msgauth/authres"
	mdns "github.com/miekg/dns"
)

func TestParseRecord(t *testing.T) {
	tests := []struct {
		txt  string
		ok   bool
		want string // first directive text, if any
	}{
		{"v=spf1", true, ""},
		{"v=spf1 -all", true, "-all"},
		{"V=SPF1 ip4:192.0.2.0/24 ~all", true, "ip4:192.0.2.0/24"},
		{"v=spf1 a:foo:bar/baz.example.com", true, "a:foo:bar/baz.example.com"},
		{"v=spf1 a/24//64", true, "a/24//64"},
		{"v=spf1 mx:%{d}/24", true, "mx:%{d}/24"},
		{"v=spf1 a/33", false, ""},
		{"v=spf1 ip6::1/129", false, ""},
		{"v=spf1 ip4:1.2.3.4/032", false, ""},
		{"v=spf1 a:museum", false, ""},
		{"v=spf1 include", false, ""},
		{"v=spf1 redirect=a.example redirect=b.example", false, ""},
		{"v=spf1 exp=a.example exp=b.example", false, ""},
		{"v=spf1 foo=%{x}", false, ""},
		{"v=spf1 foo=bar -all", true, "-all"},
		{"v=spf1 bogus:x.example", false, ""},
		{"v=spf1 a:%{i0}.example.com", false, ""},
		{"v=spf1 \x80a", false, ""},
		{"v=spf10", false, ""},
	}
	for _, tc := range tests {
		rec, err := parseRecord(tc.txt)
		if (err == nil) != tc.ok {
			t.Errorf("parseRecord(%q) error = %v, want ok=%v", tc.txt, err, tc.ok)
			continue
		}
		if err == nil && tc.want != "" && rec.directives[0].text != tc.want {
			t.Errorf("parseRecord(%q) first = %q, want %q", tc.txt, rec.directives[0].text, tc.want)
		}
	}
}

func TestMacroTransform(t *testing.T) {
	// The examples of RFC 7208 section 7.4.
	c, err := New(Options{Resolver: memResolver{&zoneServer{rrs: nil}}})
	if err != nil {
		t.Fatal(err)
	}
	e := &evaluator{c: c, ip: netip.MustParseAddr("192.0.2.3"), local: "strong-bad",
		senderDomain: "email.example.com", sender: "strong-bad@email.example.com", helo: "h.example"}
	tests := map[string]string{
		"%{s}":                        "strong-bad@email.example.com",
		"%{o}":                        "email.example.com",
		"%{d}":                        "email.example.com",
		"%{d4}":                       "email.example.com",
		"%{d3}":                       "email.example.com",
		"%{d2}":                       "example.com",
		"%{d1}":                       "com",
		"%{dr}":                       "com.example.email",
		"%{d2r}":                      "example.email",
		"%{l}":                        "strong-bad",
		"%{l-}":                       "strong.bad",
		"%{lr}":                       "strong-bad",
		"%{lr-}":                      "bad.strong",
		"%{l1r-}":                     "strong",
		"%{ir}.%{v}._spf.%{d2}":       "3.2.0.192.in-addr._spf.example.com",
		"%{lr-}.lp._spf.%{d2}":        "bad.strong.lp._spf.example.com",
		"%{ir}.%{v}.%{l1r-}.lp.%{d2}": "3.2.0.192.in-addr.strong.lp.example.com",
		"%{S}":                        "strong-bad%40email.example.com",
		"%%%_%-":                      "% %20",
	}
	for in, want := range tests {
		got, err := e.expand(context.Background(), in, "email.example.com", false)
		if err != nil || got != want {
			t.Errorf("expand(%q) = %q, %v, want %q", in, got, err, want)
		}
	}
	e.ip = netip.MustParseAddr("2001:db8::cb01")
	got, _ := e.expand(context.Background(), "%{ir}.%{v}._spf.%{d2}", "email.example.com", false)
	want := "1.0.B.C.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.8.B.D.0.1.0.0.2.ip6._spf.example.com"
	if got != want {
		t.Errorf("IPv6 expand = %q, want %q", got, want)
	}
	if _, err := e.expand(context.Background(), "%{c}", "x.example", false); err == nil {
		t.Error("%{c} outside exp text accepted")
	}
}

func TestReceivedSPF(t *testing.T) {
	r := Result{Code: Pass, Identity: IdentityMailFrom, Domain: "example.com",
		Sender: "myname@example.com", ClientIP: netip.MustParseAddr("192.0.2.1"),
		Helo: "foo.example.com", Mechanism: "ip4:192.0.2.0/24"}
	got := r.ReceivedSPF("mybox.example.org")
	want := "pass (mybox.example.org: domain of myname@example.com designates 192.0.2.1 as permitted sender)" +
		" client-ip=192.0.2.1; envelope-from=\"myname@example.com\"; helo=foo.example.com;" +
		" receiver=mybox.example.org; identity=mailfrom; mechanism=\"ip4:192.0.2.0/24\""
	if got != want {
		t.Errorf("ReceivedSPF =\n %s\nwant\n %s", got, want)
	}
	r.Code, r.Problem, r.Mechanism = PermError, "bad (syntax)", ""
	r.ClientIP = netip.MustParseAddr("2001:db8::1")
	got = r.ReceivedSPF("")
	if !strings.Contains(got, `client-ip="2001:db8::1"`) || !strings.Contains(got, `\(syntax\)`) ||
		!strings.Contains(got, `problem="bad (syntax)"`) {
		t.Errorf("ReceivedSPF permerror = %s", got)
	}
	ar := r.AuthRes()
	if ar.Value != authres.ResultPermError || ar.From != "myname@example.com" {
		t.Errorf("AuthRes = %+v", ar)
	}
	h := Result{Code: None, Identity: IdentityHelo, Helo: "mx.example"}.AuthRes()
	if h.Helo != "mx.example" || h.From != "" || h.Value != authres.ResultNone {
		t.Errorf("AuthRes helo = %+v", h)
	}
}

// memChecker builds a Checker over an in-memory zone given in zone-file
// syntax.
func memChecker(t *testing.T, zone ...string) *Checker {
	t.Helper()
	z := &zoneServer{rrs: map[string][]mdns.RR{}, timeout: map[string]bool{}}
	for _, line := range zone {
		rr, err := mdns.NewRR(line)
		if err != nil {
			t.Fatalf("NewRR(%q): %v", line, err)
		}
		z.add(rr)
	}
	c, err := New(Options{Resolver: memResolver{z}, Receiver: "mx.receiver.test"})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func TestCheckIdentities(t *testing.T) {
	c := memChecker(t,
		`example.com. TXT "v=spf1 ip4:192.0.2.0/24 -all"`,
		`helo.example.com. TXT "v=spf1 a -all"`,
		`helo.example.com. A 192.0.2.77`,
	)
	ip := netip.MustParseAddr("192.0.2.10")
	ctx := context.Background()
	r := c.Check(ctx, ip, "helo.example.com", "user@example.com")
	if r.Code != Pass || r.Identity != IdentityMailFrom || r.Domain != "example.com" || r.Mechanism != "ip4:192.0.2.0/24" {
		t.Errorf("mailfrom pass: %+v", r)
	}
	r = c.Check(ctx, ip, "helo.example.com", "")
	if r.Code != Fail || r.Identity != IdentityHelo || r.Sender != "postmaster@helo.example.com" || r.Explanation != DefaultExplanation {
		t.Errorf("null sender uses HELO: %+v", r)
	}
	r = c.CheckHelo(ctx, netip.MustParseAddr("192.0.2.77"), "helo.example.com")
	if r.Code != Pass {
		t.Errorf("CheckHelo: %+v", r)
	}
	r = c.Check(ctx, netip.MustParseAddr("::ffff:192.0.2.10"), "x", "user@EXAMPLE.com")
	if r.Code != Pass || r.ClientIP.String() != "192.0.2.10" {
		t.Errorf("IPv4-mapped client: %+v", r)
	}
	if r := c.Check(ctx, ip, "x", "user@[192.0.2.1]"); r.Code != None {
		t.Errorf("domain literal: %+v", r)
	}
	if r := c.CheckHelo(ctx, ip, "192.0.2.10"); r.Code != None {
		t.Errorf("HELO address literal: %+v", r)
	}
	if r := c.Check(ctx, netip.Addr{}, "x", "user@example.com"); r.Code != PermError {
		t.Errorf("no IP: %+v", r)
	}
}

func TestLimits(t *testing.T) {
	zone := []string{`loop.example. TXT "v=spf1 include:loop.example -all"`,
		`void.example. TXT "v=spf1 a:n1.example a:n2.example a:n3.example -all"`,
		`void2.example. TXT "v=spf1 a:n1.example a:n2.example ip4:192.0.2.10 -all"`}
	for i := range 11 {
		zone = append(zone, "many.example. MX 10 mx"+string(rune('a'+i))+".example.")
	}
	zone = append(zone, `mx.example. TXT "v=spf1 mx:many.example -all"`)
	c := memChecker(t, zone...)
	ip := netip.MustParseAddr("192.0.2.10")
	for dom, want := range map[string]Code{"loop.example": PermError, "void.example": PermError,
		"void2.example": Pass, "mx.example": PermError} {
		if r := c.Check(context.Background(), ip, "h", "u@"+dom); r.Code != want {
			t.Errorf("%s: %s (%s), want %s", dom, r.Code, r.Problem, want)
		}
	}
}
