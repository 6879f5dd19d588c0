package arc

import (
	"context"
	"github.com/gomilter/gomilter/internal/testenv"
	"strings"
	"testing"
	"time"

	"github.com/gomilter/gomilter/internal/dns"
	"github.com/gomilter/gomilter/internal/dnstest"
)

// TestValidationSuiteRealDNS repeats the validation suite with the keys
// served by the local DNS server through internal/dns (long TXT records
// split in strings, TCP fallback), as in production.
func TestValidationSuiteRealDNS(t *testing.T) {
	testenv.SkipShort(t, "short mode")
	failed, total := 0, 0
	for _, sc := range readScenarios[validationScenario](t, "arc-draft-validation-tests.yml") {
		s := dnstest.New(t)
		for name, txt := range sc.TXT {
			s.AddTXT(name, txt)
		}
		r, err := dns.New(dns.Options{Servers: []string{s.Addr()}, Timeout: time.Second})
		if err != nil {
			t.Fatal(err)
		}
		for n, tc := range sc.Tests {
			want := strings.ToLower(tc.CV)
			if want == "" {
				want = StatusFail
			}
			total++
			if got := Verify(context.Background(), r, parseMessage(tc.Message)); got.Status != want {
				failed++
				t.Errorf("%s: got %s (%s), want %s", n, got.Status, got.Reason, want)
			}
		}
	}
	t.Logf("validation over DNS: %d passed, %d failed", total-failed, failed)
}
