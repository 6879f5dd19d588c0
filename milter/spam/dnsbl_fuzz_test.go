package spam

import (
	"strings"
	"testing"
)

// FuzzDNSBLSubtest checks that neither subtest parser panics and that
// whatever parses can be applied to any answer.
func FuzzDNSBLSubtest(f *testing.F) {
	for _, s := range []string{"8", "127.0.0.2", `^127\.0\.0\.[4567]$`, "(?i:spamcop)", "/^127/", "0x10/0x10",
		"127.0.1.20-127.0.1.39", "sb:x", "99999999999"} {
		f.Add(s, "127.0.0.2")
	}
	f.Fuzz(func(t *testing.T, sub, answer string) {
		if st, err := parseRBLSubtest(sub); err == nil && st != nil {
			st.match(answer)
		}
		if st, err := parseURISubtest(sub); err == nil {
			st.match(answer)
			// The canonical form parses back to itself.
			again, err := parseURISubtest(st.canon)
			if err != nil || again.canon != st.canon {
				t.Errorf("subtest %q: canonical %q reparses to %v, %v", sub, st.canon, again, err)
			}
		}
	})
}

// FuzzDNSConf feeds DNS directives to the configuration parser and the
// blocklist set-up built from it.
func FuzzDNSConf(f *testing.F) {
	for _, s := range []string{
		"urirhssub URIBL_BLACK multi.uribl.com. A 2",
		"uridnssub URIBL_SBL zen.spamhaus.org. A 127.0.0.2",
		"rbl_timeout 15 3 zen.spamhaus.org",
		"dns_block_rule URIBL_BLOCKED multi.uribl.com",
		"uridnsbl_max_domains 0",
		"header R eval:check_rbl('zen-lastexternal', 'zen.spamhaus.org.', '^127\\.0\\.0\\.[4567]$')",
		"header S eval:check_rbl_sub('zen', '127.0.0.2')",
		"header H eval:check_rbl_headers('h', 'hdr.test', '', 'Reply-To')",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, text string) {
		e, _, err := LoadConf("fuzz.cf", text+"\ndns_block_rule R zen.spamhaus.org\n", Options{Resolver: &memResolver{}})
		if err != nil || e.dns == nil {
			return
		}
		e.dns.plan(e.sets[0])
	})
}

// FuzzURIToDomain checks host extraction from arbitrary URIs.
func FuzzURIToDomain(f *testing.F) {
	for _, s := range []string{"http://www.example.co.uk/x", "mailto:a@b.example.com?x", "http://1.2.3.4:80/", "https://u@h\u00c3\u00bc.com/"} {
		f.Add(s)
	}
	d := &dnsEngine{conf: &dnsConf{}, reg: func(h string) string { return h }}
	f.Fuzz(func(t *testing.T, uri string) {
		host, dom, ok := d.uriToDomain(uri)
		if ok && (host == "" || dom == "" || strings.ContainsAny(host, "/?#@ ")) {
			t.Errorf("uriToDomain(%q) = %q, %q", uri, host, dom)
		}
	})
}
