package spam

import (
	"net/netip"
	"regexp"
	"strings"
)

var anyIPv4 = regexp.MustCompile(`\b(\d{1,3}\.\d{1,3}\.\d{1,3}\.\d{1,3})\b`)

// relayInfo splits the Received chain into trusted/untrusted and
// internal/external hops like SA's Metadata::Received: with no
// trusted_networks configured, trust is inferred (private IPs and
// authenticated hops stay trusted until the first public hop).
func (m *msgState) relayInfo() *relayInfo {
	if m.relays != nil {
		return m.relays
	}
	c := m.e.conf
	ri := &relayInfo{lastTrustedIdx: -1, lastInternalIdx: -1}
	m.relays = ri
	trusted, internal := c.TrustedNets, c.InternalNets
	userTrust, userInt := c.trustedConfigured, c.internalConfigured
	switch {
	case userTrust && !userInt:
		internal = trusted
	case !userTrust && userInt:
		trusted = internal
	}
	var lines []string
	for _, h := range m.hdrs {
		if strings.EqualFold(h.name, "Received") {
			lines = append(lines, strings.ReplaceAll(h.raw, "\n", " "))
		}
	}
	for _, name := range c.originatingIP {
		if v, ok := m.lastHeader(name); ok {
			if mm := anyIPv4.FindStringSubmatch(v); mm != nil {
				lines = append(lines, "from X-Originating-IP: "+mm[1])
			}
		}
	}
	inTrusted, inInternal, foundMSA := true, true, false
	allowFetch := true
	for _, ln := range lines {
		r, skip := parseXOrigOrReceived(ln)
		if r == popFetch {
			if allowFetch {
				ri.trusted, ri.internal, ri.external = nil, nil, nil
			}
			r = nil
		}
		if r == nil && !skip {
			ri.unparseable++
		}
		if r == nil {
			if inTrusted {
				ri.lastTrustedIdx++
			}
			if inInternal {
				ri.lastInternalIdx++
			}
			continue
		}
		if inTrusted && !foundMSA {
			if !userTrust && !userInt {
				if !r.ipPrivate && r.auth == "" {
					inTrusted, inInternal = false, false
				}
			} else {
				ip, _ := netip.ParseAddr(r.ip)
				if r.auth == "" && !containsIP(trusted, ip) {
					inTrusted, inInternal = false, false
				} else {
					if inInternal && r.auth == "" && !containsIP(internal, ip) {
						inInternal = false
					}
					if containsIP(c.MSANets, ip) {
						foundMSA, r.msa = true, true
					}
				}
			}
		}
		r.internal = inInternal
		r.asString = r.str()
		if inTrusted {
			ri.trusted = append(ri.trusted, r)
			ri.lastTrustedIdx++
		} else {
			ri.untrusted = append(ri.untrusted, r)
		}
		allowFetch = inTrusted
		if inInternal {
			ri.internal = append(ri.internal, r)
			ri.lastInternalIdx++
		} else {
			ri.external = append(ri.external, r)
		}
	}
	return ri
}

func parseXOrigOrReceived(ln string) (*relay, bool) {
	if ip, ok := strings.CutPrefix(ln, "from X-Originating-IP: "); ok {
		r := &relay{ip: ip}
		r.rdnsNotInHeaders = true
		r.ipPrivate = isPrivateIP(ip)
		return r, false
	}
	return parseReceived(ln)
}

func (m *msgState) relayString(which string) string {
	ri := m.relayInfo()
	var list []*relay
	switch which {
	case "trusted":
		list = ri.trusted
	case "untrusted":
		list = ri.untrusted
	case "internal":
		list = ri.internal
	case "external":
		list = ri.external
	}
	s := make([]string, len(list))
	for i, r := range list {
		s[i] = r.asString
	}
	return strings.Join(s, " ")
}
