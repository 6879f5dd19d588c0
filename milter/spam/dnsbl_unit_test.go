package spam

import (
	"context"
	"net/netip"
	"slices"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gomilter/gomilter/internal/dns"
	"github.com/gomilter/gomilter/internal/mailmsg"
)

// memResolver is an in-memory blocklist: names absent are NXDOMAIN. It
// records every name asked.
type memResolver struct {
	mu    sync.Mutex
	a     map[string][]string
	txt   map[string][]string
	asked []string
}

func (r *memResolver) LookupA(_ context.Context, name string) ([]netip.Addr, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.asked = append(r.asked, "A "+name)
	var out []netip.Addr
	for _, s := range r.a[name] {
		out = append(out, netip.MustParseAddr(s))
	}
	if len(out) == 0 {
		return nil, &dns.Error{Name: name, Type: "A", Kind: dns.ErrNotFound}
	}
	return out, nil
}

func (r *memResolver) LookupTXT(_ context.Context, name string) ([]string, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.asked = append(r.asked, "TXT "+name)
	if v := r.txt[name]; len(v) > 0 {
		return v, nil
	}
	return nil, &dns.Error{Name: name, Type: "TXT", Kind: dns.ErrNotFound}
}

func (r *memResolver) questions() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := slices.Clone(r.asked)
	sort.Strings(out)
	return out
}

// netConf builds an engine from rules (each net rule gets a set-1 score).
func netConf(t *testing.T, conf string, r Resolver) *Engine {
	t.Helper()
	e, warns, err := LoadConf("t.cf", conf, Options{Resolver: r})
	if err != nil {
		t.Fatal(err)
	}
	for _, w := range warns {
		t.Errorf("warning: %s", w)
	}
	return e
}

const rcvdChain = "Received: from relay.mid.example (relay.mid.example [198.51.100.7])\n" +
	"\tby mx.example.org (Postfix) with ESMTP id 1; Mon, 1 Jan 2024 10:00:02 +0000\n" +
	"Received: from origin.example (origin.example [81.2.69.160])\n" +
	"\tby relay.mid.example (Postfix) with ESMTP id 2; Mon, 1 Jan 2024 10:00:01 +0000\n" +
	"Received: from pc.lan (pc.lan [192.168.1.20])\n" +
	"\tby origin.example (Postfix) with ESMTP id 3; Mon, 1 Jan 2024 10:00:00 +0000\n"

func TestRBLWhichRelays(t *testing.T) {
	// Every set suffix of DNSEval's _check_rbl_backend on one chain: the
	// untrusted relays are 198.51.100.7 (nearest) and 81.2.69.160; the
	// private 192.168.1.20 is never asked.
	tests := []struct {
		set, extra string
		want       []string
	}{
		{"all", "", []string{"A 160.69.2.81.bl.test", "A 7.100.51.198.bl.test"}},
		{"x-lastexternal", "", []string{"A 7.100.51.198.bl.test"}},
		{"x-firsttrusted", "", []string{"A 7.100.51.198.bl.test"}},
		{"x-untrusted", "", []string{"A 160.69.2.81.bl.test"}},
		{"x-notfirsthop", "", []string{"A 7.100.51.198.bl.test"}},
		// Our own relay as trusted: still the hop into our network.
		{"x-lastexternal", "trusted_networks 198.51.100.7\n", []string{"A 160.69.2.81.bl.test"}},
		// A trusted relay is only checked by nice rules (whitelists).
		{"all", "trusted_networks 198.51.100.7 81.2.69.160\n", nil},
	}
	for _, tc := range tests {
		t.Run(tc.set+"/"+strings.TrimSpace(tc.extra), func(t *testing.T) {
			r := &memResolver{}
			e := netConf(t, tc.extra+"header T_RBL eval:check_rbl('"+tc.set+"', 'bl.test.')\ntflags T_RBL net\n", r)
			e.CheckBytes(context.Background(), nil, []byte(rcvdChain+"Subject: x\n\nhi\n"))
			if got := r.questions(); !slices.Equal(got, tc.want) {
				t.Errorf("set %s asked %q, want %q", tc.set, got, tc.want)
			}
		})
	}
}

func TestRBLSubtestsAndSubs(t *testing.T) {
	r := &memResolver{
		a:   map[string][]string{"160.69.2.81.bl.test": {"127.0.0.2", "127.0.0.9"}},
		txt: map[string][]string{"160.69.2.81.txt.test": {"Blocked - see https://spamcop.example/"}},
	}
	e := netConf(t, `
header __T_SET  eval:check_rbl('s', 'bl.test.')
header T_MASK8  eval:check_rbl_sub('s', '8')
header T_MASK4  eval:check_rbl_sub('s', '4')
header T_EXACT  eval:check_rbl_sub('s', '127.0.0.2')
header T_RE     eval:check_rbl_sub('s', '^127\.0\.0\.9$')
header T_NOT    eval:check_rbl_sub('s', '127.0.0.3')
header T_MAIN   eval:check_rbl('s2', 'bl.test', '^127\.0\.0\.2$')
header T_MAINNO eval:check_rbl('s3', 'bl.test', '127.0.0.4')
header T_TXT    eval:check_rbl_txt('t', 'txt.test.', '(?i:SPAMCOP)')
header T_TXTNO  eval:check_rbl_txt('t2', 'txt.test.', 'dnswl')
meta   T_META   __T_SET && T_EXACT
tflags __T_SET net
tflags T_MASK8 net
tflags T_MASK4 net
tflags T_EXACT net
tflags T_RE net
tflags T_NOT net
tflags T_MAIN net
tflags T_MAINNO net
tflags T_TXT net
tflags T_TXTNO net
`, r)
	raw := "Received: from origin.example (origin.example [81.2.69.160])\n\tby mx.example.org (Postfix) with ESMTP id 2; Mon, 1 Jan 2024 10:00:01 +0000\nSubject: x\n\nhi\n"
	res := e.CheckBytes(context.Background(), nil, []byte(raw))
	want := []string{"T_EXACT", "T_MAIN", "T_MASK8", "T_META", "T_RE", "T_TXT"}
	if !slices.Equal(res.Rules, want) {
		t.Errorf("rules %v, want %v", res.Rules, want)
	}
	if n := len(r.questions()); n != 2 {
		t.Errorf("%d questions %v, want 2 (one per name and type)", n, r.questions())
	}
}

func TestRBLAddressChecks(t *testing.T) {
	r := &memResolver{a: map[string][]string{
		"bad-sender.com.env.test":    {"127.0.0.2"},
		"mail.from-host.net.fh.test": {"127.0.0.2"},
		"from-host.net.fd.test":      {"127.0.0.2"},
		"reply-to.org.hdr.test":      {"127.0.0.2"},
		"4.3.2.1.hdr.test":           {"127.0.0.2"},
		"origin.example.rcvd.test":   {"127.0.0.2"},
		"160.69.2.81.acc.test":       {"127.0.0.2"},
	}}
	e := netConf(t, `
header T_ENV  eval:check_rbl_envfrom('e', 'env.test')
header T_FH   eval:check_rbl_from_host('f', 'fh.test')
header T_FD   eval:check_rbl_from_domain('d', 'fd.test')
header T_HDR  eval:check_rbl_headers('h', 'hdr.test', '', 'Reply-To,X-Source-IP')
header T_RCVD eval:check_rbl_rcvd('r', 'rcvd.test')
header T_RCVDIP eval:check_rbl_rcvd('r2', 'rcvd.test')
tflags T_RCVDIP ips_only
header T_ACC  eval:check_rbl_accreditor('a', 'acc.test', '127.0.0.2', 'gold')
header T_ACCNO eval:check_rbl_accreditor('a2', 'acc.test', '127.0.0.2', 'silver')
util_rb_tld com net org example
`, r)
	raw := "Received: from origin.example (origin.example [81.2.69.160])\n\tby mx.example.org (Postfix) with ESMTP id 2; Mon, 1 Jan 2024 10:00:01 +0000\n" +
		"From: <someone@mail.from-host.net>\nReply-To: x@reply-to.org\nX-Source-IP: 1.2.3.4\nAccreditor: Gold, parm=1\nSubject: x\n\nhi\n"
	res := e.CheckBytes(context.Background(), &mailmsg.Envelope{MailFrom: "bounce@bad-sender.com"}, []byte(raw))
	want := []string{"T_ACC", "T_ENV", "T_FD", "T_FH", "T_HDR", "T_RCVD"}
	if !slices.Equal(res.Rules, want) {
		t.Errorf("rules %v, want %v; asked %q", res.Rules, want, r.questions())
	}
}

func TestURIDNSBLQueries(t *testing.T) {
	r := &memResolver{a: map[string][]string{
		"www.shop.example.com":      {"81.2.69.170", "10.0.0.1"},
		"170.69.2.81.sbl.test":      {"127.0.0.2"},
		"shop.example.com.rhs.test": {"127.0.0.2"},
		"7.100.51.198.rhs.test":     {"127.0.0.2"},
	}}
	e := netConf(t, `
util_rb_tld com
util_rb_2tld example.com
urirhssub T_RHS   rhs.test. A 2
body      T_RHS   eval:check_uridnsbl('T_RHS')
tflags    T_RHS   net
urirhssub T_DOMS  rhs.test. A 127.0.0.2
body      T_DOMS  eval:check_uridnsbl('T_DOMS')
tflags    T_DOMS  net domains_only
uridnssub T_A     sbl.test. A 127.0.0.2
body      T_A     eval:check_uridnsbl('T_A')
tflags    T_A     net a
uridnssub T_NS    sbl.test. A 127.0.0.2
body      T_NS    eval:check_uridnsbl('T_NS')
tflags    T_NS    net
uridnsbl_skip_domain skipped.com
`, r)
	body := "Visit http://www.shop.example.com/x and http://198.51.100.7/y and http://www.skipped.com/\n" +
		"mail info@mailto-only.com\n"
	res := e.CheckBytes(context.Background(), nil, []byte("Subject: x\n\n"+body))
	want := []string{"T_A", "T_DOMS", "T_RHS"}
	if !slices.Equal(res.Rules, want) {
		t.Errorf("rules %v, want %v", res.Rules, want)
	}
	wantQ := []string{"A 170.69.2.81.sbl.test", "A 7.100.51.198.rhs.test", "A shop.example.com.rhs.test", "A www.shop.example.com"}
	if got := r.questions(); !slices.Equal(got, wantQ) {
		t.Errorf("asked %q, want %q", got, wantQ)
	}
}

func TestURIDNSBLMaxDomains(t *testing.T) {
	r := &memResolver{}
	e := netConf(t, "util_rb_tld com\nuridnsbl_max_domains 2\nurirhsbl T_RHS rhs.test A\nbody T_RHS eval:check_uridnsbl('T_RHS')\n", r)
	body := "http://one.com/ http://two.com/ http://three.com/ http://four.com/\n"
	e.CheckBytes(context.Background(), nil, []byte("Subject: x\n\n"+body))
	want := []string{"A one.com.rhs.test", "A two.com.rhs.test"}
	if got := r.questions(); !slices.Equal(got, want) {
		t.Errorf("asked %q, want %q", got, want)
	}
}

func TestDNSBlockRuleFromConf(t *testing.T) {
	r := &memResolver{a: map[string][]string{
		"160.69.2.81.bl.test": {"127.0.0.99"},
		"161.69.2.81.bl.test": {"127.0.0.2"},
	}}
	e := netConf(t, `
header __T_ANY    eval:check_rbl('s', 'bl.test')
header T_LISTED   eval:check_rbl_sub('s', '127.0.0.2')
header T_BLOCKED  eval:check_rbl_sub('s', '127.0.0.99')
dns_block_rule T_BLOCKED bl.test
dns_block_time 60
`, r)
	now := time.Unix(1e9, 0)
	e.dns.now = func() time.Time { return now }
	msg := func(ip string) []byte {
		return []byte("Received: from o.example (o.example [" + ip + "])\n\tby mx.example.org (Postfix) with ESMTP id 2; Mon, 1 Jan 2024 10:00:01 +0000\nSubject: x\n\nhi\n")
	}
	if res := e.CheckBytes(context.Background(), nil, msg("81.2.69.160")); len(res.Rules) != 0 {
		t.Errorf("blocked answer set rules %v", res.Rules)
	}
	if res := e.CheckBytes(context.Background(), nil, msg("81.2.69.161")); len(res.Rules) != 0 {
		t.Errorf("resting zone set rules %v", res.Rules)
	}
	now = now.Add(61 * time.Second)
	if res := e.CheckBytes(context.Background(), nil, msg("81.2.69.161")); !slices.Equal(res.Rules, []string{"T_LISTED"}) {
		t.Errorf("after dns_block_time: rules %v, want [T_LISTED]", res.Rules)
	}
}

func TestRBLSubtestParse(t *testing.T) {
	tests := []struct {
		sub, val string
		want     bool
	}{
		{"8", "127.0.0.8", true},
		{"8", "127.0.0.9", true},
		{"8", "127.0.0.4", false},
		{"8", "10.0.0.8", false}, // masks apply to 127/8 only
		{"127.0.0.2", "127.0.0.2", true},
		{"127.0.0.2", "127.0.0.20", false},
		{`^127\.0\.0\.[4567]$`, "127.0.0.5", true},
		{`^127\.0\.0\.[4567]$`, "127.0.0.8", false},
		{`/^127\.0\.1\.\d+$/`, "127.0.1.9", true},
		{"(?i:spamcop)", "see SpamCop", true},
	}
	for _, tc := range tests {
		st, err := parseRBLSubtest(tc.sub)
		if err != nil {
			t.Fatalf("parseRBLSubtest(%q): %v", tc.sub, err)
		}
		if got := st.match(tc.val); got != tc.want {
			t.Errorf("subtest %q on %q = %v, want %v", tc.sub, tc.val, got, tc.want)
		}
	}
	for _, bad := range []string{"sb:foo", "99999999999", "(unclosed"} {
		if _, err := parseRBLSubtest(bad); err == nil {
			t.Errorf("parseRBLSubtest(%q) accepted", bad)
		}
	}
}

func TestURISubtestParse(t *testing.T) {
	tests := []struct {
		sub, val string
		want     bool
	}{
		{"2", "127.0.0.2", true},
		{"2", "127.0.0.6", true},
		{"2", "127.0.0.4", false},
		{"2", "10.0.0.2", false},
		{"127.0.1.2", "127.0.1.2", true},
		{"127.0.1.2", "127.0.1.3", false},
		{"127.0.1.20-127.0.1.39", "127.0.1.30", true},
		{"127.0.1.20-127.0.1.39", "127.0.1.40", false},
		{"0x10/0x10", "127.0.0.16", true},
		{"16/16", "127.0.0.15", false},
		{"0.0.0.16/0.0.0.16", "127.0.0.48", true},
	}
	for _, tc := range tests {
		st, err := parseURISubtest(tc.sub)
		if err != nil {
			t.Fatalf("parseURISubtest(%q): %v", tc.sub, err)
		}
		if got := st.match(tc.val); got != tc.want {
			t.Errorf("subtest %q on %q = %v, want %v", tc.sub, tc.val, got, tc.want)
		}
	}
	for _, bad := range []string{"", "abc", "1-", "0x123456789", "1.2.3"} {
		if _, err := parseURISubtest(bad); err == nil {
			t.Errorf("parseURISubtest(%q) accepted", bad)
		}
	}
}

func TestBuiltinRefusal(t *testing.T) {
	tests := []struct {
		zone, ip string
		want     refusal
	}{
		{"zen.spamhaus.org", "127.255.255.254", refusedQuery},
		{"zen.spamhaus.org", "127.255.255.255", refusedQuery},
		{"zen.spamhaus.org", "127.0.0.2", notRefused},
		{"key.zen.dq.spamhaus.net", "127.255.255.252", refusedQuery},
		{"dbl.spamhaus.org", "127.0.1.255", queryError},
		{"dbl.spamhaus.org", "127.0.1.2", notRefused},
		{"multi.uribl.com", "127.0.0.1", refusedQuery},
		{"multi.uribl.com", "127.0.0.2", notRefused},
		{"multi.surbl.org", "127.0.0.1", refusedQuery},
		{"list.dnswl.org", "127.0.0.255", refusedQuery},
		{"list.dnswl.org", "127.0.10.2", notRefused},
		{"bl.example", "127.0.0.1", notRefused},
	}
	for _, tc := range tests {
		if got := builtinRefusal(tc.zone, netip.MustParseAddr(tc.ip)); got != tc.want {
			t.Errorf("builtinRefusal(%q, %s) = %v, want %v", tc.zone, tc.ip, got, tc.want)
		}
	}
}

func TestReverseIP(t *testing.T) {
	tests := []struct{ ip, zone, want string }{
		{"81.2.69.160", "bl.test", "160.69.2.81"},
		{"::ffff:81.2.69.160", "bl.test", "160.69.2.81"},
		{"2001:db8::1", "zen.spamhaus.org", "1.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.8.b.d.0.1.0.0.2"},
		{"2001:db8::1", "psbl.surriel.com", ""},
		{"not-an-ip", "bl.test", ""},
	}
	for _, tc := range tests {
		if got, _ := reverseIP(tc.ip, tc.zone); got != tc.want {
			t.Errorf("reverseIP(%q, %q) = %q, want %q", tc.ip, tc.zone, got, tc.want)
		}
	}
}

func TestURIToDomain(t *testing.T) {
	e := netConf(t, "util_rb_tld com uk org\nutil_rb_2tld co.uk\n", &memResolver{})
	tests := []struct{ uri, host, dom string }{
		{"http://www.Example.co.uk/path?q#f", "www.example.co.uk", "example.co.uk"},
		{"https://user:pw@mail.example.com:8443/", "mail.example.com", "example.com"},
		{"mailto:someone@lists.example.org?subject=hi", "lists.example.org", "example.org"},
		{"http://81.2.69.160/x", "81.2.69.160", "81.2.69.160"},
		{"http://www.example.invalidtld/", "", ""},
		{"javascript:alert(1)", "", ""},
		{"http://www.ex%61mple.com/", "", ""},
		{"http://bad_label.com/", "", ""},
		{"http://b\u00fccher.com/", "", ""}, // Latin-1 bytes that are not UTF-8
		{"http://b\u00c3\u00bccher.com/", "xn--bcher-kva.com", "xn--bcher-kva.com"},
	}
	for _, tc := range tests {
		host, dom, _ := e.dns.uriToDomain(tc.uri)
		if host != tc.host || dom != tc.dom {
			t.Errorf("uriToDomain(%q) = %q, %q; want %q, %q", tc.uri, host, dom, tc.host, tc.dom)
		}
	}
}

func TestDNSConfDirectives(t *testing.T) {
	e := netConf(t, `
rbl_timeout 5 2
rbl_timeout 1s slow.test
uridnsbl_max_domains 7
uridnsbl_skip_mailto 0
dns_block_time 2m
rbl_headers From,Sender
`, &memResolver{})
	d := e.dns.conf
	if d.rblTimeout() != 5*time.Second || d.rblTimeoutMin() != 2*time.Second {
		t.Errorf("rbl_timeout = %v %v, want 5s 2s", d.rblTimeout(), d.rblTimeoutMin())
	}
	if got := d.zoneTimeoutFor("1.2.3.4.slow.test"); got != time.Second {
		t.Errorf("zone timeout = %v, want 1s", got)
	}
	if d.uriMaxDomains() != 7 || !d.keepMailto || d.blockDuration() != 2*time.Minute {
		t.Errorf("max domains %d, keep mailto %v, block %v", d.uriMaxDomains(), d.keepMailto, d.blockDuration())
	}
	if !slices.Equal(d.rblHeaderNames(), []string{"From", "Sender"}) {
		t.Errorf("rbl_headers = %v", d.rblHeaderNames())
	}
	_, warns, _ := LoadConf("t.cf", "urirhssub X zone.test A nonsense\nrbl_timeout soon\nuridnssub Y z.test MX 2\n", Options{})
	if len(warns) != 3 {
		t.Errorf("bad directives: %d warnings %q, want 3", len(warns), warns)
	}
}

func TestFQDNValid(t *testing.T) {
	for host, want := range map[string]bool{
		"example.com": true, "a.b-c.example.com": true, "_dmarc.sub.example.com": true,
		"com": false, "-a.com": false, "a..com": false, "ex_ample.com": false, "a.c_m": false,
		strings.Repeat("a", 64) + ".com": false,
	} {
		if got := fqdnValid(host); got != want {
			t.Errorf("fqdnValid(%q) = %v, want %v", host, got, want)
		}
	}
}
