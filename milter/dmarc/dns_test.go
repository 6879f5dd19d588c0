package dmarc

import (
	"context"
	"testing"
	"time"

	"github.com/gomilter/gomilter/internal/dns"
	"github.com/gomilter/gomilter/internal/dnstest"
)

// TestEvaluateRealDNS runs Evaluate through internal/dns against the
// local authoritative server: tree walk, NXDOMAIN for np=, SERVFAIL and
// timeouts as temperror, records split in several strings.
func TestEvaluateRealDNS(t *testing.T) {
	s := dnstest.New(t)
	s.AddTXT("_dmarc.example.org", "v=DMARC1; p=quarantine; sp=reject; np=none; rua=mailto:agg@example.org")
	s.AddA("mail.example.org", "192.0.2.5")
	s.AddTXT("_dmarc.bad.example", "v=DMARC1; p=reject")
	s.SetRcode("_dmarc.servfail.example", 2)
	s.SetTimeout("_dmarc.slow.example")
	s.AddTXT("_dmarc.long.example", "v=DMARC1; p=reject; rua=mailto:aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa@long.example")
	r, err := dns.New(dns.Options{Servers: []string{s.Addr()}, Timeout: 300 * time.Millisecond, Attempts: 1})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	tests := []struct {
		from   string
		result string
		policy Policy
	}{
		{"example.org", ResultFail, PolicyQuarantine},
		{"mail.example.org", ResultFail, PolicyReject},   // existing subdomain: sp=
		{"nope.a.b.example.org", ResultFail, PolicyNone}, // NXDOMAIN: np=
		{"servfail.example", ResultTempError, ""},
		{"slow.example", ResultTempError, ""},
		{"long.example", ResultFail, PolicyReject},
		{"nothing.example", ResultNone, ""},
	}
	for _, tc := range tests {
		got := Evaluate(ctx, r, In{FromDomain: tc.from})
		if got.Result != tc.result || got.Policy != tc.policy {
			t.Errorf("Evaluate(%s) = %s %q (%v), want %s %q", tc.from, got.Result, got.Policy, got.Err, tc.result, tc.policy)
		}
	}
}
