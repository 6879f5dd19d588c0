package spam

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/base64"
	"net"
	"net/netip"
	"slices"
	"strings"
	"testing"

	msgdkim "github.com/emersion/go-msgauth/dkim"

	"github.com/gomilter/gomilter/internal/dns"
	"github.com/gomilter/gomilter/internal/mailmsg"
	"github.com/gomilter/gomilter/internal/spf"
)

// authRules are the DKIM and SPF rules of Debian's 25_dkim.cf, 25_spf.cf
// and 60_welcomelist_*.cf as they are written there (net rules, so they
// run only with a resolver), plus argument forms used by __RESIGNER*.
const authRules = `
full     DKIM_SIGNED		eval:check_dkim_signed()
tflags   DKIM_SIGNED		net
full     DKIM_VALID		eval:check_dkim_valid()
tflags   DKIM_VALID		net nice
full     DKIM_VALID_AU		eval:check_dkim_valid_author_sig()
tflags   DKIM_VALID_AU		net nice
full     DKIM_VALID_EF		eval:check_dkim_valid_envelopefrom()
tflags   DKIM_VALID_EF		net nice
full     __DKIM_DEPENDABLE	eval:check_dkim_dependable()
meta     DKIM_DEP		__DKIM_DEPENDABLE
full     RESIGNER		eval:check_dkim_valid('.esp.example')
tflags   RESIGNER		net
full     SIGNED_BY_ESP		eval:check_dkim_signed('esp.example')
tflags   SIGNED_BY_ESP		net
full     AU_SUB			eval:check_dkim_valid_author_sig('*.example.com')
tflags   AU_SUB			net
header   DKIM_ADSP_ALL		eval:check_dkim_adsp('A')
tflags   DKIM_ADSP_ALL		net
header   DKIM_POLICY_TESTING	eval:check_dkim_testing()
tflags   DKIM_POLICY_TESTING	net nice
full     ARC_SIGNED		eval:check_arc_signed()
tflags   ARC_SIGNED		net
full     ARC_VALID		eval:check_arc_valid()
tflags   ARC_VALID		net nice
header   USER_IN_DKIM_WELCOMELIST	eval:check_for_dkim_welcomelist_from()
tflags   USER_IN_DKIM_WELCOMELIST	net nice
header   USER_IN_DEF_DKIM_WL	eval:check_for_def_dkim_welcomelist_from()
tflags   USER_IN_DEF_DKIM_WL	net nice
header   SPF_PASS		eval:check_for_spf_pass()
tflags   SPF_PASS		net nice
header   SPF_NEUTRAL		eval:check_for_spf_neutral()
tflags   SPF_NEUTRAL		net
header   SPF_FAIL		eval:check_for_spf_fail()
tflags   SPF_FAIL		net
header   SPF_SOFTFAIL		eval:check_for_spf_softfail()
tflags   SPF_SOFTFAIL		net
header   SPF_NONE		eval:check_for_spf_none()
tflags   SPF_NONE		net
header   T_SPF_PERMERROR	eval:check_for_spf_permerror()
tflags   T_SPF_PERMERROR	net
header   T_SPF_TEMPERROR	eval:check_for_spf_temperror()
tflags   T_SPF_TEMPERROR	net
header   SPF_HELO_PASS		eval:check_for_spf_helo_pass()
tflags   SPF_HELO_PASS		net nice
header   SPF_HELO_FAIL		eval:check_for_spf_helo_fail()
tflags   SPF_HELO_FAIL		net
header   SPF_HELO_NONE		eval:check_for_spf_helo_none()
tflags   SPF_HELO_NONE		net
header   SPF_HELO_SOFTFAIL	eval:check_for_spf_helo_softfail()
tflags   SPF_HELO_SOFTFAIL	net
header   SPF_HELO_NEUTRAL	eval:check_for_spf_helo_neutral()
tflags   SPF_HELO_NEUTRAL	net
header   T_SPF_HELO_PERMERROR	eval:check_for_spf_helo_permerror()
tflags   T_SPF_HELO_PERMERROR	net
header   T_SPF_HELO_TEMPERROR	eval:check_for_spf_helo_temperror()
tflags   T_SPF_HELO_TEMPERROR	net
header   USER_IN_SPF_WELCOMELIST	eval:check_for_spf_welcomelist_from()
tflags   USER_IN_SPF_WELCOMELIST	net nice
header   USER_IN_DEF_SPF_WL	eval:check_for_def_spf_welcomelist_from()
tflags   USER_IN_DEF_SPF_WL	net nice
`

// authMsg comes straight from a client (no Received field: the engine
// builds Postfix's from the envelope in CheckAuth).
const authMsg = "From: News <news@news.example.com>\r\n" +
	"To: user@example.org\r\n" +
	"Subject: monthly letter\r\n" +
	"Date: Mon, 1 Jan 2024 10:00:00 +0000\r\n" +
	"Message-ID: <1@news.example.com>\r\n" +
	"\r\n" +
	"Hello.\r\n"

func authMessage(t *testing.T, raw string) *mailmsg.Message {
	t.Helper()
	var m mailmsg.Message
	hdr, body, _ := strings.Cut(raw, "\r\n\r\n")
	for _, line := range strings.Split(hdr, "\r\n") {
		if line[0] == ' ' || line[0] == '\t' {
			m.Header[len(m.Header)-1].Value += "\r\n" + line
			continue
		}
		name, value, ok := strings.Cut(line, ":")
		if !ok {
			t.Fatalf("bad header line %q", line)
		}
		m.Header = append(m.Header, mailmsg.Field{Name: name, Value: value})
	}
	m.Body = []byte(body)
	return &m
}

var authEnv = mailmsg.Envelope{
	ClientAddr: netip.MustParseAddr("203.0.113.5"), ClientName: "out.esp.example",
	Helo: "out.esp.example", MailFrom: "bounce@news.example.com", Rcpts: []string{"user@example.org"},
}

func authEngine(t *testing.T, extra string) *Engine {
	t.Helper()
	return netConf(t, authRules+extra, noResolver{})
}

func pass(d string) DKIMSignature {
	return DKIMSignature{Domain: d, Selector: "s1", Algorithm: "rsa-sha256", Result: "pass", KeyBits: 2048}
}

// TestAuthDKIMSupplied runs each DKIM eval on results as the milter
// hands them over.
func TestAuthDKIMSupplied(t *testing.T) {
	weak := pass("news.example.com")
	weak.KeyBits = 512
	failed := pass("news.example.com")
	failed.Result = "fail"
	byI := pass("example.com")
	byI.Identity = "mailer@news.example.com"
	ed := DKIMSignature{Domain: "news.example.com", Selector: "e1", Algorithm: "ed25519-sha256", Result: "pass", KeyBits: 256}
	testKey := pass("esp.example")
	testKey.Testing = true
	all := []string{"DKIM_SIGNED", "DKIM_VALID", "DKIM_VALID_AU", "DKIM_VALID_EF", "DKIM_DEP",
		"RESIGNER", "SIGNED_BY_ESP", "AU_SUB", "DKIM_ADSP_ALL", "DKIM_POLICY_TESTING", "ARC_SIGNED", "ARC_VALID"}
	cases := []struct {
		name string
		auth *Auth
		want []string
	}{
		// Nothing supplied: the engine verifies (no signature here).
		{"not supplied", nil, []string{"DKIM_DEP"}},
		{"unsigned", &Auth{DKIMVerified: true}, []string{"DKIM_DEP"}},
		{"author", &Auth{DKIMVerified: true, DKIM: []DKIMSignature{pass("news.example.com")}},
			[]string{"DKIM_SIGNED", "DKIM_VALID", "DKIM_VALID_AU", "DKIM_VALID_EF", "DKIM_DEP", "AU_SUB"}},
		{"author ed25519", &Auth{DKIMVerified: true, DKIM: []DKIMSignature{ed}},
			[]string{"DKIM_SIGNED", "DKIM_VALID", "DKIM_VALID_AU", "DKIM_VALID_EF", "DKIM_DEP", "AU_SUB"}},
		{"author by i=", &Auth{DKIMVerified: true, DKIM: []DKIMSignature{byI}},
			[]string{"DKIM_SIGNED", "DKIM_VALID", "DKIM_VALID_AU", "DKIM_VALID_EF", "DKIM_DEP", "AU_SUB"}},
		// Valid, but too short for an author signature (dkim_minimum_key_bits).
		{"weak author key", &Auth{DKIMVerified: true, DKIM: []DKIMSignature{weak}},
			[]string{"DKIM_SIGNED", "DKIM_VALID", "DKIM_DEP"}},
		{"failed", &Auth{DKIMVerified: true, DKIM: []DKIMSignature{failed}}, []string{"DKIM_SIGNED", "DKIM_DEP"}},
		// The parent domain is not the author domain: no DKIM_VALID_AU.
		{"parent domain", &Auth{DKIMVerified: true, DKIM: []DKIMSignature{pass("example.com")}},
			[]string{"DKIM_SIGNED", "DKIM_VALID", "DKIM_DEP"}},
		{"third party testing key", &Auth{DKIMVerified: true, DKIM: []DKIMSignature{failed, testKey}},
			[]string{"DKIM_SIGNED", "DKIM_VALID", "DKIM_DEP", "SIGNED_BY_ESP", "RESIGNER", "DKIM_POLICY_TESTING"}},
		{"resigner subdomain", &Auth{DKIMVerified: true, DKIM: []DKIMSignature{pass("lists.esp.example")}},
			[]string{"DKIM_SIGNED", "DKIM_VALID", "DKIM_DEP", "RESIGNER"}},
		{"arc pass", &Auth{DKIMVerified: true, ARC: "pass"}, []string{"DKIM_DEP", "ARC_SIGNED", "ARC_VALID"}},
		{"arc fail", &Auth{DKIMVerified: true, ARC: "fail"}, []string{"DKIM_DEP", "ARC_SIGNED"}},
	}
	e := authEngine(t, "")
	msg := authMessage(t, authMsg)
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got := hitsAmong(e.CheckAuth(context.Background(), &authEnv, msg, c.auth), all)
			if !slices.Equal(got, sorted(c.want)) {
				t.Errorf("hits %v, want %v", got, sorted(c.want))
			}
		})
	}
}

// TestAuthDKIMWelcomelist: the author must be listed and the listed (or
// the author's own) domain must have signed validly.
func TestAuthDKIMWelcomelist(t *testing.T) {
	cases := []struct {
		conf string
		sigs []DKIMSignature
		want []string
	}{
		{"welcomelist_from_dkim *@news.example.com\n", []DKIMSignature{pass("news.example.com")}, []string{"USER_IN_DKIM_WELCOMELIST"}},
		{"whitelist_from_dkim *@news.example.com\n", []DKIMSignature{pass("esp.example")}, nil},
		{"welcomelist_from_dkim news@news.example.com esp.example\n", []DKIMSignature{pass("esp.example")}, []string{"USER_IN_DKIM_WELCOMELIST"}},
		{"welcomelist_from_dkim news@news.example.com .esp.example\n", []DKIMSignature{pass("esp.example")}, nil},
		{"welcomelist_from_dkim news@news.example.com *.esp.example\n", []DKIMSignature{pass("out.esp.example")}, []string{"USER_IN_DKIM_WELCOMELIST"}},
		{"welcomelist_from_dkim other@news.example.com\n", []DKIMSignature{pass("news.example.com")}, nil},
		{"def_welcomelist_from_dkim *@*.example.com esp.example\n", []DKIMSignature{pass("esp.example")}, []string{"USER_IN_DEF_DKIM_WL"}},
		{"def_whitelist_from_dkim *@news.example.com\nunwelcomelist_from_dkim *@news.example.com\n", []DKIMSignature{pass("news.example.com")}, nil},
		{"welcomelist_auth *@news.example.com\n", []DKIMSignature{pass("news.example.com")}, []string{"USER_IN_DKIM_WELCOMELIST"}},
		{"def_welcomelist_auth *@news.example.com\n", []DKIMSignature{pass("news.example.com")}, []string{"USER_IN_DEF_DKIM_WL"}},
		{"welcomelist_from_dkim *@news.example.com\ndkim_minimum_key_bits 4096\n", []DKIMSignature{pass("news.example.com")}, nil},
	}
	msg := authMessage(t, authMsg)
	for _, c := range cases {
		e := authEngine(t, c.conf)
		res := e.CheckAuth(context.Background(), &authEnv, msg, &Auth{DKIMVerified: true, DKIM: c.sigs})
		got := hitsAmong(res, []string{"USER_IN_DKIM_WELCOMELIST", "USER_IN_DEF_DKIM_WL"})
		if !slices.Equal(got, c.want) {
			t.Errorf("%q signed by %v: hits %v, want %v", c.conf, c.sigs[0].Domain, got, c.want)
		}
	}
}

// TestAuthSPFSupplied: each result sets its one rule per identity.
func TestAuthSPFSupplied(t *testing.T) {
	names := map[string]string{"pass": "SPF_PASS", "neutral": "SPF_NEUTRAL", "none": "SPF_NONE", "fail": "SPF_FAIL",
		"softfail": "SPF_SOFTFAIL", "permerror": "T_SPF_PERMERROR", "temperror": "T_SPF_TEMPERROR"}
	all := []string{"SPF_HELO_PASS", "SPF_HELO_NEUTRAL", "SPF_HELO_NONE", "SPF_HELO_FAIL", "SPF_HELO_SOFTFAIL",
		"T_SPF_HELO_PERMERROR", "T_SPF_HELO_TEMPERROR"}
	for _, n := range names {
		all = append(all, n)
	}
	e := authEngine(t, "")
	msg := authMessage(t, authMsg)
	for res, rule := range names {
		helo := "pass"
		if res == "pass" {
			helo = "fail"
		}
		got := hitsAmong(e.CheckAuth(context.Background(), &authEnv, msg, &Auth{SPF: res, SPFHelo: helo}), all)
		want := sorted([]string{rule, "SPF_HELO_" + strings.ToUpper(helo)})
		if !slices.Equal(got, want) {
			t.Errorf("spf=%s helo=%s: hits %v, want %v", res, helo, got, want)
		}
	}
	// The null sender: no MAIL FROM identity, the HELO one answers.
	got := hitsAmong(e.CheckAuth(context.Background(), &authEnv, msg, &Auth{SPF: SPFSkipped, SPFHelo: "softfail"}), all)
	if !slices.Equal(got, []string{"SPF_HELO_SOFTFAIL"}) {
		t.Errorf("null sender: hits %v", got)
	}
}

func TestAuthSPFWelcomelist(t *testing.T) {
	msg := authMessage(t, authMsg)
	cases := []struct {
		conf, spf string
		want      []string
	}{
		{"welcomelist_from_spf *@news.example.com\n", "pass", []string{"USER_IN_SPF_WELCOMELIST"}},
		{"whitelist_from_spf *@news.example.com\n", "softfail", nil},
		{"whitelist_from_spf *@example.com\n", "pass", nil},
		{"def_whitelist_from_spf bounce@news.example.com\n", "pass", []string{"USER_IN_DEF_SPF_WL"}},
		{"def_welcomelist_from_spf bounce@news.example.com\nunwelcomelist_from_spf bounce@news.example.com\n", "pass", nil},
		{"welcomelist_auth *@*.example.com\n", "pass", []string{"USER_IN_SPF_WELCOMELIST"}},
		{"def_whitelist_auth *@*.example.com\n", "pass", []string{"USER_IN_DEF_SPF_WL"}},
	}
	for _, c := range cases {
		e := authEngine(t, c.conf)
		got := hitsAmong(e.CheckAuth(context.Background(), &authEnv, msg, &Auth{SPF: c.spf}),
			[]string{"USER_IN_SPF_WELCOMELIST", "USER_IN_DEF_SPF_WL"})
		if !slices.Equal(got, c.want) {
			t.Errorf("%q spf=%s: hits %v, want %v", c.conf, c.spf, got, c.want)
		}
	}
}

// TestAuthNetworkOff: without a resolver the net rules do not run, even
// with results supplied (SpamAssassin's -L). Supplied signatures are
// dependable, as SA's are when its caller passes them; without them
// nothing is.
func TestAuthNetworkOff(t *testing.T) {
	e, _, err := LoadConf("t.cf", authRules, Options{})
	if err != nil {
		t.Fatal(err)
	}
	res := e.CheckAuth(context.Background(), &authEnv, authMessage(t, authMsg),
		&Auth{DKIMVerified: true, DKIM: []DKIMSignature{pass("news.example.com")}, SPF: "pass"})
	if !slices.Equal(res.Rules, []string{"DKIM_DEP"}) {
		t.Errorf("network tests off, results supplied: hits %v", res.Rules)
	}
	res = e.CheckBytes(context.Background(), nil, []byte(authMsg))
	if len(res.Rules) != 0 || len(e.NotImpl) != 0 {
		t.Errorf("hits %v, not implemented %v", res.Rules, e.NotImpl)
	}
}

// selfResolver answers TXT from a map and the rest of SPF's questions
// with NXDOMAIN, as a zone holding only those records would.
type selfResolver struct{ txt map[string]string }

func (r selfResolver) LookupTXT(_ context.Context, name string) ([]string, error) {
	if v, ok := r.txt[strings.TrimSuffix(strings.ToLower(name), ".")]; ok {
		return []string{v}, nil
	}
	return nil, &dns.Error{Name: name, Type: "TXT", Kind: dns.ErrNotFound}
}
func (selfResolver) LookupA(_ context.Context, name string) ([]netip.Addr, error) {
	return nil, &dns.Error{Name: name, Type: "A", Kind: dns.ErrNotFound}
}
func (selfResolver) LookupAAAA(_ context.Context, name string) ([]netip.Addr, error) {
	return nil, &dns.Error{Name: name, Type: "AAAA", Kind: dns.ErrNotFound}
}
func (selfResolver) LookupMX(_ context.Context, name string) ([]*net.MX, error) {
	return nil, &dns.Error{Name: name, Type: "MX", Kind: dns.ErrNotFound}
}
func (selfResolver) LookupAddr(_ context.Context, ip netip.Addr) ([]string, error) {
	return nil, &dns.Error{Name: ip.String(), Type: "PTR", Kind: dns.ErrNotFound}
}

var _ spf.Resolver = selfResolver{}

// TestAuthSelfVerified: with nothing supplied and network tests on, the
// engine verifies DKIM and SPF itself (spamd and 'spam check' do this).
func TestAuthSelfVerified(t *testing.T) {
	pub, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	var signed bytes.Buffer
	if err := msgdkim.Sign(&signed, strings.NewReader(authMsg), &msgdkim.SignOptions{
		Domain: "news.example.com", Selector: "e1", Signer: priv,
		HeaderKeys: []string{"From", "To", "Subject", "Date", "Message-ID"},
	}); err != nil {
		t.Fatal(err)
	}
	r := selfResolver{txt: map[string]string{
		"e1._domainkey.news.example.com": "v=DKIM1; k=ed25519; p=" + base64.StdEncoding.EncodeToString(pub),
		"news.example.com":               "v=spf1 ip4:203.0.113.0/24 -all",
		"out.esp.example":                "v=spf1 -all",
	}}
	e := netConf(t, authRules, r)
	all := []string{"DKIM_SIGNED", "DKIM_VALID", "DKIM_VALID_AU", "DKIM_VALID_EF", "DKIM_DEP", "SPF_PASS", "SPF_HELO_FAIL", "SPF_NONE"}
	got := hitsAmong(e.CheckAuth(context.Background(), &authEnv, authMessage(t, signed.String()), nil), all)
	want := sorted([]string{"DKIM_SIGNED", "DKIM_VALID", "DKIM_VALID_AU", "DKIM_VALID_EF", "DKIM_DEP", "SPF_PASS", "SPF_HELO_FAIL"})
	if !slices.Equal(got, want) {
		t.Errorf("self-verified: hits %v, want %v", got, want)
	}
	// A body changed after signing: signed, not valid.
	broken := strings.Replace(signed.String(), "Hello.", "Hello!", 1)
	got = hitsAmong(e.CheckAuth(context.Background(), &authEnv, authMessage(t, broken), nil), all)
	want = sorted([]string{"DKIM_SIGNED", "DKIM_DEP", "SPF_PASS", "SPF_HELO_FAIL"})
	if !slices.Equal(got, want) {
		t.Errorf("broken body: hits %v, want %v", got, want)
	}
}

// hitsAmong returns the rules of names that res hit (subrules via the
// DKIM_DEP meta), sorted.
func hitsAmong(res *Result, names []string) []string {
	var out []string
	for _, r := range res.Rules {
		if slices.Contains(names, r) {
			out = append(out, r)
		}
	}
	return sorted(out)
}

func sorted(s []string) []string {
	s = slices.Clone(s)
	slices.Sort(s)
	return s
}

func TestDomainMatches(t *testing.T) {
	for _, c := range []struct {
		sdid, want string
		ok         bool
	}{
		{"example.com", "example.com", true},
		{"example.com", "EXAMPLE.com", true},
		{"a.example.com", "example.com", false},
		{"a.example.com", ".example.com", true},
		{"example.com", ".example.com", true},
		{"a.example.com", "*.example.com", true},
		{"badexample.com", ".example.com", false},
	} {
		if got := domainMatches(c.sdid, c.want); got != c.ok {
			t.Errorf("domainMatches(%q, %q) = %v", c.sdid, c.want, got)
		}
	}
}

// FuzzAuthConf feeds the welcomelist directives arbitrary values and
// scores a message with arbitrary supplied results: no panic.
func FuzzAuthConf(f *testing.F) {
	f.Add("welcomelist_from_dkim *@news.example.com esp.example", "news.example.com", "news@x", "pass")
	f.Add("unwhitelist_from_dkim", "", "", "")
	f.Add("dkim_minimum_key_bits x\nwelcomelist_from_spf <> a b", "@", "@", "hardfail")
	f.Fuzz(func(t *testing.T, conf, domain, identity, result string) {
		e, _, err := LoadConf("fuzz.cf", authRules+conf, Options{Resolver: noResolver{}})
		if err != nil {
			return
		}
		sig := DKIMSignature{Domain: domain, Identity: identity, Selector: "s", Result: result}
		e.CheckBytes(context.Background(), nil, []byte(authMsg))
		e.check(context.Background(), &authEnv, []byte(authMsg), &Auth{DKIMVerified: true, DKIM: []DKIMSignature{sig}, SPF: result, SPFHelo: result, ARC: result})
	})
}
