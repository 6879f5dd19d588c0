package spfpolicy

import (
	"context"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/gomilter/gomilter/internal/dns"
	"github.com/gomilter/gomilter/internal/dnstest"
	"github.com/gomilter/gomilter/internal/spf"
	"github.com/gomilter/gomilter/policy"
)

// zone serves the SPF records every test here uses.
func zone(t *testing.T) *dnstest.Server {
	t.Helper()
	s := dnstest.New(t)
	s.AddTXT("pass.example", "v=spf1 ip4:192.0.2.0/24 -all")
	s.AddTXT("fail.example", "v=spf1 -all exp=why.fail.example")
	s.AddTXT("why.fail.example", "%{i} is not a mail server of %{d}")
	s.AddTXT("soft.example", "v=spf1 ~all")
	s.AddTXT("broken.example", "v=spf1 bogus:x -all")
	s.SetTimeout("slow.example")
	s.AddTXT("helo.example", "v=spf1 a -all")
	s.AddA("helo.example", "192.0.2.10")
	s.AddTXT("badhelo.example", "v=spf1 -all")
	return s
}

func newHandler(t *testing.T, s *dnstest.Server, opts Options) *Handler {
	t.Helper()
	r, err := dns.New(dns.Options{Servers: []string{s.Addr()}, Timeout: 200 * time.Millisecond, Attempts: 1})
	if err != nil {
		t.Fatal(err)
	}
	c, err := spf.New(spf.Options{Resolver: r, Receiver: "mx.test"})
	if err != nil {
		t.Fatal(err)
	}
	opts.Checker = c
	h, err := New(opts)
	if err != nil {
		t.Fatal(err)
	}
	return h
}

func req(ip, helo, sender, instance string) *policy.Request {
	return &policy.Request{ProtocolState: "RCPT", ClientAddress: netip.MustParseAddr(ip),
		HeloName: helo, Sender: sender, Recipient: "rcpt@dest.test", Instance: instance}
}

func TestDecisions(t *testing.T) {
	s := zone(t)
	h := newHandler(t, s, Options{})
	tests := []struct {
		name string
		r    *policy.Request
		want string // prefix of the action
	}{
		{"pass prepends", req("192.0.2.10", "helo.example", "a@pass.example", "i1"),
			"PREPEND Received-SPF: pass (mx.test: domain of a@pass.example designates 192.0.2.10 as permitted sender)"},
		{"fail rejects with exp", req("198.51.100.7", "x.example", "a@fail.example", "i2"),
			"550 5.7.23 Message rejected due to: 198.51.100.7 is not a mail server of fail.example"},
		{"softfail prepends", req("198.51.100.7", "x.example", "a@soft.example", "i3"), "PREPEND Received-SPF: softfail "},
		{"permerror prepends by default", req("198.51.100.7", "x.example", "a@broken.example", "i4"), "PREPEND Received-SPF: permerror "},
		{"temperror defers", req("198.51.100.7", "x.example", "a@slow.example", "i5"), "DEFER_IF_PERMIT 4.7.24 Message deferred due to: SPF temperror"},
		{"none prepends", req("198.51.100.7", "x.example", "a@nospf.example", "i6"), "PREPEND Received-SPF: none "},
		{"null sender uses HELO", req("198.51.100.7", "badhelo.example", "", "i7"), "550 5.7.23 Message rejected due to: SPF fail - not authorized"},
		{"null sender HELO pass", req("192.0.2.10", "helo.example", "", "i8"), "PREPEND Received-SPF: pass "},
		{"localhost exempt", req("127.0.0.1", "x", "a@fail.example", "i9"), "DUNNO"},
	}
	for _, tc := range tests {
		a, err := h.Check(context.Background(), tc.r)
		if err != nil || !strings.HasPrefix(string(a), tc.want) {
			t.Errorf("%s: Check = %q, %v, want prefix %q", tc.name, a, err, tc.want)
		}
	}
}

func TestExemptions(t *testing.T) {
	s := zone(t)
	h := newHandler(t, s, Options{
		WhitelistNetworks: []netip.Prefix{netip.MustParsePrefix("203.0.113.0/24")},
		WhitelistDomains:  []string{"Fail.Example."},
	})
	auth := req("198.51.100.7", "x", "a@fail.example", "a1")
	auth.SASLUsername = "alice"
	for name, r := range map[string]*policy.Request{
		"authenticated":       auth,
		"whitelisted network": req("203.0.113.9", "x", "a@soft.example", "a2"),
		"whitelisted domain":  req("198.51.100.7", "x", "a@sub.fail.example", "a3"),
	} {
		if a, _ := h.Check(context.Background(), r); a != policy.Dunno {
			t.Errorf("%s: %q, want DUNNO", name, a)
		}
	}
	checked := newHandler(t, s, Options{CheckAuthenticated: true})
	if a, _ := checked.Check(context.Background(), auth); !strings.HasPrefix(string(a), "550 ") {
		t.Errorf("CheckAuthenticated: %q", a)
	}
	eom := req("198.51.100.7", "x", "a@fail.example", "a4")
	eom.ProtocolState = "END-OF-MESSAGE"
	if a, _ := h.Check(context.Background(), eom); a != policy.Dunno {
		t.Errorf("END-OF-MESSAGE: %q", a)
	}
}

func TestCachePerInstance(t *testing.T) {
	s := zone(t)
	h := newHandler(t, s, Options{})
	r := req("192.0.2.10", "helo.example", "a@pass.example", "inst-1")
	a1, _ := h.Check(context.Background(), r)
	q := s.Queries()
	a2, _ := h.Check(context.Background(), r) // second recipient, same message
	if !strings.HasPrefix(string(a1), "PREPEND") || a2 != policy.Dunno {
		t.Errorf("second recipient: %q then %q, want PREPEND then DUNNO", a1, a2)
	}
	if s.Queries() != q {
		t.Errorf("cached decision made %d DNS queries", s.Queries()-q)
	}
	f := req("198.51.100.7", "x", "a@fail.example", "inst-2")
	b1, _ := h.Check(context.Background(), f)
	b2, _ := h.Check(context.Background(), f)
	if b1 != b2 || !strings.HasPrefix(string(b2), "550") {
		t.Errorf("reject must repeat per recipient: %q, %q", b1, b2)
	}
	// A new message (instance) on the same connection gets its header.
	r.Instance = "inst-3"
	if a3, _ := h.Check(context.Background(), r); !strings.HasPrefix(string(a3), "PREPEND") {
		t.Errorf("new instance: %q", a3)
	}
}

func TestHeloCheckAndPolicies(t *testing.T) {
	s := zone(t)
	h := newHandler(t, s, Options{HeloCheck: true, RejectOn: []spf.Code{spf.Fail, spf.SoftFail, spf.PermError}, DeferOn: []spf.Code{}})
	tests := map[*policy.Request]string{
		req("198.51.100.7", "badhelo.example", "a@pass.example", "h1"): "550 5.7.23 ",
		req("192.0.2.10", "helo.example", "a@pass.example", "h2"):      "PREPEND Received-SPF: pass ",
		req("198.51.100.7", "x.example", "a@soft.example", "h3"):       "550 5.7.23 Message rejected due to: SPF softfail for a@soft.example",
		req("198.51.100.7", "x.example", "a@broken.example", "h4"):     "550 5.7.24 Message rejected due to: SPF permerror",
		req("198.51.100.7", "x.example", "a@slow.example", "h5"):       "PREPEND Received-SPF: temperror ",
	}
	for r, want := range tests {
		if a, _ := h.Check(context.Background(), r); !strings.HasPrefix(string(a), want) {
			t.Errorf("%s/%s: %q, want prefix %q", r.HeloName, r.Sender, a, want)
		}
	}
}

func TestNewValidates(t *testing.T) {
	if _, err := spf.New(spf.Options{}); err == nil {
		t.Error("spf.New without resolver accepted")
	}
	if _, err := New(Options{}); err == nil {
		t.Error("missing Checker accepted")
	}
	s := zone(t)
	h := newHandler(t, s, Options{})
	if _, err := New(Options{Checker: h.opts.Checker, RejectOn: []spf.Code{"fial"}}); err == nil {
		t.Error("unknown result name accepted")
	}
	domains := []string{"Example.COM."}
	if _, err := New(Options{Checker: h.opts.Checker, WhitelistDomains: domains}); err != nil || domains[0] != "Example.COM." {
		t.Errorf("New modified the caller's WhitelistDomains: %v, %v", domains, err)
	}
}
