package dmarc

import (
	"context"
	"errors"
	"net/netip"
	"testing"

	"github.com/gomilter/gomilter/internal/dns"
	"github.com/gomilter/gomilter/internal/mailmsg"
)

func zone() *fakeDNS {
	r := newFake().
		add("_dmarc.example.com", "v=DMARC1; p=reject; sp=quarantine; np=reject; rua=mailto:agg@example.com").
		add("_dmarc.strict.example", "v=DMARC1; p=reject; adkim=s; aspf=s").
		add("_dmarc.testing.example", "v=DMARC1; p=reject; t=y").
		add("_dmarc.pct.example", "v=DMARC1; p=quarantine; pct=50").
		add("_dmarc.dup.example", "v=DMARC1; p=reject", "v=DMARC1; p=none").
		add("_dmarc.dup.example", "v=spf1 -all").
		add("_dmarc.none.example", "v=DMARC1; p=none")
	r.a["sub.example.com"] = true
	r.timeout["_dmarc.slow.example"] = true
	return r
}

func TestEvaluate(t *testing.T) {
	pass := func(d string) AuthResult { return AuthResult{Domain: d, Result: "pass"} }
	fail := func(d string) AuthResult { return AuthResult{Domain: d, Result: "fail"} }
	tests := []struct {
		name              string
		in                In
		result            string
		policy, dis       Policy
		spfAlign, dkAlign bool
		sampled           bool
	}{
		{"dkim aligned exact", In{FromDomain: "example.com", DKIM: []AuthResult{pass("example.com")}}, ResultPass, PolicyReject, PolicyNone, false, true, false},
		{"spf relaxed", In{FromDomain: "example.com", SPF: pass("bounce.example.com")}, ResultPass, PolicyReject, PolicyNone, true, false, false},
		{"dkim relaxed parent", In{FromDomain: "sub.example.com", DKIM: []AuthResult{fail("sub.example.com"), pass("example.com")}}, ResultPass, PolicyQuarantine, PolicyNone, false, true, false},
		{"unaligned pass", In{FromDomain: "example.com", SPF: pass("other.example"), DKIM: []AuthResult{pass("example.org")}}, ResultFail, PolicyReject, PolicyReject, false, false, false},
		{"failing aligned", In{FromDomain: "example.com", SPF: fail("example.com"), DKIM: []AuthResult{fail("example.com")}}, ResultFail, PolicyReject, PolicyReject, false, false, false},
		{"sp for existing subdomain", In{FromDomain: "sub.example.com"}, ResultFail, PolicyQuarantine, PolicyQuarantine, false, false, false},
		{"np for non-existent subdomain", In{FromDomain: "ghost.example.com"}, ResultFail, PolicyReject, PolicyReject, false, false, false},
		{"strict spf subdomain", In{FromDomain: "strict.example", SPF: pass("mail.strict.example")}, ResultFail, PolicyReject, PolicyReject, false, false, false},
		{"strict dkim exact", In{FromDomain: "Strict.Example.", DKIM: []AuthResult{pass("strict.example")}}, ResultPass, PolicyReject, PolicyNone, false, true, false},
		{"t=y", In{FromDomain: "testing.example"}, ResultFail, PolicyReject, PolicyQuarantine, false, false, true},
		{"duplicates: no policy", In{FromDomain: "dup.example"}, ResultNone, "", PolicyNone, false, false, false},
		{"no record", In{FromDomain: "nothing.example"}, ResultNone, "", PolicyNone, false, false, false},
		{"p=none fail", In{FromDomain: "none.example"}, ResultFail, PolicyNone, PolicyNone, false, false, false},
		{"temperror", In{FromDomain: "slow.example"}, ResultTempError, "", PolicyNone, false, false, false},
		{"bad domain", In{FromDomain: "no dots"}, ResultPermError, "", PolicyNone, false, false, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := Evaluate(context.Background(), zone(), tc.in)
			if got.Result != tc.result || got.Policy != tc.policy || got.Disposition != tc.dis ||
				got.SPFAligned != tc.spfAlign || got.DKIMAligned != tc.dkAlign || got.SampledOut != tc.sampled {
				t.Errorf("Evaluate(%+v) = %+v", tc.in, got)
			}
		})
	}
}

func TestEvaluateTemperrorDetail(t *testing.T) {
	got := Evaluate(context.Background(), zone(), In{FromDomain: "slow.example"})
	if !errors.Is(got.Err, dns.ErrTemporary) {
		t.Errorf("Err = %v, want a dns.ErrTemporary", got.Err)
	}
}

func TestEvaluatePct(t *testing.T) {
	for _, tc := range []struct {
		roll    int
		dis     Policy
		sampled bool
	}{{10, PolicyQuarantine, false}, {49, PolicyQuarantine, false}, {50, PolicyNone, true}, {99, PolicyNone, true}} {
		c := Config{Rand: func() int { return tc.roll }}
		got := c.Evaluate(context.Background(), zone(), In{FromDomain: "pct.example"})
		if got.Disposition != tc.dis || got.SampledOut != tc.sampled || got.Policy != PolicyQuarantine {
			t.Errorf("roll %d: %+v", tc.roll, got)
		}
	}
}

func TestEvaluateLegacy(t *testing.T) {
	r := newFake().add("_dmarc.example.co.uk", "v=DMARC1; p=reject; sp=none")
	c := Config{Legacy: true}
	got := c.Evaluate(context.Background(), r, In{FromDomain: "a.b.example.co.uk", SPF: AuthResult{Domain: "x.example.co.uk", Result: "pass"}})
	if got.Result != ResultPass || got.PolicyDomain != "example.co.uk" || got.Policy != PolicyNone {
		t.Errorf("legacy = %+v", got)
	}
	// The tree walk finds a record between the author and org domains;
	// legacy only asks the author domain and the org domain.
	r = newFake().add("_dmarc.z.example.com", "v=DMARC1; p=reject")
	if got = c.Evaluate(context.Background(), r, In{FromDomain: "x.y.z.example.com"}); got.Result != ResultNone {
		t.Errorf("legacy found a record off its two queries: %+v", got)
	}
	if got = Evaluate(context.Background(), r, In{FromDomain: "x.y.z.example.com"}); got.Result != ResultFail || got.PolicyDomain != "z.example.com" {
		t.Errorf("tree walk missed the intermediate record: %+v", got)
	}
}

func TestLegacyInvalidP(t *testing.T) {
	c := Config{Legacy: true}
	r := newFake().add("_dmarc.nop.example", "v=DMARC1; sp=reject").add("_dmarc.rua.example", "v=DMARC1; p=bogus; rua=mailto:a@rua.example")
	if got := c.Evaluate(context.Background(), r, In{FromDomain: "nop.example"}); got.Result != ResultNone {
		t.Errorf("legacy, no p= and no rua: %+v", got)
	}
	if got := c.Evaluate(context.Background(), r, In{FromDomain: "rua.example"}); got.Result != ResultFail || got.Policy != PolicyNone {
		t.Errorf("legacy, bad p= with rua: %+v", got)
	}
	if got := Evaluate(context.Background(), r, In{FromDomain: "nop.example"}); got.Result != ResultFail || got.Policy != PolicyNone {
		t.Errorf("RFC 9989, no p=: %+v", got)
	}
}

func TestDecide(t *testing.T) {
	failRes := func(dis Policy) Result {
		return Result{Result: ResultFail, FromDomain: "news.example.com", PolicyDomain: "example.com", Policy: PolicyReject, Disposition: dis}
	}
	fwd := netip.MustParsePrefix("198.51.100.0/24")
	tests := []struct {
		name     string
		res      Result
		c        Context
		o        Options
		action   Action
		override string
	}{
		{"pass", Result{Result: ResultPass}, Context{}, Options{}, ActionAccept, ""},
		{"reject", failRes(PolicyReject), Context{}, Options{}, ActionReject, ""},
		{"quarantine", failRes(PolicyQuarantine), Context{}, Options{}, ActionQuarantine, ""},
		{"none", failRes(PolicyNone), Context{}, Options{}, ActionAccept, ""},
		{"report only", failRes(PolicyReject), Context{}, Options{ReportOnly: true}, ActionAccept, OverrideLocalPolicy},
		{"reject as quarantine", failRes(PolicyReject), Context{}, Options{RejectAsQuarantine: true}, ActionQuarantine, OverrideLocalPolicy},
		{"never reject parent", failRes(PolicyReject), Context{}, Options{NeverReject: []string{"Example.com"}}, ActionAccept, OverrideLocalPolicy},
		{"never reject other", failRes(PolicyReject), Context{}, Options{NeverReject: []string{"ample.com"}}, ActionReject, ""},
		{"forwarder ip", failRes(PolicyReject), Context{ClientIP: netip.MustParseAddr("198.51.100.7")}, Options{TrustedForwarders: []netip.Prefix{fwd}}, ActionAccept, OverrideTrustedForwarder},
		{"other ip", failRes(PolicyReject), Context{ClientIP: netip.MustParseAddr("203.0.113.7")}, Options{TrustedForwarders: []netip.Prefix{fwd}}, ActionReject, ""},
		{"trusted sealer", failRes(PolicyReject), Context{ARCResult: "pass", ARCSealers: []string{"lists.example.org"}}, Options{TrustedSealers: []string{"lists.example.org"}}, ActionAccept, OverrideTrustedForwarder},
		{"sealer but arc fail", failRes(PolicyReject), Context{ARCResult: "fail", ARCSealers: []string{"lists.example.org"}}, Options{TrustedSealers: []string{"lists.example.org"}}, ActionReject, ""},
		{"sampled", Result{Result: ResultFail, Disposition: PolicyQuarantine, SampledOut: true}, Context{}, Options{}, ActionQuarantine, OverrideSampledOut},
	}
	for _, tc := range tests {
		got := Decide(tc.res, tc.c, tc.o)
		if got.Action != tc.action || got.Override != tc.override {
			t.Errorf("%s: Decide = %+v, want %v %q", tc.name, got, tc.action, tc.override)
		}
		if got.Action == ActionReject && got.Reply != "550 5.7.1 DMARC policy of example.com rejects this message" {
			t.Errorf("%s: reply %q", tc.name, got.Reply)
		}
	}
}

func TestFromDomain(t *testing.T) {
	tests := []struct {
		from []string
		want string
		err  error
	}{
		{[]string{" Joe <joe@Example.COM>"}, "example.com", nil},
		{[]string{" joe@example.com"}, "example.com", nil},
		{[]string{" \"Odd, name\" <x@a.example>"}, "a.example", nil},
		{[]string{" =?utf-8?q?J=C3=B6e?= <j@b.example>"}, "b.example", nil},
		{[]string{" J\xc3\xb6e <j@c.example>"}, "c.example", nil},
		{[]string{" a@x.example, b@y.example"}, "", ErrMultipleFrom},
		{[]string{" a@x.example", " b@y.example"}, "", ErrMultipleFrom},
		{nil, "", ErrNoFrom},
		{[]string{" undisclosed"}, "", ErrBadFrom},
		{[]string{" a@nodot"}, "", ErrBadFrom},
	}
	for _, tc := range tests {
		m := &mailmsg.Message{}
		for _, v := range tc.from {
			m.Header = append(m.Header, mailmsg.Field{Name: "From", Value: v})
		}
		got, err := FromDomain(m)
		if got != tc.want || !errors.Is(err, tc.err) {
			t.Errorf("FromDomain(%q) = %q, %v, want %q, %v", tc.from, got, err, tc.want, tc.err)
		}
	}
}

func FuzzFromDomain(f *testing.F) {
	f.Add(" Joe <joe@Example.COM>")
	f.Add(" \"Odd, name\" <x@a.example>")
	f.Add(" a@x.example, b@y.example")
	f.Fuzz(func(t *testing.T, v string) {
		d, err := FromDomain(&mailmsg.Message{Header: []mailmsg.Field{{Name: "From", Value: v}}})
		if err == nil && !validDomain(d) {
			t.Fatalf("FromDomain(%q) = invalid %q", v, d)
		}
	})
}

func TestResultAR(t *testing.T) {
	res := Evaluate(context.Background(), zone(), In{FromDomain: "example.com"})
	got := res.AR(Decide(res, Context{}, Options{RejectAsQuarantine: true}))
	if got.Method != "dmarc" || got.Value != "fail" || got.Comment != "p=reject sp=quarantine dis=quarantine" || got.Prop("header", "from") != "example.com" {
		t.Errorf("AR = %+v", got)
	}
}
