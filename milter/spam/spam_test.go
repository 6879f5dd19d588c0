package spam

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/gomilter/gomilter/internal/mailmsg"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	"github.com/prometheus/client_golang/prometheus/testutil/promlint"
)

func TestCompilePerl(t *testing.T) {
	tests := []struct {
		name, pat, flags, in string
		want, bt             bool
	}{
		{"literal", `foo`, "", "a foo b", true, false},
		{"case", `FOO`, "i", "a foo b", true, false},
		{"case-sensitive", `FOO`, "", "a foo b", false, false},
		{"dollar before final newline", `^abc$`, "", "abc\n", true, false},
		{"dollar not mid", `^abc$`, "", "abc\nx", false, false},
		{"multiline", `^x$`, "m", "abc\nx\ny", true, false},
		{"latin1 class", `[\x80-\xff]{2}`, "", latin1([]byte("caf\xc3\xa9")), true, false},
		{"x flag", `a b # comment` + "\n" + `c`, "x", "abc", true, false},
		{"lookahead", `foo(?!bar)`, "", "foobar foobaz", true, true},
		{"lookahead miss", `foo(?!bar)`, "", "foobar", false, true},
		{"backref", `(\w)\1`, "", "abba", true, true},
		{"possessive", `a++b`, "", "aab", true, false},
		{"Z", `end\Z`, "", "the end\n", true, false},
		{"hex brace", `\x{41}`, "", "A", true, false},
		{"octal", `\101`, "", "A", true, false},
		{"unknown escape", `\y`, "", "y", true, false},
		{"h class", `a\hb`, "", "a\tb", true, false},
		{"case-insensitive class", `[A-C]x`, "i", "bX", true, false},
		// Raw bytes in a rule file stand for the mail's bytes.
		{"raw byte class", "gu[e\xe8\xe9]i", "i", latin1([]byte("de gu\xe8i")), true, false},
		{"raw UTF-8 bytes", "caf\xc3\xa9", "", latin1([]byte("caf\xc3\xa9")), true, false},
		{"raw byte not its UTF-8", "caf\xe9", "", latin1([]byte("caf\xc3\xa9")), false, false},
		{"raw byte backtracking", "(?<=gu)\xe8", "", latin1([]byte("gu\xe8i")), true, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			m, bt, err := CompilePerl(tc.pat, tc.flags)
			if err != nil {
				t.Fatalf("CompilePerl(%q, %q): %v", tc.pat, tc.flags, err)
			}
			if bt != tc.bt {
				t.Errorf("CompilePerl(%q) backtracking = %v, want %v", tc.pat, bt, tc.bt)
			}
			if got := m.Match(newText(tc.in)); got != tc.want {
				t.Errorf("/%s/%s on %q = %v, want %v", tc.pat, tc.flags, tc.in, got, tc.want)
			}
		})
	}
}

func TestExpr(t *testing.T) {
	vals := map[string]float64{"A": 1, "B": 0, "C": 3}
	look := func(n string) float64 { return vals[n] }
	tests := []struct {
		in   string
		want float64
	}{
		{"A && B", 0}, {"A || B", 1}, {"!B", 1}, {"A + C", 4}, {"(A + C) > 3", 1},
		{"C * 2 - 1 == 5", 1}, {"A && C", 3}, {"B || C", 3}, {"!(A && !B)", 0},
		{"UNKNOWN || A", 1}, {"-A + 2", 1}, {"C / 2 >= 1.5", 1},
	}
	for _, tc := range tests {
		e, err := parseExpr(tc.in)
		if err != nil {
			t.Fatalf("parseExpr(%q): %v", tc.in, err)
		}
		if got := evalExpr(e, look); got != tc.want {
			t.Errorf("eval(%q) = %v, want %v", tc.in, got, tc.want)
		}
	}
	for _, bad := range []string{"A &&", "(A", "A ) B", "A = B", ""} {
		if _, err := parseExpr(bad); err == nil {
			t.Errorf("parseExpr(%q) succeeded, want error", bad)
		}
	}
}

const testCF = `
required_score 4.0
rewrite_header Subject *****SPAM*****
header   R_SUBJ      Subject =~ /viagra/i
score    R_SUBJ      3.5
describe R_SUBJ      Subject mentions it
header   R_NOFROM    From:addr !~ /\@/ [if-unset: nobody@example.com]
header   __HAS_TO    exists:To
body     R_BODY      /cheap\s+meds/i
rawbody  R_RAW       /=3D/
full     R_FULL      /^X-Test: yes$/m
uri      R_URI       m{^https?://\d+\.\d+\.\d+\.\d+}
meta     R_META      R_SUBJ && R_BODY && __HAS_TO
score    R_META      1.0
score    R_BODY      0.5 0.6 0.7 0.8
if (version >= 3.004000)
body     R_IFOK      /cheap/
endif
if (version >= 9.000000)
body     R_IFNO      /cheap/
endif
ifplugin Mail::SpamAssassin::Plugin::NoSuchThing
body     R_NOPLUG    /cheap/
endif
unknown_directive_xyz 1
whitelist_from *@friends.example
replace_tag  V  (?:v|\\/)
body     R_TAG       /<V>iagra/i
replace_rules R_TAG
`

const testMsg = "From: Spammer <spam@bad.example>\r\nTo: you@example.com\r\n" +
	"Subject: Buy viagra now\r\nX-Test: yes\r\nContent-Type: text/html\r\n\r\n" +
	"<html><body><p>Get <b>cheap</b>\r\n meds at <a href=\"http://10.1.2.3/x\">here</a></p>" +
	"\\/iagra</body></html>\r\n"

func testEngine(t *testing.T) *Engine {
	t.Helper()
	e, warns, err := LoadConf("test.cf", testCF, Options{Hostname: "mx.example"})
	if err != nil {
		t.Fatal(err)
	}
	found := false
	for _, w := range warns {
		found = found || strings.Contains(w, `"unknown_directive_xyz"`)
	}
	if !found {
		t.Errorf("warnings %q lack the unknown directive", warns)
	}
	return e
}

func TestEngineRules(t *testing.T) {
	e := testEngine(t)
	res := e.CheckBytes(context.Background(), nil, []byte(testMsg))
	want := "R_BODY,R_FULL,R_IFOK,R_META,R_SUBJ,R_TAG,R_URI"
	if got := strings.Join(res.Rules, ","); got != want {
		t.Errorf("rules = %s, want %s", got, want)
	}
	// R_BODY uses score set 0 (no net, no Bayes).
	if res.Scores["R_BODY"] != 0.5 || res.Scores["R_SUBJ"] != 3.5 || res.Scores["R_IFOK"] != 1 || res.Scores["R_META"] != 1 {
		t.Errorf("scores = %v", res.Scores)
	}
	if !res.IsSpam || res.Required != 4 {
		t.Errorf("IsSpam=%v required=%v, want spam at 4.0", res.IsSpam, res.Required)
	}
	if res.Subject != "*****SPAM***** Buy viagra now" {
		t.Errorf("Subject = %q", res.Subject)
	}
}

func TestHeadersLikeSA(t *testing.T) {
	e := testEngine(t)
	msg := &mailmsg.Message{Header: []mailmsg.Field{
		{Name: "From", Value: " a@friends.example"}, {Name: "Subject", Value: " hi"},
		{Name: "X-Spam-Status", Value: " Yes, forged"}, {Name: "X-Spam-Flag", Value: " YES"},
	}, Body: []byte("hello\r\n")}
	res := e.Check(context.Background(), &mailmsg.Envelope{}, msg)
	if res.IsSpam {
		t.Fatalf("unexpected spam: %v", res.Rules)
	}
	if strings.Join(res.RemoveHeaders, ",") != "X-Spam-Status,X-Spam-Flag" {
		t.Errorf("RemoveHeaders = %v", res.RemoveHeaders)
	}
	var names []string
	for _, h := range res.Headers {
		names = append(names, h.Name)
	}
	if strings.Join(names, ",") != "X-Spam-Checker-Version,X-Spam-Level,X-Spam-Status" {
		t.Errorf("headers = %v", names)
	}
	if v := res.Headers[0].Value; v != "SpamAssassin 4.0.1 (2024-03-25) on mx.example" {
		t.Errorf("Checker-Version = %q", v)
	}
	if v := res.Headers[1].Value; v != "" {
		t.Errorf("Level = %q, want empty", v)
	}
}

func TestFoldSA(t *testing.T) {
	got := foldSA("X-Spam-Status", "Yes, score=12.3 required=5.0 tests=AAAAAAAAAA,BBBBBBBBBBBB,CCCCCCCCCCCCC,DDDDDDDDDDDD,EEEEEEEEEEEE,FFFFFFF autolearn=no autolearn_force=no version=4.0.1")
	want := "Yes, score=12.3 required=5.0 tests=AAAAAAAAAA,BBBBBBBBBBBB,\n\tCCCCCCCCCCCCC,DDDDDDDDDDDD,EEEEEEEEEEEE,FFFFFFF autolearn=no\n\tautolearn_force=no version=4.0.1"
	if got != want {
		t.Errorf("foldSA =\n%s\nwant\n%s", got, want)
	}
	for _, line := range strings.Split("X-Spam-Status: "+got, "\n") {
		if len(strings.ReplaceAll(line, "\t", "        ")) > 79 {
			t.Errorf("line over 79 columns: %q", line)
		}
	}
}

func TestParseReceived(t *testing.T) {
	tests := []struct{ in, want string }{
		{"from mail.example.com (mail.example.com [192.0.2.1]) by mx.example.org (Postfix) with ESMTP id ABC123; Mon, 1 Jan 2024 00:00:00 +0000",
			"ip=192.0.2.1 rdns=mail.example.com helo=mail.example.com by=mx.example.org"},
		{"from helo.example (unknown [198.51.100.7]) by mx.example.org (Postfix) with ESMTP id X1",
			"ip=198.51.100.7 rdns= helo=helo.example by=mx.example.org"},
		{"from xent.com ([64.161.22.236]) by dogma.slashnull.org (8.11.6/8.11.6) with ESMTP id g7MFbVZ12617",
			"ip=64.161.22.236 rdns= helo=xent.com by=dogma.slashnull.org"},
		{"from [192.168.123.179] (helo=permafrost.net) by sunserver.permafrost.net with esmtp (Exim 3.35 #1 (Debian)) id 17htxj-0008Ad-00",
			"ip=192.168.123.179 rdns= helo=permafrost.net by=sunserver.permafrost.net"},
		{"from unknown (HELO mfrenchw2k) (mfrench42@159.134.179.209 with login) by smtp.mail.vip.sc5.yahoo.com with SMTP",
			"ip=159.134.179.209 rdns= helo=mfrenchw2k by=smtp.mail.vip.sc5.yahoo.com"},
	}
	for _, tc := range tests {
		r, skip := parseReceived(tc.in)
		if r == nil {
			t.Errorf("parseReceived(%q) = nil (skip %v)", tc.in, skip)
			continue
		}
		got := "ip=" + r.ip + " rdns=" + r.rdns + " helo=" + r.helo + " by=" + r.by
		if got != tc.want {
			t.Errorf("parseReceived(%q) = %s, want %s", tc.in, got, tc.want)
		}
	}
	for _, skip := range []string{"(qmail 1234 invoked by uid 0); 1 Jan 2024", "by localhost with local", "from mail pickup service by mx.example with Microsoft SMTPSVC"} {
		if r, ok := parseReceived(skip); r != nil || !ok {
			t.Errorf("parseReceived(%q) = %v, %v; want skipped", skip, r, ok)
		}
	}
}

func TestParseRFC822Date(t *testing.T) {
	tests := []struct {
		in   string
		want int64
	}{
		{"Thu, 22 Aug 2002 11:37:40 -0400", 1030030660},
		{"22 Aug 2002 15:37:40 GMT", 1030030660},
		{"Thu Aug 22 15:37:40 2002", 1029974400}, // SA drops the time here,
		{"Thu, 22 Aug 02 11:37:40 EDT", 1030030660},
	}
	for _, tc := range tests {
		got, ok := parseRFC822Date(tc.in)
		if !ok || got != tc.want {
			t.Errorf("parseRFC822Date(%q) = %d, %v; want %d", tc.in, got, ok, tc.want)
		}
	}
	if _, ok := parseRFC822Date("yesterday"); ok {
		t.Error("parseRFC822Date(yesterday) succeeded")
	}
}

func TestRenderBody(t *testing.T) {
	raw := "Subject: Hello\nContent-Type: multipart/alternative; boundary=\"b\"\n\n" +
		"--b\nContent-Type: text/plain\nContent-Transfer-Encoding: quoted-printable\n\nline one=\nstill one\n\npara two\n" +
		"--b\nContent-Type: text/html\n\n<p>Html &amp; text</p><br>next\n--b--\nepilogue text\n"
	e, _, err := LoadConf("empty.cf", "", Options{})
	if err != nil {
		t.Fatal(err)
	}
	m := newMsgState(e, nil, []byte(raw))
	m.render()
	got := strings.Join(m.bodyLines, "|")
	want := "Hello\n|line onestill one\n|para two\n|Html & text\n|next"
	if got != want {
		t.Errorf("body lines = %q, want %q", got, want)
	}
	if !m.flags.epilogue {
		t.Error("epilogue not flagged")
	}
}

func TestMetrics(t *testing.T) {
	reg := prometheus.NewPedanticRegistry()
	e, _, err := LoadConf("test.cf", testCF, Options{Registerer: reg})
	if err != nil {
		t.Fatal(err)
	}
	e.CheckBytes(context.Background(), nil, []byte(testMsg))
	// A reload on the same registry must keep working.
	if _, _, err := LoadConf("test.cf", testCF, Options{Registerer: reg}); err != nil {
		t.Fatalf("second engine on the same registry: %v", err)
	}
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	problems, err := promlint.NewWithMetricFamilies(mfs).Lint()
	if err != nil || len(problems) > 0 {
		t.Errorf("promlint: %v %v", problems, err)
	}
	if got := testutil.ToFloat64(e.metrics.checks.WithLabelValues("spam")); got != 1 {
		t.Errorf("spam checks = %v, want 1", got)
	}
}

func TestLocalCFOptions(t *testing.T) {
	conf := `
header USER_IN_WELCOMELIST eval:check_from_in_welcomelist()
score  USER_IN_WELCOMELIST -100
header USER_IN_BLOCKLIST   eval:check_from_in_blocklist()
score  USER_IN_BLOCKLIST   100
header __FROM_LIST         eval:check_from_in_list('BANKS')
meta   FROM_BANK           __FROM_LIST
welcomelist_from *@friends.example
blacklist_from   spam@*
enlist_addrlist (BANKS) *@bank.example
trusted_networks 192.0.2.0/24
clear_headers
add_header all Checker Test _HOSTNAME_
add_header spam Score _SCORE_/_REQD_
remove_header all Checker
add_header ham Checker Test2
`
	e, _, err := LoadConf("local.cf", conf, Options{Hostname: "h"})
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		from, rules string
		spam        bool
		headers     string
	}{
		{"a@friends.example", "USER_IN_WELCOMELIST", false, "X-Spam-Checker=Test2"},
		{"spam@evil.example", "USER_IN_BLOCKLIST", true, "X-Spam-Score=100.0/5.0"},
		{"x@bank.example", "FROM_BANK", false, "X-Spam-Checker=Test2"},
	}
	for _, tc := range tests {
		raw := "From: <" + tc.from + ">\nReceived: from a (a [192.0.2.7]) by mx (Postfix) with ESMTP id 1\nSubject: s\n\nbody\n"
		res := e.CheckBytes(context.Background(), nil, []byte(raw))
		var hs []string
		for _, h := range res.Headers {
			hs = append(hs, h.Name+"="+h.Value)
		}
		if got := strings.Join(res.Rules, ","); got != tc.rules || res.IsSpam != tc.spam || strings.Join(hs, ";") != tc.headers {
			t.Errorf("From %s: rules %s spam %v headers %q; want %s %v %q", tc.from, got, res.IsSpam, hs, tc.rules, tc.spam, tc.headers)
		}
	}
	m := newMsgState(e, nil, []byte("Received: from a (a [192.0.2.7]) by mx (Postfix) with ESMTP id 1\n\nx\n"))
	if ri := m.relayInfo(); len(ri.trusted) != 1 || len(ri.untrusted) != 0 {
		t.Errorf("trusted_networks: trusted %d untrusted %d, want 1 0", len(ri.trusted), len(ri.untrusted))
	}
}

func TestTimeLimit(t *testing.T) {
	e, _, err := LoadConf("t.cf", testCF, Options{TimeLimit: time.Nanosecond})
	if err != nil {
		t.Fatal(err)
	}
	res := e.CheckBytes(context.Background(), nil, []byte(testMsg))
	if !res.TimedOut {
		t.Error("TimedOut not set with a 1ns budget")
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	e2 := testEngine(t)
	if res := e2.CheckBytes(ctx, nil, []byte(testMsg)); !res.TimedOut || len(res.Rules) != 0 {
		t.Errorf("cancelled ctx: TimedOut=%v rules=%v", res.TimedOut, res.Rules)
	}
}
