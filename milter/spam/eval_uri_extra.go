package spam

import (
	"net/netip"
	"regexp"
	"sort"
	"strings"
)

// Named URI host lists (SA's enlist_uri_host and WLBLEval's
// check_uri_host_listed) and the HTTPSMismatch plugin.

func init() {
	regEval("check_uri_host_listed", boolEval(func(m *msgState, args []string) bool {
		return len(args) > 0 && m.uriHostListed()[args[0]]
	}))
	regEval("check_uri_host_in_blocklist", boolEval(func(m *msgState, _ []string) bool {
		return m.uriHostListed()["BLOCK"]
	}))
	regEval("check_uri_host_in_blacklist", evalFuncs["check_uri_host_in_blocklist"])
	regEval("check_uri_host_in_welcomelist", boolEval(func(m *msgState, _ []string) bool {
		return m.uriHostListed()["WELCOME"]
	}))
	regEval("check_uri_host_in_whitelist", evalFuncs["check_uri_host_in_welcomelist"])
	regEval("check_https_http_mismatch", boolEval(evalHTTPSMismatch))
}

// uriHostSetting handles enlist_uri_host, delist_uri_host and their
// BLOCK/WELCOME shorthands. A list maps a host or domain to true, or to
// false for an entry written "!host" (an exception to a listed parent).
func (p *confParser) uriHostSetting(key, val string) bool {
	c := p.c
	if c.uriHostLists == nil {
		c.uriHostLists = map[string]map[string]bool{}
	}
	enlist := func(list string, hosts []string) {
		if c.uriHostLists[list] == nil {
			c.uriHostLists[list] = map[string]bool{}
		}
		for _, h := range hosts {
			name, neg := strings.CutPrefix(h, "!")
			c.uriHostLists[list][name] = !neg
		}
	}
	switch key {
	case "blocklist_uri_host", "blacklist_uri_host":
		enlist("BLOCK", strings.Fields(strings.ToLower(val)))
	case "welcomelist_uri_host", "whitelist_uri_host":
		enlist("WELCOME", strings.Fields(strings.ToLower(val)))
	case "enlist_uri_host":
		list, hosts, ok := parseListName(val)
		if !ok || len(hosts) == 0 {
			p.warnf("enlist_uri_host: want (LIST) host ...")
			return true
		}
		enlist(list, hosts)
	case "delist_uri_host":
		list, hosts, ok := parseListName(val)
		lists := []string{list}
		if !ok {
			hosts, lists = strings.Fields(strings.ToLower(val)), sortedKeys(c.uriHostLists)
		}
		for _, l := range lists {
			for _, h := range hosts {
				delete(c.uriHostLists[l], strings.TrimPrefix(h, "!"))
			}
		}
	default:
		return false
	}
	return true
}

// parseListName splits "(NAME) host host..." (hosts lower-cased).
func parseListName(val string) (string, []string, bool) {
	val = strings.TrimSpace(val)
	if !strings.HasPrefix(val, "(") {
		return "", nil, false
	}
	end := strings.IndexByte(val, ')')
	if end < 2 {
		return "", nil, false
	}
	return val[1:end], strings.Fields(strings.ToLower(val[end+1:])), true
}

// uriHostListed returns the lists that list a host of the message's URIs
// (mailto: ones aside): the most specific entry for a host decides, and
// one positively listed host is enough.
func (m *msgState) uriHostListed() map[string]bool {
	if v, ok := m.evalCache["uri_host_listed"].(map[string]bool); ok {
		return v
	}
	res := map[string]bool{}
	m.evalCache["uri_host_listed"] = res
	lists := m.e.conf.uriHostLists
	if len(lists) == 0 {
		return res
	}
	names := sortedKeys(lists)
	d := m.e.domainHelper()
	seen := map[string]bool{}
	for _, u := range m.uriList() {
		if len(u) >= 7 && strings.EqualFold(u[:7], "mailto:") {
			continue
		}
		host, _, ok := d.uriToDomain(u)
		if !ok || seen[host] {
			continue
		}
		seen[host] = true
		keys := hostQueryKeys(host)
		for _, nm := range names {
			for _, k := range keys {
				if v, found := lists[nm][k]; found {
					res[nm] = res[nm] || v
					break
				}
			}
		}
	}
	return res
}

// hostQueryKeys is the lookup order of one host: an address literal as
// itself, a name from the full host down to its last label, keeping the
// last eleven (SA's sanity limit).
func hostQueryKeys(host string) []string {
	if inner, ok := strings.CutPrefix(host, "["); ok && strings.HasSuffix(inner, "]") {
		return []string{strings.TrimSuffix(inner, "]")}
	}
	if dottedQuadRe.MatchString(host) {
		return []string{host}
	}
	var keys []string
	for h := host; ; {
		keys = append(keys, h)
		_, rest, ok := strings.Cut(h, ".")
		if !ok {
			break
		}
		h = rest
	}
	if len(keys) > 11 {
		keys = keys[len(keys)-11:]
	}
	return keys
}

// domainHelper gives access to RegistryBoundaries-style domain checks
// (util_rb_tld, util_rb_2tld/3tld) whether or not network tests are on.
func (e *Engine) domainHelper() *dnsEngine {
	if e.dns != nil {
		return e.dns
	}
	return &dnsEngine{conf: &e.conf.dns, reg: e.registrable}
}

var (
	httpHostRe  = regexp.MustCompile(`(?i)^https?://([^/:?#]+)`)
	httpsTextRe = regexp.MustCompile(`(?i)https://([^\s/:?#]+)`)
)

// evalHTTPSMismatch is HTTPSMismatch's check: a link whose text shows an
// https:// address of another domain than the link goes to, in an HTML
// part with between min and max (exclusive) such links to valid domains.
func evalHTTPSMismatch(m *msgState, args []string) bool {
	minA, maxA := 1.0, -1.0
	if len(args) > 0 && atof(args[0]) != 0 {
		minA = atof(args[0])
	}
	if len(args) > 1 {
		maxA = atof(args[1])
	}
	m.render()
	d := m.e.domainHelper()
	for _, h := range m.htmls {
		hit, anchors := false, 0
		for _, href := range distinctHrefs(h) {
			mm := httpHostRe.FindStringSubmatch(href)
			if mm == nil || isIPLiteral(mm[1]) {
				continue
			}
			dom := validDomain(d, mm[1])
			if dom == "" {
				continue
			}
			anchors++
			hit = hit || anchorShowsOtherHTTPS(d, h, href, dom)
		}
		if hit && float64(anchors) >= minA && (maxA < 0 || float64(anchors) < maxA) {
			return true
		}
	}
	return false
}

// distinctHrefs lists each anchor target of an HTML part once, sorted.
func distinctHrefs(h *htmlResult) []string {
	set := map[string]bool{}
	for _, href := range h.anchorHrefs {
		set[href] = true
	}
	out := make([]string, 0, len(set))
	for href := range set {
		out = append(out, href)
	}
	sort.Strings(out)
	return out
}

// anchorShowsOtherHTTPS reports whether the text of a link to href names
// an https:// host whose domain is not dom (the first https:// address
// of each text decides).
func anchorShowsOtherHTTPS(d *dnsEngine, h *htmlResult, href, dom string) bool {
	for i, a := range h.anchors {
		if i >= len(h.anchorHrefs) || h.anchorHrefs[i] != href {
			continue
		}
		mm := httpsTextRe.FindStringSubmatch(a)
		if mm == nil {
			continue
		}
		shown := mm[1]
		if !isIPLiteral(shown) {
			shown = validDomain(d, shown)
		}
		if shown != "" && shown != dom {
			return true
		}
	}
	return false
}

// validDomain is RegistryBoundaries' trim_domain of host, or "" when
// that domain does not end in a known TLD.
func validDomain(d *dnsEngine, host string) string {
	dom := d.reg(strings.ToLower(host))
	if !d.domainValid(dom) {
		return ""
	}
	return dom
}

func isIPLiteral(s string) bool {
	_, err := netip.ParseAddr(s)
	return err == nil
}
