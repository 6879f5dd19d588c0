package spam

import (
	"net/netip"
	"regexp"
	"strings"
	"unicode/utf8"

	"golang.org/x/net/idna"
	"golang.org/x/net/publicsuffix"
)

// uriHost is one host of the message's URIs and its registered domain
// (the host itself for an IPv4 literal).
type uriHost struct {
	host, domain string
	ip           bool
}

var (
	uriProto     = regexp.MustCompile(`^[a-z]+:/{0,2}`)
	uriPath      = regexp.MustCompile(`[/?#].*`)
	uriUserinfo  = regexp.MustCompile(`^[^/]*@`)
	uriPort      = regexp.MustCompile(`:\d*$`)
	uriEncoded   = regexp.MustCompile(`%(?:2[1-9a-f]|[3-6][0-9a-f]|7[0-9a-e])`)
	dottedQuadRe = regexp.MustCompile(`^\d+\.\d+\.\d+\.\d+$`)
)

// uriToDomain is SA's RegistryBoundaries::uri_to_domain: the host of a
// URI (or of an address) and its registered domain, or ok=false for URIs
// without a usable host.
func (d *dnsEngine) uriToDomain(uri string) (host, domain string, ok bool) {
	u := asciiLower(uri) // Latin-1 letters stand for UTF-8 bytes here
	if strings.HasPrefix(u, "javascript:") || strings.HasPrefix(u, "cid:") || strings.HasPrefix(u, "file:") {
		return "", "", false
	}
	if rest, isMail := strings.CutPrefix(u, "mailto:"); isMail {
		rest, _, _ = strings.Cut(rest, "?")
		at := strings.LastIndexByte(rest, '@')
		if at < 0 || strings.Count(rest, "@") > 1 {
			return "", "", false
		}
		u = rest[at+1:]
	} else {
		u = uriProto.ReplaceAllString(u, "")
		u = uriPath.ReplaceAllString(u, "")
		u = uriUserinfo.ReplaceAllString(u, "")
		u = uriPort.ReplaceAllString(u, "")
	}
	if uriEncoded.MatchString(u) {
		return "", "", false // the decoded variant is in the list too
	}
	host, ok = asciiHost(u)
	if !ok || host == "" {
		return "", "", false
	}
	if _, err := netip.ParseAddr(host); err == nil {
		return host, host, true
	}
	if !fqdnValid(host) || !d.domainValid(host) {
		return "", "", false
	}
	return host, d.reg(host), true
}

func asciiLower(s string) string {
	return strings.Map(func(r rune) rune {
		if 'A' <= r && r <= 'Z' {
			return r + 'a' - 'A'
		}
		return r
	}, s)
}

// asciiHost turns a host from the message (Latin-1 code points standing
// for its bytes) into its A-label form.
func asciiHost(s string) (string, bool) {
	ascii := true
	for i := 0; i < len(s); i++ {
		if s[i] >= 0x80 {
			ascii = false
			break
		}
	}
	if ascii {
		return s, true
	}
	raw := make([]byte, 0, len(s))
	for _, r := range s {
		if r > 0xff {
			return "", false
		}
		raw = append(raw, byte(r))
	}
	if !utf8.Valid(raw) {
		return "", false
	}
	a, err := idna.Lookup.ToASCII(string(raw))
	return a, err == nil
}

// domainValid is RegistryBoundaries::is_domain_valid: the name ends in a
// known TLD (util_rb_tld; the public suffix list when the configuration
// has none).
func (d *dnsEngine) domainValid(host string) bool {
	i := strings.LastIndexByte(host, '.')
	if i < 0 || strings.ContainsAny(host, " \t\r\n") {
		return false
	}
	if d.conf.tlds != nil {
		return d.conf.tlds[host[i+1:]]
	}
	ps, icann := publicsuffix.PublicSuffix(host)
	return icann || strings.Contains(ps, ".")
}

// uriHosts lists the hosts URIDNSBL looks up, in the order the URIs were
// found (HTML links before text), without uridnsbl_skip_domain entries,
// at most uridnsbl_max_domains of them. SA picks a random subset when
// there are more; taking the first ones keeps results reproducible.
func (m *msgState) uriHosts() []uriHost {
	d := m.e.dns
	limit := d.conf.uriMaxDomains()
	seen := map[string]bool{}
	var out []uriHost
	for _, u := range m.uriList() {
		if len(out) >= limit {
			break
		}
		if !d.conf.keepMailto && len(u) >= 7 && strings.EqualFold(u[:7], "mailto:") {
			continue
		}
		host, dom, ok := d.uriToDomain(u)
		if !ok || seen[host] || d.conf.skip[dom] || d.conf.skip[host] {
			continue
		}
		seen[host] = true
		h := uriHost{host: host, domain: dom}
		if strings.Contains(host, ":") || strings.HasPrefix(host, "[") {
			continue // IPv6 literals are not looked up
		}
		if dottedQuadRe.MatchString(host) {
			// Only valid public IPv4 literals, looked up as themselves.
			if a, err := netip.ParseAddr(host); err != nil || isPrivateIP(a.String()) {
				continue
			}
			h.ip = true
		}
		out = append(out, h)
	}
	return out
}

// startURI launches URIDNSBL's lookups: name-based zones get the domain
// (the host with tflags notrim) or the IP literal; address-based zones
// with tflags a get the host's A records, each looked up reversed.
// Address-based rules without tflags a (the default "ns") want the
// addresses of the domain's name servers: SA 4.0.1 hands those to the
// "a" rules only, so they never hit there; the resolver interface has no
// NS lookup, so they do not run here either.
func (run *dnsRun) startURI(hosts []uriHost, rules []*uriCheck) {
	for _, h := range hosts {
		var aRules []*uriCheck
		for _, r := range rules {
			switch {
			case r.kind != uriRHS:
				if r.kind == uriIP && r.a && !h.ip {
					aRules = append(aRules, r)
				}
			case h.ip && !r.domainsOnly:
				run.uriQuery(r, h.domain)
			case !h.ip && !r.ipsOnly:
				q := h.domain
				if r.notrim {
					q = h.host
				}
				run.uriQuery(r, q)
			}
		}
		if len(aRules) == 0 {
			continue
		}
		run.launch(dnsKey{name: h.host}, "", dnsUse{}, func(addrs []string) {
			for _, a := range addrs {
				if ip, err := netip.ParseAddr(a); err == nil && ip.Is4() && !isPrivateIP(a) {
					for _, r := range aRules {
						run.uriQuery(r, a)
					}
				}
			}
		})
	}
}

// uriQuery launches one URIDNSBL lookup of q (a domain or an IPv4
// address, which is reversed) in r's zone.
func (run *dnsRun) uriQuery(r *uriCheck, q string) {
	if dottedQuadRe.MatchString(q) {
		rev, ok := reverseIP(q, r.zone)
		if !ok {
			return
		}
		q = rev
	}
	run.launch(dnsKey{name: q + "." + r.zone, txt: r.txt}, r.zone, dnsUse{uri: r}, nil)
}
