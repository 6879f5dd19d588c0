package spam

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"time"
)

// SpamAssassin's defaults for the DNS blocklist settings
// (Mail::SpamAssassin::Conf, Plugin::URIDNSBL and Plugin::DNSEval).
const (
	defaultRBLTimeout     = 15 * time.Second
	defaultDNSBlockTime   = 300 * time.Second
	defaultURIMaxDomains  = 20
	numCheckReceived      = 9 // Conf's num_check_received, not configurable in SA
	defaultRBLHeaderNames = "EnvelopeFrom,Reply-To,Disposition-Notification-To,X-WebmailclientIP,X-Source-IP"
)

// dnsConf holds the directives of the DNSEval and URIDNSBL plugins and the
// DNS settings of Conf. The zero value is SA's default configuration.
type dnsConf struct {
	uri         map[string]*uriRule // urirhsbl, urirhssub, uridnsbl, uridnssub, ... by rule
	skip        map[string]bool     // uridnsbl_skip_domain
	maxDomains  int                 // uridnsbl_max_domains; 0 = default
	keepMailto  bool                // uridnsbl_skip_mailto 0
	skipRBL     bool                // skip_rbl_checks
	skipURIBL   bool                // skip_uribl_checks
	unavailable bool                // dns_available no
	timeout     time.Duration       // rbl_timeout t; 0 = default
	timeoutMin  time.Duration       // rbl_timeout's t_min; 0 = t/5
	zoneTimeout map[string]time.Duration
	blockRules  map[string][]string // dns_block_rule: rule -> domains
	blockTime   *time.Duration      // dns_block_time; nil = default
	rblHeaders  []string            // rbl_headers; nil = default
	tlds        map[string]bool     // util_rb_tld
}

// uriKind is how a URIDNSBL rule turns a URI host into queries.
type uriKind int

const (
	uriRHS    uriKind = iota // urirhsbl/urirhssub: the domain (or host) itself
	uriIP                    // uridnsbl/uridnssub: the host's addresses, reversed
	uriNSRHS                 // urinsrhsbl/urinsrhssub: the domain's name servers
	uriFullNS                // urifullnsrhsbl/urifullnsrhssub
)

// uriRule is one URIDNSBL definition.
type uriRule struct {
	name string
	zone string
	txt  bool // query type TXT instead of A
	kind uriKind
	sub  *uriSubtest // nil: any answer in 127.0.0.0/8 (or any TXT)
}

var uriDirectives = map[string]struct {
	kind uriKind
	sub  bool
}{
	"urirhsbl": {uriRHS, false}, "urirhssub": {uriRHS, true},
	"uridnsbl": {uriIP, false}, "uridnssub": {uriIP, true},
	"urinsrhsbl": {uriNSRHS, false}, "urinsrhssub": {uriNSRHS, true},
	"urifullnsrhsbl": {uriFullNS, false}, "urifullnsrhssub": {uriFullNS, true},
}

// dnsSetting handles the DNS directives; false means the key is not one.
func (p *confParser) dnsSetting(key, val string) bool {
	d := &p.c.dns
	if u, ok := uriDirectives[key]; ok {
		p.uriDirective(key, val, u.kind, u.sub)
		return true
	}
	switch key {
	case "uridnsbl_skip_domain":
		if d.skip == nil {
			d.skip = map[string]bool{}
		}
		for _, dom := range strings.Fields(strings.ToLower(val)) {
			d.skip[dom] = true
		}
	case "clear_uridnsbl_skip_domain":
		if strings.TrimSpace(val) == "" {
			d.skip = nil
		}
		for _, dom := range strings.Fields(strings.ToLower(val)) {
			delete(d.skip, dom)
		}
	case "uridnsbl_max_domains":
		if n, err := strconv.Atoi(strings.TrimSpace(val)); err == nil && n >= 0 {
			d.maxDomains = n
			if n == 0 {
				d.maxDomains = -1 // an explicit 0 queries nothing
			}
		} else {
			p.warnf("uridnsbl_max_domains: bad value %q", val)
		}
	case "uridnsbl_skip_mailto":
		d.keepMailto = !confBool(val)
	case "skip_rbl_checks":
		d.skipRBL = confBool(val)
	case "skip_uribl_checks":
		d.skipURIBL = confBool(val)
	case "dns_available":
		d.unavailable = strings.HasPrefix(strings.TrimSpace(strings.ToLower(val)), "no")
	case "rbl_timeout":
		p.rblTimeout(val)
	case "dns_block_rule":
		p.dnsBlockRule(val)
	case "dns_block_time":
		if t, err := saDuration(val); err == nil {
			d.blockTime = &t
		} else {
			p.warnf("dns_block_time: %v", err)
		}
	case "rbl_headers":
		d.rblHeaders = strings.Split(strings.TrimSpace(val), ",")
	case "util_rb_tld":
		if d.tlds == nil {
			d.tlds = map[string]bool{}
		}
		for _, t := range strings.Fields(strings.ToLower(val)) {
			d.tlds[t] = true
		}
	case "clear_util_rb":
		d.tlds = nil
	default:
		return false
	}
	return true
}

// confBool is SA's boolean: "1", "yes" and "on" are true.
func confBool(v string) bool {
	switch strings.ToLower(strings.TrimSpace(v)) {
	case "1", "yes", "on", "true":
		return true
	}
	return false
}

func (p *confParser) uriDirective(key, val string, kind uriKind, sub bool) {
	f := strings.Fields(val)
	if len(f) < 3 || !sub && len(f) != 3 || !isRuleName(f[0]) {
		p.warnf("%s: bad value %q", key, val)
		return
	}
	typ := strings.ToUpper(f[2])
	if typ != "A" && typ != "TXT" {
		p.warnf("%s %s: query type %s not supported (A or TXT)", key, f[0], f[2])
		return
	}
	r := &uriRule{name: f[0], zone: normZone(f[1]), txt: typ == "TXT", kind: kind}
	if sub {
		st, err := parseURISubtest(strings.Join(f[3:], " "))
		if err != nil {
			p.warnf("%s %s: %v", key, f[0], err)
			return
		}
		r.sub = st
	}
	if p.c.dns.uri == nil {
		p.c.dns.uri = map[string]*uriRule{}
	}
	p.c.dns.uri[r.name] = r
}

var ruleNameRe = regexp.MustCompile(`^\w+$`)

func isRuleName(s string) bool { return ruleNameRe.MatchString(s) }

// normZone lower-cases a zone and strips its leading and trailing dots.
func normZone(z string) string {
	return strings.Trim(strings.ToLower(strings.TrimSpace(z)), ".")
}

var rblTimeoutRe = regexp.MustCompile(`^(\+?\d+(?:\.\d*)?[smhdw]?)(?:\s+(\+?\d+(?:\.\d*)?[smhdw]?))?(?:\s+(\S*[a-zA-Z]))?$`)

func (p *confParser) rblTimeout(val string) {
	d := &p.c.dns
	mm := rblTimeoutRe.FindStringSubmatch(strings.TrimSpace(val))
	if mm == nil {
		p.warnf("rbl_timeout: bad value %q", val)
		return
	}
	t, _ := saDuration(mm[1])
	var tmin time.Duration
	if mm[2] != "" {
		tmin, _ = saDuration(mm[2])
	}
	if mm[3] == "" {
		d.timeout, d.timeoutMin = t, tmin
		return
	}
	if d.zoneTimeout == nil {
		d.zoneTimeout = map[string]time.Duration{}
	}
	d.zoneTimeout[normZone(mm[3])] = t
}

// saDuration parses SA's duration: seconds with an optional s/m/h/d/w unit.
func saDuration(s string) (time.Duration, error) {
	s = strings.TrimPrefix(strings.TrimSpace(s), "+")
	unit := time.Second
	if n := len(s); n > 0 {
		switch s[n-1] | 0x20 {
		case 's':
			s = s[:n-1]
		case 'm':
			unit, s = time.Minute, s[:n-1]
		case 'h':
			unit, s = time.Hour, s[:n-1]
		case 'd':
			unit, s = 24*time.Hour, s[:n-1]
		case 'w':
			unit, s = 7*24*time.Hour, s[:n-1]
		}
	}
	v, err := strconv.ParseFloat(s, 64)
	if err != nil || v < 0 || v > 1e6 {
		return 0, fmt.Errorf("bad duration %q", s)
	}
	return time.Duration(v * float64(unit)), nil
}

var dnsBlockDomainRe = regexp.MustCompile(`^[a-z0-9_.-]+$`)

func (p *confParser) dnsBlockRule(val string) {
	f := strings.Fields(strings.ToLower(val))
	if len(f) < 2 {
		p.warnf("dns_block_rule: bad value %q", val)
		return
	}
	rule := strings.Fields(val)[0] // rule names keep their case
	d := &p.c.dns
	if d.blockRules == nil {
		d.blockRules = map[string][]string{}
	}
	for _, dom := range f[1:] {
		dom = normZone(dom)
		if !dnsBlockDomainRe.MatchString(dom) {
			p.warnf("dns_block_rule: bad domain %q", dom)
			continue
		}
		d.blockRules[rule] = append(d.blockRules[rule], dom)
	}
}

// effective values with SA's defaults applied.

func (d *dnsConf) rblTimeout() time.Duration {
	if d.timeout > 0 {
		return d.timeout
	}
	return defaultRBLTimeout
}

func (d *dnsConf) rblTimeoutMin() time.Duration {
	t := d.rblTimeout()
	if d.timeoutMin > 0 {
		return min(d.timeoutMin, t)
	}
	return t / 5
}

func (d *dnsConf) blockDuration() time.Duration {
	if d.blockTime != nil {
		return *d.blockTime
	}
	return defaultDNSBlockTime
}

func (d *dnsConf) uriMaxDomains() int {
	switch {
	case d.maxDomains < 0:
		return 0
	case d.maxDomains == 0:
		return defaultURIMaxDomains
	}
	return d.maxDomains
}

func (d *dnsConf) rblHeaderNames() []string {
	if d.rblHeaders != nil {
		return d.rblHeaders
	}
	return strings.Split(defaultRBLHeaderNames, ",")
}

// zoneTimeoutFor returns the rbl_timeout of the most specific zone setting
// covering name, or 0.
func (d *dnsConf) zoneTimeoutFor(name string) time.Duration {
	for z := name; z != ""; {
		if t, ok := d.zoneTimeout[z]; ok {
			return t
		}
		_, rest, found := strings.Cut(z, ".")
		if !found {
			break
		}
		z = rest
	}
	return 0
}
