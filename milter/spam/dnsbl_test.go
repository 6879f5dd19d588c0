package spam

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"net/netip"
	"os"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gomilter/gomilter/internal/dns"
	"github.com/gomilter/gomilter/internal/dnstest"
	"github.com/gomilter/gomilter/internal/testenv"
	mdns "github.com/miekg/dns"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	"github.com/prometheus/client_golang/prometheus/testutil/promlint"
)

// noResolver only marks an engine as networked; tests swap in a real one.
type noResolver struct{}

func (noResolver) LookupA(context.Context, string) ([]netip.Addr, error) {
	return nil, errors.New("no resolver")
}
func (noResolver) LookupTXT(context.Context, string) ([]string, error) {
	return nil, errors.New("no resolver")
}

var (
	netEngineOnce sync.Once
	netEngineBase *Engine
	netEngineErr  error
)

// netTest is Debian's rule set with network tests on, talking to a local
// DNS server through internal/dns, with its own metrics and log.
type netTest struct {
	eng *Engine
	srv *dnstest.Server
	reg *prometheus.Registry
	log *bytes.Buffer
}

func newNetTest(t *testing.T, ropts dns.Options) *netTest {
	t.Helper()
	testenv.SkipShort(t, "loads the SpamAssassin rules")
	if _, err := os.Stat("/usr/share/spamassassin/50_scores.cf"); err != nil {
		testenv.Missing(t, "SpamAssassin rules (Debian package spamassassin) missing: %v", err)
	}
	netEngineOnce.Do(func() {
		netEngineBase, _, netEngineErr = Load(Options{Resolver: noResolver{}})
	})
	if netEngineErr != nil {
		t.Fatal(netEngineErr)
	}
	nt := &netTest{srv: dnstest.New(t), reg: prometheus.NewRegistry(), log: &bytes.Buffer{}}
	ropts.Servers = []string{nt.srv.Addr()}
	if ropts.Timeout == 0 {
		ropts.Timeout = 2 * time.Second
	}
	r, err := dns.New(ropts)
	if err != nil {
		t.Fatal(err)
	}
	eng := *netEngineBase
	eng.dns, err = newDNSEngine(&eng, Options{Resolver: r, Registerer: nt.reg,
		Logger: slog.New(slog.NewTextHandler(nt.log, nil))})
	if err != nil {
		t.Fatal(err)
	}
	nt.eng = &eng
	return nt
}

func (nt *netTest) check(t *testing.T, raw []byte) *Result {
	t.Helper()
	res := nt.eng.CheckBytes(context.Background(), nil, raw)
	if res.Err != nil {
		t.Fatal(res.Err)
	}
	return res
}

func (nt *netTest) queries(result string) float64 {
	return testutil.ToFloat64(nt.eng.dns.met.queries.WithLabelValues(result))
}

// rblMessage arrives from ip straight at our MX: its only relay is
// untrusted and the last external one.
func rblMessage(ip, body string) []byte {
	if strings.Contains(ip, ":") {
		ip = "IPv6:" + ip
	}
	return []byte("Received: from mail.sender.example (mail.sender.example [" + ip + "])\n" +
		"\tby mx.example.org (Postfix) with ESMTP id 4ABC123\n" +
		"\tfor <user@example.org>; Mon, 1 Jan 2024 10:00:00 +0000\n" +
		"From: Sender <sender@sender.example>\nTo: user@example.org\nSubject: hello there\n" +
		"Date: Mon, 1 Jan 2024 09:59:00 +0000\nMessage-ID: <1@sender.example>\n\n" + body + "\n")
}

func hasRule(res *Result, name string) bool { return slices.Contains(res.Rules, name) }

func TestRBLListedRelay(t *testing.T) {
	nt := newNetTest(t, dns.Options{})
	// Spamhaus ZEN codes and the rules SA derives from them (20_dnsbl_tests.cf).
	tests := []struct {
		ip, answer string
		want, not  []string
	}{
		{"81.2.69.160", "127.0.0.2", []string{"RCVD_IN_SBL"}, []string{"RCVD_IN_XBL", "RCVD_IN_PBL", "RCVD_IN_SBL_CSS"}},
		{"81.2.69.161", "127.0.0.4", []string{"RCVD_IN_XBL"}, []string{"RCVD_IN_SBL", "RCVD_IN_PBL"}},
		{"81.2.69.162", "127.0.0.10", []string{"RCVD_IN_PBL"}, []string{"RCVD_IN_SBL", "RCVD_IN_XBL"}},
		{"81.2.69.163", "127.0.0.3", []string{"RCVD_IN_SBL_CSS"}, []string{"RCVD_IN_SBL"}},
		// An answer outside 127.0.0.0/8 is a wildcard or hijack, never a listing.
		{"81.2.69.164", "10.0.0.2", nil, []string{"RCVD_IN_SBL", "RCVD_IN_XBL", "RCVD_IN_PBL"}},
	}
	for _, tc := range tests {
		a := netip.MustParseAddr(tc.ip).As4()
		nt.srv.AddA(itoa(a[3])+"."+itoa(a[2])+"."+itoa(a[1])+"."+itoa(a[0])+".zen.spamhaus.org", tc.answer)
	}
	for _, tc := range tests {
		t.Run(tc.answer, func(t *testing.T) {
			res := nt.check(t, rblMessage(tc.ip, "Just a short note."))
			for _, r := range tc.want {
				if !hasRule(res, r) {
					t.Errorf("%s listed %s: rules %v, want %s", tc.ip, tc.answer, res.Rules, r)
				} else if want := nt.eng.conf.Rules[r].Score[1]; res.Scores[r] != want {
					t.Errorf("%s score = %v, want the network score set's %v", r, res.Scores[r], want)
				}
			}
			for _, r := range tc.not {
				if hasRule(res, r) {
					t.Errorf("%s listed %s: rules %v, must not have %s", tc.ip, tc.answer, res.Rules, r)
				}
			}
		})
	}
	if got := nt.queries(resultListed); got != 4 {
		t.Errorf("listed queries = %v, want 4", got)
	}
}

func TestRBLNotListedPrivateRelay(t *testing.T) {
	nt := newNetTest(t, dns.Options{})
	res := nt.check(t, rblMessage("10.1.2.3", "No links here."))
	if n := nt.srv.Queries(); n != 0 {
		t.Errorf("a message from a private relay made %d DNS queries, want 0", n)
	}
	for _, r := range res.Rules {
		if strings.HasPrefix(r, "RCVD_IN_") {
			t.Errorf("rule %s hit without a public relay", r)
		}
	}
}

func TestRBLIPv6OnlyWhereListed(t *testing.T) {
	nt := newNetTest(t, dns.Options{})
	const ip = "2a01:4f8:c0c:1234::25"
	arpa, err := mdns.ReverseAddr(ip)
	if err != nil {
		t.Fatal(err)
	}
	nibbles := strings.TrimSuffix(arpa, ".ip6.arpa.")
	nt.srv.AddA(nibbles+".zen.spamhaus.org", "127.0.0.2")
	nt.srv.AddA(nibbles+".psbl.surriel.com", "127.0.0.2") // PSBL lists no IPv6
	res := nt.check(t, rblMessage(ip, "Hello."))
	if !hasRule(res, "RCVD_IN_SBL") {
		t.Errorf("IPv6 relay listed in ZEN: rules %v, want RCVD_IN_SBL", res.Rules)
	}
	if hasRule(res, "RCVD_IN_PSBL") {
		t.Errorf("IPv6 relay was looked up in psbl.surriel.com: rules %v", res.Rules)
	}
}

func TestURIBLListedDomain(t *testing.T) {
	nt := newNetTest(t, dns.Options{})
	nt.srv.AddA("cheap-pills-shop.com.multi.uribl.com", "127.0.0.2")
	// The DBL rules have tflags notrim: the whole host is looked up.
	nt.srv.AddA("www.cheap-pills-shop.com.dbl.spamhaus.org", "127.0.1.2")
	nt.srv.AddA("grey-sender.net.multi.uribl.com", "127.0.0.4")
	nt.srv.AddA("example.com.multi.uribl.com", "127.0.0.2") // uridnsbl_skip_domain
	tests := []struct {
		name, body string
		want, not  []string
	}{
		{"black and dbl", "Buy now: http://www.cheap-pills-shop.com/buy?x=1",
			[]string{"URIBL_BLACK", "URIBL_DBL_SPAM"}, []string{"URIBL_GREY", "URIBL_RED", "URIBL_BLOCKED", "URIBL_DBL_PHISH"}},
		{"grey", "See https://news.grey-sender.net/a", []string{"URIBL_GREY"}, []string{"URIBL_BLACK"}},
		{"skipped domain", "Docs at http://www.example.com/", nil, []string{"URIBL_BLACK"}},
		{"clean", "Read http://www.clean-site.org/", nil, []string{"URIBL_BLACK", "URIBL_DBL_SPAM"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			res := nt.check(t, rblMessage("10.1.2.3", tc.body))
			for _, r := range tc.want {
				if !hasRule(res, r) {
					t.Errorf("rules %v, want %s", res.Rules, r)
				}
			}
			for _, r := range tc.not {
				if hasRule(res, r) {
					t.Errorf("rules %v, must not have %s", res.Rules, r)
				}
			}
		})
	}
}

func TestDNSBLRefusedIsNoListing(t *testing.T) {
	nt := newNetTest(t, dns.Options{})
	nt.srv.AddA("160.69.2.81.zen.spamhaus.org", "127.255.255.254")        // open resolver
	nt.srv.AddA("refused-domain.com.multi.uribl.com", "127.0.0.1")        // query refused
	nt.srv.AddA("refused-domain.com.dbl.spamhaus.org", "127.255.255.255") // excessive queries
	res := nt.check(t, rblMessage("81.2.69.160", "Go to http://refused-domain.com/x"))
	for _, r := range res.Rules {
		if strings.HasPrefix(r, "RCVD_IN_") || strings.HasPrefix(r, "URIBL_") {
			t.Errorf("refused query set rule %s (rules %v)", r, res.Rules)
		}
	}
	for _, z := range []string{"zen.spamhaus.org", "multi.uribl.com", "dbl.spamhaus.org"} {
		if got := testutil.ToFloat64(nt.eng.dns.met.refused.WithLabelValues(z)); got < 1 {
			t.Errorf("refusals counted for %s = %v, want >= 1", z, got)
		}
	}
	// The zones rest now: a listing of another relay is not even asked for.
	nt.srv.AddA("161.69.2.81.zen.spamhaus.org", "127.0.0.2")
	res = nt.check(t, rblMessage("81.2.69.161", "Go to http://refused-domain.com/x"))
	if hasRule(res, "RCVD_IN_SBL") {
		t.Errorf("zen.spamhaus.org was queried while resting: rules %v", res.Rules)
	}
	if nt.queries(resultResting) == 0 {
		t.Error("no query counted as resting")
	}
	if n := strings.Count(nt.log.String(), "zone=zen.spamhaus.org"); n != 1 {
		t.Errorf("zen.spamhaus.org warned %d times, want once:\n%s", n, nt.log)
	}
}

func TestDNSBLTimeoutAndServfail(t *testing.T) {
	nt := newNetTest(t, dns.Options{Timeout: 300 * time.Millisecond, Attempts: 1})
	nt.srv.AddA("160.69.2.81.zen.spamhaus.org", "127.0.0.2")
	nt.srv.SetTimeout("160.69.2.81.zen.spamhaus.org")
	nt.srv.AddA("slow-domain.com.multi.uribl.com", "127.0.0.2")
	nt.srv.SetRcode("slow-domain.com.multi.uribl.com", mdns.RcodeServerFailure)
	res := nt.check(t, rblMessage("81.2.69.160", "Go to http://slow-domain.com/x"))
	if hasRule(res, "RCVD_IN_SBL") || hasRule(res, "URIBL_BLACK") {
		t.Errorf("timed-out or failed lookups set rules: %v", res.Rules)
	}
	if nt.queries(resultFailed) < 2 {
		t.Errorf("failed lookups = %v, want >= 2", nt.queries(resultFailed))
	}
	if res.TimedOut {
		t.Error("a slow blocklist marked the whole check as timed out")
	}
}

func TestDNSBLMessageBudget(t *testing.T) {
	nt := newNetTest(t, dns.Options{Timeout: 10 * time.Second, Attempts: 1})
	conf := *nt.eng.dns.conf
	conf.timeout = 200 * time.Millisecond // rbl_timeout 0.2
	nt.eng.dns.conf = &conf
	nt.srv.AddA("160.69.2.81.zen.spamhaus.org", "127.0.0.2")
	nt.srv.SetDelay("160.69.2.81.zen.spamhaus.org", time.Second)
	res := nt.check(t, rblMessage("81.2.69.160", "Hello."))
	if hasRule(res, "RCVD_IN_SBL") {
		t.Errorf("an answer after rbl_timeout set RCVD_IN_SBL: %v", res.Rules)
	}
	if nt.queries(resultTimeout) == 0 {
		t.Errorf("no lookup counted as timed out; rules %v, failed %v", res.Rules, nt.queries(resultFailed))
	}
}

func TestDNSBLCache(t *testing.T) {
	nt := newNetTest(t, dns.Options{})
	nt.srv.AddA("160.69.2.81.zen.spamhaus.org", "127.0.0.2")
	nt.srv.AddA("cheap-pills-shop.com.multi.uribl.com", "127.0.0.2")
	msg := rblMessage("81.2.69.160", "Buy http://cheap-pills-shop.com/")
	res := nt.check(t, msg)
	first := nt.srv.Queries()
	if !hasRule(res, "RCVD_IN_SBL") || !hasRule(res, "URIBL_BLACK") || first == 0 {
		t.Fatalf("first message: rules %v after %d queries", res.Rules, first)
	}
	res = nt.check(t, msg)
	if got := nt.srv.Queries(); got != first {
		t.Errorf("second message made %d new queries, want 0 (positive and negative answers cached)", got-first)
	}
	if !hasRule(res, "RCVD_IN_SBL") || !hasRule(res, "URIBL_BLACK") {
		t.Errorf("second message (cached): rules %v", res.Rules)
	}
}

func TestDNSBLOffWithoutResolver(t *testing.T) {
	e, _, err := LoadConf("t.cf", `
header RCVD_IN_T eval:check_rbl('t', 'bl.test.')
tflags RCVD_IN_T net
score RCVD_IN_T 0 1 0 1
urirhssub URIBL_T multi.test. A 2
body URIBL_T eval:check_uridnsbl('URIBL_T')
tflags URIBL_T net
score URIBL_T 0 1 0 1
`, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if len(e.NotImpl) != 0 || e.dns != nil || e.ActiveRules() != 0 {
		t.Errorf("without a resolver: NotImpl %v, dns %v, %d active rules; want none", e.NotImpl, e.dns, e.ActiveRules())
	}
}

func TestDNSBLMetricsLint(t *testing.T) {
	reg := prometheus.NewRegistry()
	m, err := newDNSMetrics(reg)
	if err != nil {
		t.Fatal(err)
	}
	m.query(resultListed)
	m.refusal("zen.spamhaus.org")
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	problems, err := promlint.NewWithMetricFamilies(mfs).Lint()
	if err != nil || len(problems) > 0 {
		t.Errorf("promlint: %v %v", problems, err)
	}
	if _, err := newDNSMetrics(reg); err != nil {
		t.Errorf("second registration (reload): %v", err)
	}
}
