package spam

import (
	"net/netip"
	"regexp"
	"strings"
)

// rblIPs is DNSEval's parsed_metadata for one message: the untrusted
// relay IPs (public, unique, nearest first), the full external chain and
// the IPs named by originating_ip_headers.
type rblIPs struct {
	ips, fullExternal, originating []string
	any                            bool // false: every relay is trusted, no IP lookups
}

// ipToken finds IPv4 and IPv6 candidates in a header (SA's IP_ADDRESS).
var ipToken = regexp.MustCompile(`\b(?:\d{1,3}\.){3}\d{1,3}\b|[0-9A-Fa-f]*:[0-9A-Fa-f:.]*[0-9A-Fa-f]`)

func (m *msgState) rblIPs() *rblIPs {
	ri := m.relayInfo()
	b := &rblIPs{}
	var full []string
	for _, r := range ri.untrusted {
		full = append(full, r.ip)
	}
	for _, r := range ri.trusted {
		if !r.internal {
			b.fullExternal = append(b.fullExternal, r.ip)
		}
	}
	b.fullExternal = append(b.fullExternal, full...)
	for _, h := range m.e.conf.originatingIP {
		for _, tok := range ipToken.FindAllString(m.get(h), -1) {
			if a, err := netip.ParseAddr(tok); err == nil {
				b.originating = append(b.originating, a.String())
			}
		}
	}
	b.ips = uniqPublic(full)
	b.any = len(b.ips)+len(b.originating) > 0
	return b
}

// uniqPublic drops empty, repeated and private addresses, keeping order.
func uniqPublic(ips []string) []string {
	seen := map[string]bool{}
	var out []string
	for _, ip := range ips {
		if ip == "" || seen[ip] {
			continue
		}
		seen[ip] = true
		if !isPrivateIP(ip) {
			out = append(out, ip)
		}
	}
	return out
}

// backendIPs is DNSEval's _check_rbl_backend: which relay IPs a check
// queries, by the suffix of its set name.
func (m *msgState) backendIPs(b *rblIPs, c *rblCheck) []string {
	if !b.any {
		return nil
	}
	trusted := m.e.conf.TrustedNets
	untrustedOrig := func() []string {
		var out []string
		for _, ip := range b.originating {
			if a, err := netip.ParseAddr(ip); err == nil && !containsIP(trusted, a) {
				out = append(out, ip)
			}
		}
		return out
	}
	var ips []string
	switch {
	case strings.HasSuffix(c.set, "-lastexternal"), strings.HasSuffix(c.set, "-notfirsthop"):
		// The hop into our network: its IP was written by our own relay.
		ips = uniqPublic(b.fullExternal)
		if strings.HasSuffix(c.set, "-lastexternal") {
			ips = ips[:min(len(ips), 1)]
		} else if len(ips) > 1 {
			ips = ips[:len(ips)-1]
		}
	case strings.HasSuffix(c.set, "-firsttrusted"), strings.HasSuffix(c.set, "-untrusted"):
		ips = uniqPublic(append(append([]string(nil), b.ips...), untrustedOrig()...))
		if strings.HasSuffix(c.set, "-firsttrusted") {
			ips = ips[:min(len(ips), 1)]
		} else if len(ips) > 0 {
			ips = ips[1:]
		}
	default:
		ips = uniqPublic(append(append([]string(nil), b.ips...), untrustedOrig()...))
		for i, j := 0, len(ips)-1; i < j; i, j = i+1, j-1 {
			ips[i], ips[j] = ips[j], ips[i]
		}
	}
	ips = ips[:min(len(ips), numCheckReceived)]
	if !c.nice {
		// Only whitelists (nice rules) look at relays we trust.
		for len(ips) > 0 {
			a, err := netip.ParseAddr(ips[0])
			if err != nil || !containsIP(trusted, a) {
				break
			}
			ips = ips[1:]
		}
	}
	return ips
}

// reverseIP is the query label of ip in a blocklist (RFC 5782 section
// 2.1 and 2.4): reversed octets, or for IPv6 reversed nibbles, which only
// zones known to list IPv6 get (others would just see garbage queries).
func reverseIP(ip, zone string) (string, bool) {
	a, err := netip.ParseAddr(ip)
	if err != nil {
		return "", false
	}
	a = a.Unmap().WithZone("")
	if a.Is4() {
		b := a.As4()
		return itoa(b[3]) + "." + itoa(b[2]) + "." + itoa(b[1]) + "." + itoa(b[0]), true
	}
	if !zoneListsIPv6(zone) {
		return "", false
	}
	const hexd = "0123456789abcdef"
	b := a.As16()
	out := make([]byte, 0, 64)
	for i := 15; i >= 0; i-- {
		out = append(out, hexd[b[i]&0xf], '.', hexd[b[i]>>4], '.')
	}
	return string(out[:len(out)-1]), true
}

func itoa(b byte) string {
	const d = "0123456789"
	switch {
	case b >= 100:
		return string([]byte{d[b/100], d[b/10%10], d[b%10]})
	case b >= 10:
		return string([]byte{d[b/10], d[b%10]})
	}
	return string(d[b])
}

// zoneListsIPv6 names the blocklists that answer IPv6 queries: Spamhaus's
// IP zones (public and DQS) and DNSWL.
func zoneListsIPv6(zone string) bool {
	for _, z := range []string{"zen.spamhaus.org", "sbl.spamhaus.org", "xbl.spamhaus.org",
		"pbl.spamhaus.org", "sbl-xbl.spamhaus.org", "dq.spamhaus.net", "list.dnswl.org"} {
		if zone == z || hasDomainSuffix(zone, z) {
			return true
		}
	}
	return false
}

// checkNames returns the names (without the zone) a check queries.
func (m *msgState) checkNames(b *rblIPs, c *rblCheck) []string {
	var names []string
	addIP := func(ip string) {
		if c.domainsOnly {
			return
		}
		if rev, ok := reverseIP(ip, c.zone); ok {
			names = append(names, rev)
		}
	}
	switch c.fn {
	case "check_rbl", "check_rbl_txt":
		for _, ip := range m.backendIPs(b, c) {
			addIP(ip)
		}
		return names
	case "check_rbl_accreditor":
		if m.accreditors()[c.arg] {
			for _, ip := range m.backendIPs(b, c) {
				addIP(ip)
			}
		}
		return names
	case "check_rbl_envfrom":
		return m.addrNames(c, []string{m.get("EnvelopeFrom:addr")})
	case "check_rbl_from_host":
		return m.addrNames(c, m.allFromAddrs())
	case "check_rbl_from_domain":
		return m.addrNames(c, m.allFromDomains())
	case "check_rbl_headers":
		return m.headerNames(c)
	case "check_rbl_rcvd":
		return m.rcvdNames(c)
	}
	return nil
}

// addrNames is DNSEval's _check_rbl_addresses: the host part of each
// address, as a domain or a reversed IP.
func (m *msgState) addrNames(c *rblCheck, addrs []string) []string {
	seen := map[string]bool{}
	var names []string
	for _, a := range addrs {
		at := strings.IndexByte(a, '@')
		if at < 0 {
			continue
		}
		host := a[at+1:]
		if i := strings.IndexAny(host, "@ \t\n\r\f"); i >= 0 {
			host = host[:i]
		}
		host = strings.ToLower(squeezeDots.ReplaceAllString(strings.Trim(host, "."), "."))
		if !strings.Contains(host, ".") || seen[host] {
			continue
		}
		seen[host] = true
		if n, ok := m.hostName(c, host); ok {
			names = append(names, n)
		}
	}
	return names
}

// hostName is a host as DNSEval queries it: an IP reversed (unless
// domains_only), a name only if it is a valid FQDN in a known TLD (unless
// ips_only).
func (m *msgState) hostName(c *rblCheck, host string) (string, bool) {
	if _, err := netip.ParseAddr(host); err == nil {
		if c.domainsOnly {
			return "", false
		}
		return reverseIP(host, c.zone)
	}
	if c.ipsOnly || !fqdnValid(host) || !m.e.dns.domainValid(host) {
		return "", false
	}
	return host, true
}

// allFromDomains is SA's all_from_addrs_domains: the registered domain of
// each From-ish address, as "dummy@domain".
func (m *msgState) allFromDomains() []string {
	seen := map[string]bool{}
	var out []string
	for _, a := range m.allFromAddrs() {
		_, dom, ok := m.e.dns.uriToDomain(a)
		if !ok || seen[dom] {
			continue
		}
		seen[dom] = true
		out = append(out, "dummy@"+dom)
	}
	return out
}

// headerNames is check_rbl_headers: an address's host, else each line of
// the header as an IP or a host name.
func (m *msgState) headerNames(c *rblCheck) []string {
	hdrs := m.e.dns.conf.rblHeaderNames()
	if c.arg != "" {
		hdrs = strings.Split(c.arg, ",")
	}
	var names []string
	for _, h := range hdrs {
		h = strings.TrimSpace(h)
		if h == "" {
			continue
		}
		if addr := m.get(h + ":addr"); addrHostRe.MatchString(addr) {
			names = append(names, m.addrNames(c, []string{addr})...)
			continue
		}
		for _, host := range strings.Split(strings.TrimSuffix(m.get(h), "\n"), "\n") {
			if n, ok := m.hostName(c, strings.ToLower(strings.TrimSpace(host))); ok {
				names = append(names, n)
			}
		}
	}
	return names
}

var addrHostRe = regexp.MustCompile(`@[^@\s]+`)

// rcvdNames is check_rbl_rcvd: the IP, by, HELO and rDNS names of the
// last (oldest) untrusted relay.
func (m *msgState) rcvdNames(c *rblCheck) []string {
	ri := m.relayInfo()
	if len(ri.untrusted) == 0 {
		return nil
	}
	r := ri.untrusted[len(ri.untrusted)-1]
	seen := map[string]bool{}
	var names []string
	for _, v := range []string{r.ip, r.by, r.helo, r.rdns} {
		v = strings.TrimSuffix(strings.TrimSpace(v), ".")
		if v == "" || seen[v] {
			continue
		}
		seen[v] = true
		if n, ok := m.hostName(c, strings.ToLower(v)); ok {
			names = append(names, n)
		}
	}
	return names
}

var accreditorFrom = regexp.MustCompile(`(?i)[@.]a--([a-z0-9]{3,})\.`)

// accreditors is DNSEval's message_accreditor_tag: "a--NAME." in the
// envelope sender and the first word of each Accreditor field entry.
func (m *msgState) accreditors() map[string]bool {
	tags := map[string]bool{}
	if mm := accreditorFrom.FindStringSubmatch(m.get("EnvelopeFrom:addr")); mm != nil {
		tags[strings.ToLower(mm[1])] = true
	}
	for _, part := range strings.Split(m.get("Accreditor"), ",") {
		if f := strings.Fields(part); len(f) > 0 {
			tags[strings.ToLower(f[0])] = true
		}
	}
	return tags
}

// fqdnValid is SA's Util::is_fqdn_valid for an ASCII host: two labels at
// least, 1-63 characters of [a-z0-9_-] each, no '_' in the last two.
func fqdnValid(host string) bool {
	host = strings.TrimRight(host, ".")
	if len(host) > 253 {
		return false
	}
	labels := strings.Split(host, ".")
	if len(labels) < 2 {
		return false
	}
	for i, l := range labels {
		if len(l) < 1 || len(l) > 63 || l[0] == '-' || l[len(l)-1] == '-' {
			return false
		}
		for j := 0; j < len(l); j++ {
			ch := l[j]
			if !('a' <= ch && ch <= 'z' || '0' <= ch && ch <= '9' || ch == '-' || ch == '_') {
				return false
			}
		}
		if i >= len(labels)-2 && strings.Contains(l, "_") {
			return false
		}
	}
	return true
}
