package spam

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"
)

// RuleKind is the SpamAssassin rule type.
type RuleKind int

// Rule kinds, named after their .cf directive.
const (
	KindHeader RuleKind = iota
	KindBody
	KindRawbody
	KindFull
	KindURI
	KindMimeheader
	KindMeta
)

var kindNames = map[string]RuleKind{
	"header": KindHeader, "body": KindBody, "rawbody": KindRawbody, "full": KindFull,
	"uri": KindURI, "mimeheader": KindMimeheader, "meta": KindMeta,
}

func (k RuleKind) String() string {
	for n, v := range kindNames {
		if v == k {
			return n
		}
	}
	return "unknown"
}

// Rule is one test with its score, flags and description.
type Rule struct {
	Name     string
	Kind     RuleKind
	Source   string // definition text after the name
	Pattern  string // regex body and flags, for regex rules
	Flags    string
	Header   HeaderSpec // header and mimeheader rules
	Eval     *EvalCall  // eval: rules
	Describe string
	TFlags   map[string]string
	Priority int
	Score    [4]float64
	hasScore bool

	re   Matcher
	line lineMember // place in its kind's lineSet
	hdr  hdrMember  // header rules: the value they read
	meta expr
	deps []string
}

// HeaderSpec is the left side of a header rule: "From:addr =~".
type HeaderSpec struct {
	Name    string
	Mods    []string // raw, addr, name, host, domain, ip, revip, first, last
	Neg     bool     // !~
	Exists  bool     // exists:Name
	IfUnset *string  // [if-unset: ...]
}

// EvalCall is "eval:function(args)".
type EvalCall struct {
	Func string
	Args []string
}

// implementedPlugins are the plugin modules "loadplugin" can enable. These
// are the ones Debian's SpamAssassin 4.0.1 loads by default; their regex
// rules run here, and eval functions not implemented are listed at load.
var implementedPlugins = map[string]bool{}

func init() {
	for _, p := range strings.Fields(`Check HeaderEval BodyEval MIMEEval HTMLEval
		RelayEval URIEval WLBLEval FreeMail ReplaceTags MIMEHeader VBounce ImageInfo
		Bayes AutoLearnThreshold WelcomeListSubject URIDetail HTTPSMismatch DKIM SPF
		DMARC URIDNSBL DNSEval AskDNS HashBL Pyzor Razor2 SpamCop`) {
		implementedPlugins["Mail::SpamAssassin::Plugin::"+p] = true
	}
}

// ignoredSettings are directives we parse but that change nothing here
// (network, reporting and plugin knobs); they raise no warning.
var ignoredSettings = map[string]bool{}

func init() {
	for _, k := range strings.Fields(`lang test reuse require_version
		ok_locales ok_languages whitelist_from_rcvd welcomelist_from_rcvd
		def_whitelist_from_rcvd def_welcomelist_from_rcvd adsp_override
		bayes_stopword_en bayes_stopword_de bayes_stopword_fr
		bayes_stopword_es bayes_stopword_it bayes_stopword_nl bayes_stopword_pt
		bayes_stopword_se bayes_stopword_no bayes_stopword_dk bayes_stopword_fi
		bayes_stopword_hu bayes_stopword_gr bayes_stopword_ru bayes_stopword_tr
		bayes_stopword_pl util_rb_tld clear_util_rb
		url_shortener url_shortener_get uridnsbl_skip_domain
		urirhssub uridnssub urirhsbl uridnsbl askdns dns_block_rule
		dns_local_ports_avoid dns_local_ports_permit dns_available dns_server
		redirector_pattern fns_ignore_headers fns_ignore_dkim fns_check
		
		hashbl_acl_freemail hashbl_ignore header_hashbl body_hashbl uri_block_cc
		pyzor_options razor_config use_razor2 use_pyzor use_dcc skip_rbl_checks
		fold_headers envelope_sender_header normalize_charset
		lock_method score_only
		bayes_path bayes_file_mode bayes_store_module bayes_sql_dsn
		bayes_token_sources bayes_use_hapaxes bayes_expiry_max_db_size
		bayes_auto_expire bayes_learn_to_journal
		use_auto_whitelist use_auto_welcomelist auto_whitelist_factor
		auto_welcomelist_factor txrep_factor use_txrep dkim_timeout
		unwhitelist_from_rcvd unwelcomelist_from_rcvd`) {
		ignoredSettings[k] = true
	}
}

// ruleDirective handles rule definitions and per-rule settings.
func (p *confParser) ruleDirective(key, val string) bool {
	switch key {
	case "score", "describe", "tflags", "priority":
		name, rest := splitFirst(val)
		if name == "" {
			p.warnf("%s without a rule name", key)
			return true
		}
		p.ruleAttr(key, name, rest)
		return true
	}
	kind, ok := kindNames[key]
	if !ok {
		return false
	}
	name, def := splitFirst(val)
	if name == "" || def == "" {
		p.warnf("%s: missing rule name or definition", key)
		return true
	}
	r := p.rule(name)
	r.Kind, r.Source = kind, def
	r.Eval, r.Pattern, r.Flags, r.Header = nil, "", "", HeaderSpec{}
	r.meta, r.re = nil, nil
	if err := parseRuleDef(r, def); err != nil {
		p.warnf("rule %s: %v", name, err)
		delete(p.c.Rules, name)
	}
	return true
}

// rule returns the rule named name, creating a placeholder so that score
// and describe may precede the definition, as SA allows.
func (p *confParser) rule(name string) *Rule {
	r := p.c.Rules[name]
	if r == nil {
		r = &Rule{Name: name, Kind: -1}
		p.c.Rules[name] = r
	}
	return r
}

func (p *confParser) ruleAttr(key, name, rest string) {
	r := p.rule(name)
	switch key {
	case "describe":
		r.Describe = rest
	case "priority":
		v, err := strconv.Atoi(rest)
		if err != nil {
			p.warnf("priority %s: bad value %q", name, rest)
			return
		}
		r.Priority = v
	case "tflags":
		r.TFlags = map[string]string{}
		for _, f := range strings.Fields(rest) {
			k, v, _ := strings.Cut(f, "=")
			r.TFlags[k] = v
		}
	case "score":
		p.score(r, rest)
	}
}

// score parses one value (all four sets) or four values (set 0..3).
// Values in parentheses are "relative" scores in SA; we take them as is.
func (p *confParser) score(r *Rule, rest string) {
	f := strings.Fields(rest)
	if len(f) != 1 && len(f) != 4 {
		p.warnf("score %s: need 1 or 4 values, got %q", r.Name, rest)
		return
	}
	var v [4]float64
	for i, s := range f {
		x, err := strconv.ParseFloat(strings.Trim(s, "()"), 64)
		if err != nil {
			p.warnf("score %s: bad value %q", r.Name, s)
			return
		}
		v[i] = x
	}
	if len(f) == 1 {
		v = [4]float64{v[0], v[0], v[0], v[0]}
	}
	r.Score, r.hasScore = v, true
}

func splitFirst(s string) (string, string) {
	s = strings.TrimSpace(s)
	i := strings.IndexAny(s, " \t")
	if i < 0 {
		return s, ""
	}
	return s[:i], strings.TrimSpace(s[i+1:])
}

var evalRe = regexp.MustCompile(`^eval:\s*(\w+)\s*\((.*)\)\s*$`)

// parseRuleDef fills r from the definition text for its kind.
func parseRuleDef(r *Rule, def string) error {
	if r.Kind == KindMeta {
		e, err := parseExpr(def)
		if err != nil {
			return err
		}
		r.meta, r.deps = e, exprIdents(e, nil)
		return nil
	}
	if strings.HasPrefix(def, "eval:") {
		m := evalRe.FindStringSubmatch(def)
		if m == nil {
			return fmt.Errorf("bad eval %q", def)
		}
		args, err := parseEvalArgs(m[2])
		if err != nil {
			return err
		}
		r.Eval = &EvalCall{Func: m[1], Args: args}
		return nil
	}
	if r.Kind == KindHeader || r.Kind == KindMimeheader {
		return parseHeaderDef(r, def)
	}
	pat, flags, rest, err := splitRegex(def)
	if err != nil {
		return err
	}
	if rest != "" {
		return fmt.Errorf("trailing text %q", rest)
	}
	r.Pattern, r.Flags = pat, flags
	return nil
}

// parseEvalArgs splits "'a', 2, \"b\"" into unquoted strings.
func parseEvalArgs(s string) ([]string, error) {
	var out []string
	s = strings.TrimSpace(s)
	for s != "" {
		var arg string
		if s[0] == '\'' || s[0] == '"' {
			j := strings.IndexByte(s[1:], s[0])
			if j < 0 {
				return nil, fmt.Errorf("unterminated eval argument")
			}
			arg, s = s[1:1+j], s[2+j:]
		} else {
			j := strings.IndexByte(s, ',')
			if j < 0 {
				j = len(s)
			}
			arg, s = strings.TrimSpace(s[:j]), s[j:]
		}
		out = append(out, arg)
		s = strings.TrimSpace(s)
		if strings.HasPrefix(s, ",") {
			s = strings.TrimSpace(s[1:])
		} else if s != "" {
			return nil, fmt.Errorf("bad eval arguments near %q", s)
		}
	}
	return out, nil
}

func parseHeaderDef(r *Rule, def string) error {
	if strings.HasPrefix(def, "exists:") {
		r.Header = HeaderSpec{Name: strings.TrimSpace(def[len("exists:"):]), Exists: true}
		return nil
	}
	i := strings.Index(def, "=~")
	neg := false
	if j := strings.Index(def, "!~"); j >= 0 && (i < 0 || j < i) {
		i, neg = j, true
	}
	if i < 0 {
		return fmt.Errorf("header rule without =~ or !~")
	}
	spec := strings.TrimSpace(def[:i])
	parts := strings.Split(spec, ":")
	h := HeaderSpec{Name: parts[0], Mods: parts[1:], Neg: neg}
	pat, flags, rest, err := splitRegex(strings.TrimSpace(def[i+2:]))
	if err != nil {
		return err
	}
	if rest != "" {
		if !strings.HasPrefix(rest, "[if-unset:") || !strings.HasSuffix(rest, "]") {
			return fmt.Errorf("trailing text %q", rest)
		}
		v := strings.TrimSpace(rest[len("[if-unset:") : len(rest)-1])
		h.IfUnset = &v
	}
	r.Header, r.Pattern, r.Flags = h, pat, flags
	return nil
}

// splitRegex splits "/pat/flags rest" or "m{pat}flags rest".
func splitRegex(s string) (pat, flags, rest string, err error) {
	if s == "" {
		return "", "", "", fmt.Errorf("missing regex")
	}
	open := s[0]
	body := s[1:]
	if open == 'm' && len(s) > 1 {
		open, body = s[1], s[2:]
	}
	if isAlnum(open) || open == ' ' {
		return "", "", "", fmt.Errorf("bad regex %q", s)
	}
	closeC := map[byte]byte{'{': '}', '(': ')', '[': ']', '<': '>'}[open]
	if closeC == 0 {
		closeC = open
	}
	// The closing delimiter is the last unescaped one followed only by
	// modifier letters and optional trailing text (if-unset).
	end := -1
	for i := 0; i < len(body); i++ {
		if body[i] == '\\' {
			i++
			continue
		}
		if body[i] == closeC {
			j := i + 1
			for j < len(body) && isAlnum(body[j]) {
				j++
			}
			if j == len(body) || body[j] == ' ' || body[j] == '\t' {
				end = i
			}
		}
	}
	if end < 0 {
		return "", "", "", fmt.Errorf("unterminated regex %q", s)
	}
	pat = body[:end]
	j := end + 1
	for j < len(body) && isAlnum(body[j]) {
		j++
	}
	flags = body[end+1 : j]
	rest = strings.TrimSpace(body[j:])
	return pat, flags, rest, nil
}
