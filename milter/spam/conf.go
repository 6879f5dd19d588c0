package spam

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"net/netip"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
)

// saVersion is the SpamAssassin release whose rules and output we follow;
// "if (version >= X)" lines compare against it.
const (
	saVersion       = 4.000001
	saVersionString = "4.0.1"
)

// Conf is a parsed SpamAssassin configuration: rules plus the local.cf
// options the engine honours.
type Conf struct {
	Rules map[string]*Rule

	RequiredScore  float64
	RewriteSubject string // rewrite_header Subject text; "" = no rewrite
	ReportSafe     int
	// SpamHeaders and HamHeaders are the X-Spam-* fields added (name
	// without the X-Spam- prefix), in order, after add_header,
	// remove_header and clear_headers.
	SpamHeaders, HamHeaders []AddHeader

	Welcomelist, Blocklist []addrGlob
	auth                   *authConf // DKIM welcomelists, dkim_minimum_key_bits (eval_auth.go)
	TrustedNets            []netRule
	InternalNets           []netRule
	MSANets                []netRule
	trustedConfigured      bool
	internalConfigured     bool

	// BodyScanSize and RawbodyScanSize cut each part's text before body
	// and rawbody rules see it (SA's body_part_scan_size and
	// rawbody_part_scan_size; 0 = whole part).
	BodyScanSize, RawbodyScanSize int

	UseBayes              bool
	BayesAutoLearn        bool
	AutoLearnHamThreshold float64
	AutoLearnSpamThresh   float64
	// BayesIgnoreHeaders are the bayes_ignore_header names (lower case):
	// fields Bayes does not tokenize.
	BayesIgnoreHeaders []string
	// BayesMinHam and BayesMinSpam are bayes_min_ham_num and
	// bayes_min_spam_num: learned messages needed before Bayes scores.
	BayesMinHam, BayesMinSpam uint64

	addrLists  map[string][]addrGlob // enlist_addrlist
	freemail   []addrGlob
	freemailWL []addrGlob
	// freemailIdx and freemailWLIdx index the lists once loaded.
	freemailIdx, freemailWLIdx *globIndex
	tld2, tld3                 map[string]bool
	plugins                    map[string]bool
	compat                     map[string]bool
	replaceTag                 map[string]string
	replaceInter               map[string]string
	replacePre                 map[string]string
	replacePost                map[string]string
	replaceRules               []string
	unknown                    map[string]bool
	uriHostLists               map[string]map[string]bool
	originatingIP              []string
	dns                        dnsConf    // DNSEval, URIDNSBL and DNS settings (dnsbl_conf.go)
	report                     reportConf // report templates and report_safe settings (report.go)

	Warnings []string
}

// AddHeader is one X-Spam-* field and its template.
type AddHeader struct {
	Name, Template string
}

// defaultHeaders is SA's built-in header set (before any clear_headers).
var defaultHeaders = []AddHeader{
	{Name: "Checker-Version", Template: "SpamAssassin _VERSION_ (_SUBVERSION_) on _HOSTNAME_"},
	{Name: "Level", Template: "_STARS(*)_"},
	{Name: "Status", Template: "_YESNO_, score=_SCORE_ required=_REQD_ tests=_TESTS_ autolearn=_AUTOLEARN_ version=_VERSION_"},
}

// netRule is one trusted_networks entry; Neg marks "!net".
type netRule struct {
	Prefix netip.Prefix
	Neg    bool
}

func newConf() *Conf {
	return &Conf{
		Rules:                 map[string]*Rule{},
		SpamHeaders:           append([]AddHeader{{Name: "Flag", Template: "_YESNOCAPS_"}}, defaultHeaders...),
		HamHeaders:            append([]AddHeader(nil), defaultHeaders...),
		RequiredScore:         5,
		ReportSafe:            1,
		BodyScanSize:          50000,
		RawbodyScanSize:       500000,
		UseBayes:              true,
		BayesAutoLearn:        true,
		AutoLearnHamThreshold: 0.1,
		AutoLearnSpamThresh:   12,
		BayesMinHam:           200,
		BayesMinSpam:          200,
		tld2:                  map[string]bool{},
		tld3:                  map[string]bool{},
		plugins:               map[string]bool{},
		compat:                map[string]bool{},
		replaceTag:            map[string]string{},
		replaceInter:          map[string]string{},
		replacePre:            map[string]string{},
		replacePost:           map[string]string{},
		unknown:               map[string]bool{},
		addrLists:             map[string][]addrGlob{},
		originatingIP:         []string{"X-Yahoo-Post-IP", "X-Originating-IP", "X-Apparently-From", "X-SenderIP"},
	}
}

// confParser holds per-file state while reading.
type confParser struct {
	c     *Conf
	file  string
	line  int
	stack []bool // enclosing if/ifplugin results
}

func (p *confParser) active() bool {
	for _, v := range p.stack {
		if !v {
			return false
		}
	}
	return true
}

func (p *confParser) warnf(format string, args ...any) {
	p.c.Warnings = append(p.c.Warnings, fmt.Sprintf("%s:%d: ", p.file, p.line)+fmt.Sprintf(format, args...))
}

// maxConfLine bounds one configuration line.
const maxConfLine = 64 << 10

// parseFile reads one .cf/.pre file.
func (c *Conf) parseFile(path string) error {
	data, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	return c.parse(path, bytes.NewReader(data))
}

func (c *Conf) parse(name string, r io.Reader) error {
	p := &confParser{c: c, file: name}
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 4096), maxConfLine)
	for sc.Scan() {
		p.line++
		p.handleLine(sc.Text())
	}
	if err := sc.Err(); err != nil {
		return fmt.Errorf("%s:%d: %w", name, p.line, err)
	}
	if len(p.stack) != 0 {
		p.warnf("missing endif")
	}
	return nil
}

// stripComment removes a '#' comment unless the '#' is escaped; "\#"
// becomes "#" (SA's Conf::Parser does the same).
func stripComment(s string) string {
	for i := 0; i < len(s); i++ {
		if s[i] == '#' && (i == 0 || s[i-1] != '\\') {
			s = s[:i]
			break
		}
	}
	return strings.TrimSpace(strings.ReplaceAll(s, `\#`, "#"))
}

func (p *confParser) handleLine(raw string) {
	s := stripComment(raw)
	if s == "" {
		return
	}
	key, val := s, ""
	if i := strings.IndexAny(s, " \t"); i >= 0 {
		key, val = s[:i], strings.TrimSpace(s[i+1:])
	}
	key = strings.ToLower(key)
	switch key {
	case "if":
		p.stack = append(p.stack, p.evalIf(val))
		return
	case "ifplugin":
		p.stack = append(p.stack, p.c.plugins[val])
		return
	case "else":
		if n := len(p.stack); n > 0 {
			p.stack[n-1] = !p.stack[n-1]
		} else {
			p.warnf("else without if")
		}
		return
	case "endif":
		if n := len(p.stack); n > 0 {
			p.stack = p.stack[:n-1]
		} else {
			p.warnf("endif without if")
		}
		return
	}
	if !p.active() {
		return
	}
	if !p.ruleDirective(key, val) && !p.setting(key, val) {
		if !p.c.unknown[key] {
			p.c.unknown[key] = true
			p.warnf("unknown directive %q ignored", key)
		}
	}
}

// evalIf evaluates an "if" expression: version, perl_version, plugin(X)
// and can(X) are resolved first, the rest is a meta-style expression.
func (p *confParser) evalIf(s string) bool {
	var b strings.Builder
	vals := map[string]float64{}
	n := 0
	for i := 0; i < len(s); {
		for _, fn := range []string{"plugin(", "can("} {
			if strings.HasPrefix(s[i:], fn) {
				j := strings.IndexByte(s[i:], ')')
				if j < 0 {
					break
				}
				arg := strings.TrimSpace(s[i+len(fn) : i+j])
				name := fmt.Sprintf("v%d", n)
				n++
				vals[name] = b2f(p.ifFunc(fn, arg))
				b.WriteString(" " + name + " ")
				i += j + 1
				goto next
			}
		}
		b.WriteByte(s[i])
		i++
	next:
	}
	e, err := parseExpr(b.String())
	if err != nil {
		p.warnf("bad if expression %q: %v", s, err)
		return false
	}
	return evalExpr(e, func(id string) float64 {
		switch id {
		case "version":
			return saVersion
		case "perl_version":
			return 5.036
		}
		return vals[id]
	}) != 0
}

func (p *confParser) ifFunc(fn, arg string) bool {
	if fn == "plugin(" {
		return p.c.plugins[arg]
	}
	// can(Module::method): Conf features and compat flags of 4.0.1 exist;
	// plugin methods exist when the plugin is loaded.
	i := strings.LastIndex(arg, "::")
	if i < 0 {
		return false
	}
	mod, meth := arg[:i], arg[i+2:]
	if mod == "Mail::SpamAssassin::Conf" {
		if strings.HasPrefix(meth, "compat_") {
			return p.c.compat[strings.TrimPrefix(meth, "compat_")]
		}
		return strings.HasPrefix(meth, "feature_") || strings.HasPrefix(meth, "perl_min_version_")
	}
	return p.c.plugins[mod]
}

// setting handles non-rule directives; false means unknown.
func (p *confParser) setting(key, val string) bool {
	c := p.c
	switch key {
	case "loadplugin":
		f := strings.Fields(val)
		if len(f) > 0 && implementedPlugins[f[0]] {
			c.plugins[f[0]] = true
		}
	case "enable_compat":
		c.compat[val] = true
	case "required_score", "required_hits":
		p.float(val, &c.RequiredScore)
	case "body_part_scan_size":
		p.size(val, &c.BodyScanSize)
	case "rawbody_part_scan_size":
		p.size(val, &c.RawbodyScanSize)
	case "report_safe":
		p.reportSafe(val)
	case "rewrite_header":
		f := strings.SplitN(val, " ", 2)
		if len(f) == 2 && strings.EqualFold(f[0], "subject") {
			c.RewriteSubject = strings.TrimSpace(f[1])
		}
	case "add_header", "remove_header":
		p.headerSetting(key, val)
	case "clear_headers":
		c.SpamHeaders, c.HamHeaders = nil, nil
	case "use_bayes":
		c.UseBayes = val != "0"
	case "bayes_auto_learn":
		c.BayesAutoLearn = val != "0"
	case "bayes_auto_learn_threshold_nonspam":
		p.float(val, &c.AutoLearnHamThreshold)
	case "bayes_auto_learn_threshold_spam":
		p.float(val, &c.AutoLearnSpamThresh)
	case "bayes_ignore_header":
		for _, h := range strings.Fields(val) {
			c.BayesIgnoreHeaders = append(c.BayesIgnoreHeaders, strings.ToLower(h))
		}
	case "bayes_ignore_from", "bayes_ignore_to":
		c.addrLists[key] = appendGlobs(c.addrLists[key], val)
	case "bayes_min_ham_num", "bayes_min_spam_num":
		p.bayesMin(key, val)
	case "trusted_networks", "clear_trusted_networks", "internal_networks",
		"clear_internal_networks", "msa_networks", "clear_msa_networks":
		p.netSetting(key, val)
	case "whitelist_from", "welcomelist_from":
		c.Welcomelist = appendGlobs(c.Welcomelist, val)
	case "def_whitelist_from", "def_welcomelist_from":
		c.addrLists["def_welcomelist_from"] = appendGlobs(c.addrLists["def_welcomelist_from"], val)
	case "whitelist_to", "welcomelist_to", "blacklist_to", "blocklist_to", "more_spam_to", "all_spam_to",
		"whitelist_subject", "welcomelist_subject", "blacklist_subject", "blocklist_subject",
		"whitelist_bounce_relays", "welcomelist_bounce_relays":
		k := strings.NewReplacer("whitelist", "welcomelist", "blacklist", "blocklist").Replace(key)
		c.addrLists[k] = appendGlobs(c.addrLists[k], val)
	case "blacklist_from", "blocklist_from":
		c.Blocklist = appendGlobs(c.Blocklist, val)
	case "unwhitelist_from", "unwelcomelist_from":
		c.Welcomelist = removeGlobs(c.Welcomelist, val)
	case "unblacklist_from", "unblocklist_from":
		c.Blocklist = removeGlobs(c.Blocklist, val)
	case "enlist_addrlist":
		name, rest := splitFirst(val)
		if !strings.HasPrefix(name, "(") || !strings.HasSuffix(name, ")") {
			p.warnf("enlist_addrlist: bad list name %q", name)
			break
		}
		name = strings.Trim(name, "()")
		c.addrLists[name] = appendGlobs(c.addrLists[name], rest)
	case "freemail_domains":
		c.freemail = appendGlobs(c.freemail, val)
	case "freemail_whitelist", "freemail_welcomelist":
		c.freemailWL = appendGlobs(c.freemailWL, val)
	case "util_rb_2tld", "util_rb_3tld":
		m := c.tld2
		if key == "util_rb_3tld" {
			m = c.tld3
		}
		for _, d := range strings.Fields(val) {
			m[strings.ToLower(d)] = true
		}
	case "originating_ip_headers":
		c.originatingIP = append(c.originatingIP, strings.Fields(val)...)
	case "clear_originating_ip_headers":
		c.originatingIP = nil
	case "replace_tag", "replace_inter", "replace_pre", "replace_post":
		p.replaceSetting(key, val)
	case "replace_rules":
		c.replaceRules = append(c.replaceRules, strings.Fields(val)...)
	default:
		return p.dnsSetting(key, val) || p.uriHostSetting(key, val) || p.reportSetting(key, val) || p.authSetting(key, val) || ignoredSettings[key]
	}
	return true
}

func (p *confParser) float(val string, dst *float64) {
	v, err := strconv.ParseFloat(strings.TrimSpace(val), 64)
	if err != nil {
		p.warnf("bad number %q", val)
		return
	}
	*dst = v
}

func (p *confParser) size(val string, dst *int) {
	v, err := strconv.Atoi(strings.TrimSpace(val))
	if err != nil || v < 0 {
		p.warnf("bad size %q", val)
		return
	}
	*dst = v
}

func (p *confParser) replaceSetting(key, val string) {
	f := strings.Fields(val)
	if len(f) < 2 {
		p.warnf("%s needs a name and a value", key)
		return
	}
	m := map[string]map[string]string{
		"replace_tag": p.c.replaceTag, "replace_inter": p.c.replaceInter,
		"replace_pre": p.c.replacePre, "replace_post": p.c.replacePost,
	}[key]
	m[f[0]] = strings.TrimSpace(val[len(f[0]):])
}

func (p *confParser) headerSetting(key, val string) {
	f := strings.SplitN(val, " ", 3)
	when := strings.ToLower(f[0])
	if when != "spam" && when != "ham" && when != "all" || len(f) < 2 || key == "add_header" && len(f) < 3 {
		p.warnf("%s: bad value %q", key, val)
		return
	}
	h := AddHeader{Name: f[1]}
	if key == "add_header" {
		t := strings.TrimSpace(f[2])
		if len(t) >= 2 && t[0] == '"' && t[len(t)-1] == '"' {
			t = t[1 : len(t)-1]
		}
		h.Template = strings.NewReplacer(`\t`, "\t", `\n`, "\n").Replace(t)
	}
	edit := func(list []AddHeader) []AddHeader {
		out := list[:0:0]
		for _, x := range list {
			if !strings.EqualFold(x.Name, h.Name) {
				out = append(out, x)
			}
		}
		if key == "add_header" {
			out = append(out, h)
		}
		return out
	}
	if when != "spam" {
		p.c.HamHeaders = edit(p.c.HamHeaders)
	}
	if when != "ham" {
		p.c.SpamHeaders = edit(p.c.SpamHeaders)
	}
}

func (p *confParser) netSetting(key, val string) {
	c := p.c
	dst := map[string]*[]netRule{
		"trusted_networks": &c.TrustedNets, "clear_trusted_networks": &c.TrustedNets,
		"internal_networks": &c.InternalNets, "clear_internal_networks": &c.InternalNets,
		"msa_networks": &c.MSANets, "clear_msa_networks": &c.MSANets,
	}[key]
	if strings.HasPrefix(key, "clear_") {
		*dst = nil
		return
	}
	for _, f := range strings.Fields(val) {
		n, err := parseNet(f)
		if err != nil {
			p.warnf("%s: %v", key, err)
			continue
		}
		*dst = append(*dst, n)
	}
	switch key {
	case "trusted_networks":
		c.trustedConfigured = true
	case "internal_networks":
		c.internalConfigured = true
	}
}

// parseNet accepts SA's network notations: 1.2.3.4, 1.2.3.4/24, 1.2.3.,
// 1.2., IPv6 with or without brackets, each optionally prefixed by '!'.
func parseNet(s string) (netRule, error) {
	var r netRule
	if strings.HasPrefix(s, "!") {
		r.Neg, s = true, s[1:]
	}
	s = strings.Trim(s, "[]")
	if strings.HasSuffix(s, ".") && !strings.Contains(s, "/") {
		parts := strings.Split(strings.TrimSuffix(s, "."), ".")
		bits := 8 * len(parts)
		for len(parts) < 4 {
			parts = append(parts, "0")
		}
		s = strings.Join(parts, ".") + "/" + strconv.Itoa(bits)
	}
	if !strings.Contains(s, "/") {
		a, err := netip.ParseAddr(s)
		if err != nil {
			return r, err
		}
		r.Prefix = netip.PrefixFrom(a, a.BitLen())
		return r, nil
	}
	pf, err := netip.ParsePrefix(s)
	if err != nil {
		return r, err
	}
	r.Prefix = pf.Masked()
	return r, nil
}

// containsIP applies SA's first-match semantics: the first entry that
// contains ip decides (a '!' entry excludes).
func containsIP(nets []netRule, ip netip.Addr) bool {
	ip = ip.Unmap()
	for _, n := range nets {
		if n.Prefix.Contains(ip) {
			return !n.Neg
		}
	}
	return false
}

// LoadOrder returns the files SpamAssassin would read for these
// directories: site *.pre, rule *.cf, site *.cf, then the extra local file.
func loadOrder(ruleDirs []string, siteDir, local string) []string {
	var files []string
	glob := func(dir, pat string) {
		m, _ := filepath.Glob(filepath.Join(dir, pat))
		sort.Strings(m)
		files = append(files, m...)
	}
	if siteDir != "" {
		glob(siteDir, "*.pre")
	}
	for _, d := range ruleDirs {
		glob(d, "*.cf")
	}
	if siteDir != "" {
		glob(siteDir, "*.cf")
	}
	if local != "" {
		abs, _ := filepath.Abs(local)
		seen := false
		for _, f := range files {
			if fa, _ := filepath.Abs(f); fa == abs {
				seen = true
			}
		}
		if !seen {
			files = append(files, local)
		}
	}
	return files
}
