package spam

import (
	"slices"
	"testing"
)

const uriListCF = `
util_rb_tld com net org xyz top
enlist_uri_host (SUSP) top xyz !good.xyz
enlist_uri_host (SHORT) cutpaid.com 192.0.2.7
enlist_uri_host (GONE) gone.example.com
delist_uri_host (GONE) gone.example.com
blocklist_uri_host bad.example.com
welcomelist_uri_host !sub.friend.example.org friend.example.org
header SUSP_HIT  eval:check_uri_host_listed('SUSP')
header SHORT_HIT eval:check_uri_host_listed('SHORT')
header GONE_HIT  eval:check_uri_host_listed('GONE')
header BLOCK_HIT eval:check_uri_host_in_blocklist()
header WELC_HIT  eval:check_uri_host_in_welcomelist()
`

func TestURIHostListed(t *testing.T) {
	for _, tc := range []struct {
		name, body string
		want       []string
	}{
		{"suffix match", "see http://www.shop.top/x", []string{"SUSP_HIT"}},
		{"exception only", "see http://good.xyz/ and http://www.good.xyz/", nil},
		{"exception and another listed host", "see http://good.xyz/ and http://bad.xyz/", []string{"SUSP_HIT"}},
		{"domain list", "go to http://cutpaid.com/abc now", []string{"SHORT_HIT"}},
		{"address literal", "go to http://192.0.2.7/abc now", []string{"SHORT_HIT"}},
		{"delisted", "http://gone.example.com/", nil},
		{"blocklist shorthand", "http://x.bad.example.com/", []string{"BLOCK_HIT"}},
		{"welcomelist shorthand with exception", "http://sub.friend.example.org/ http://www.friend.example.org/", []string{"WELC_HIT"}},
		{"welcomelist exception alone", "http://a.sub.friend.example.org/", nil},
		{"mailto is skipped", "write to mailto:x@shop.top", nil},
		{"not a listed label", "http://top.example.com/", nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			hits := ruleHits(t, uriListCF, "From: a@example.com\nSubject: s\n\n"+tc.body+"\n")
			var got []string
			for _, r := range []string{"SUSP_HIT", "SHORT_HIT", "GONE_HIT", "BLOCK_HIT", "WELC_HIT"} {
				if hits[r] {
					got = append(got, r)
				}
			}
			if !slices.Equal(got, tc.want) {
				t.Errorf("hits %v, want %v", got, tc.want)
			}
		})
	}
}

func TestURIHostSettingWarns(t *testing.T) {
	_, warns, err := LoadConf("t.cf", "enlist_uri_host NOPAREN host.example\nheader X eval:check_uri_host_listed('X')\n", Options{})
	if err != nil {
		t.Fatal(err)
	}
	if len(warns) == 0 {
		t.Error("enlist_uri_host without (LIST) raised no warning")
	}
}

func TestHostQueryKeys(t *testing.T) {
	for _, tc := range []struct {
		host string
		want []string
	}{
		{"a.b.example.com", []string{"a.b.example.com", "b.example.com", "example.com", "com"}},
		{"192.0.2.1", []string{"192.0.2.1"}},
		{"[2001:db8::1]", []string{"2001:db8::1"}},
		{"l1.l2.l3.l4.l5.l6.l7.l8.l9.l10.l11.l12.com", []string{"l3.l4.l5.l6.l7.l8.l9.l10.l11.l12.com",
			"l4.l5.l6.l7.l8.l9.l10.l11.l12.com", "l5.l6.l7.l8.l9.l10.l11.l12.com", "l6.l7.l8.l9.l10.l11.l12.com",
			"l7.l8.l9.l10.l11.l12.com", "l8.l9.l10.l11.l12.com", "l9.l10.l11.l12.com", "l10.l11.l12.com",
			"l11.l12.com", "l12.com", "com"}},
	} {
		if got := hostQueryKeys(tc.host); !slices.Equal(got, tc.want) {
			t.Errorf("hostQueryKeys(%q) = %v, want %v", tc.host, got, tc.want)
		}
	}
}

func TestHTTPSMismatch(t *testing.T) {
	const cf = "util_rb_tld com net org\nbody MISMATCH eval:check_https_http_mismatch('1','3')\n"
	html := func(body string) string {
		return "From: a@example.com\nSubject: s\nContent-Type: text/html\n\n<html><body>" + body + "</body></html>\n"
	}
	for _, tc := range []struct {
		name, body string
		want       bool
	}{
		{"text shows another https domain", `<a href="http://evil.example.com/login">https://www.bank.com/login</a>`, true},
		{"same domain", `<a href="http://www.bank.com/x">https://secure.bank.com/login</a>`, false},
		{"text is not https", `<a href="http://evil.example.com/">http://www.bank.com/</a>`, false},
		{"link to an IP", `<a href="http://192.0.2.1/">https://www.bank.com/</a>`, false},
		{"text shows an IP", `<a href="http://evil.example.com/">https://192.0.2.1/</a>`, true},
		{"link to an unknown TLD", `<a href="http://evil.invalid/">https://www.bank.com/</a>`, false},
		{"too many links", `<a href="http://a1.com/">https://www.bank.com/</a><a href="http://a2.com/">x</a><a href="http://a3.com/">y</a>`, false},
		{"two links", `<a href="http://a1.com/">https://www.bank.com/</a><a href="http://a2.com/">x</a>`, true},
		{"same link twice counts once", `<a href="http://a1.com/">https://www.bank.com/</a><a href="http://a1.com/">x</a><a href="http://a2.com/">y</a>`, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := ruleHits(t, cf, html(tc.body))["MISMATCH"]; got != tc.want {
				t.Errorf("MISMATCH = %v, want %v", got, tc.want)
			}
		})
	}
}
