package spam

import (
	"regexp"
	"strconv"
	"strings"
)

// Header and relay eval functions (SA plugins HeaderEval, RelayEval,
// FreeMail). Each follows the SpamAssassin 4.0.1 function of the same name.

func init() {
	regEval("check_equal_from_domains", boolEval(evalEqualFromDomains))
	regEval("check_all_trusted", boolEval(func(m *msgState, _ []string) bool {
		r := m.relayInfo()
		return len(r.trusted) > 0 && len(r.untrusted) == 0 && r.unparseable == 0
	}))
	regEval("check_no_relays", boolEval(func(m *msgState, _ []string) bool {
		r := m.relayInfo()
		return len(r.trusted) == 0 && len(r.untrusted) == 0 && r.unparseable == 0
	}))
	regEval("check_relays_unparseable", boolEval(func(m *msgState, _ []string) bool {
		return m.relayInfo().unparseable > 0
	}))
	regEval("check_for_missing_to_header", boolEval(func(m *msgState, _ []string) bool {
		return m.get("To") == "" && m.get("Apparently-To") == ""
	}))
	regEval("check_freemail_from", boolEval(evalFreemailFrom))
	regEval("check_freemail_header", boolEval(evalFreemailHeader))
	regEval("check_freemail_replyto", boolEval(evalFreemailReplyTo))
	regEval("check_from_in_welcomelist", boolEval(func(m *msgState, _ []string) bool {
		return m.fromMatches(m.e.conf.Welcomelist)
	}))
	regEval("check_from_in_whitelist", evalFuncs["check_from_in_welcomelist"])
	regEval("check_from_in_blocklist", boolEval(func(m *msgState, _ []string) bool {
		return m.fromMatches(m.e.conf.Blocklist)
	}))
	regEval("check_from_in_blacklist", evalFuncs["check_from_in_blocklist"])
	regEval("check_mailfrom_matches_rcvd", boolEval(evalMailfromMatchesRcvd))
	regEval("subject_is_all_caps", boolEval(evalSubjectAllCaps))
	regEval("check_for_to_in_subject", boolEval(evalToInSubject))
}

var domainTail = regexp.MustCompile(`^.+\.([^.]+\.[^.]+)$`)

func secondLevel(addr string) string {
	i := strings.LastIndexByte(addr, '@')
	if i < 0 {
		return ""
	}
	return domainTail.ReplaceAllString(addr[i+1:], "$1")
}

func evalEqualFromDomains(m *msgState, _ []string) bool {
	from := secondLevel(m.get("From:addr"))
	env := ""
	if a := parseAddresses(m.envelopeFrom()); len(a) > 0 {
		env = secondLevel(a[0].addr)
	}
	return from != "" && env != "" && !strings.EqualFold(from, env)
}

// allFromAddrs is SA's PerMsgStatus::all_from_addrs.
func (m *msgState) allFromAddrs() []string {
	var addrs []string
	if r := m.headerValues("Resent-From", []string{"first", "addr"}); len(r) > 0 {
		addrs = r
	} else {
		for _, h := range []string{"From", "Envelope-Sender", "Resent-Sender", "X-Envelope-From"} {
			addrs = append(addrs, m.headerValues(h, []string{"addr"})...)
		}
		if a := parseAddresses(m.envelopeFrom()); len(a) > 0 {
			addrs = append(addrs, a[0].addr)
		}
	}
	seen := map[string]bool{}
	var out []string
	for _, a := range addrs {
		a = squeezeDots.ReplaceAllString(a, ".")
		if a != "" && !seen[a] {
			seen[a] = true
			out = append(out, a)
		}
	}
	return out
}

var (
	squeezeDots     = regexp.MustCompile(`\.{2,}`)
	freemailSkipLP  = regexp.MustCompile(`(?i)^(?:abuse|support|sales|info|helpdesk|contact|kontakt|(?:post|host|domain)master|undisclosed.*|request-[a-f0-9]{16}|bounced?-|[a-f0-9]{8}(?:\.[a-f0-9]{8}|-[a-f0-9]{4}-[a-f0-9]{4}-[a-f0-9]{4}-[a-f0-9]{12})|.+=.+=.+)@`)
	freemailSkipEnv = regexp.MustCompile(`(?i)(?:^(?:post|host|domain)master|^double-bounce|^(?:sentto|owner|return|(?:gr)?bounced?)-.+|-(?:request|bounces?|admin|owner)|\b(?:do[._-t]?)?no[._-t]?repl(?:y|ies)|.+=.+)@`)
)

func (m *msgState) isFreemail(email string) bool {
	c := m.e.conf
	email = strings.ToLower(email)
	if email == "" || len(c.freemail) == 0 {
		return false
	}
	at := strings.LastIndexByte(email, '@')
	domain := email[at+1:]
	if c.freemailWLIdx.match(email) || c.freemailWLIdx.match(domain) || freemailSkipLP.MatchString(email) {
		return false
	}
	return at >= 0 && c.freemailIdx.match(domain)
}

func lowerAll(l []string) []string {
	out := make([]string, len(l))
	for i, s := range l {
		out[i] = strings.ToLower(s)
	}
	return out
}

func optRegex(args []string, i int) *regexp.Regexp {
	if len(args) <= i {
		return nil
	}
	return argPattern("optRegex\x00"+args[i], func() *regexp.Regexp { return compileOptRegex(args[i]) })
}

func compileOptRegex(arg string) *regexp.Regexp {
	pat, flags := arg, ""
	if p, f, rest, err := splitRegex(arg); err == nil && rest == "" && strings.HasPrefix(arg, "/") {
		pat, flags = p, f
	}
	src, err := translatePerl(pat, reFlags{i: strings.Contains(flags, "i")}, false)
	if err != nil {
		return nil
	}
	re, _ := regexp.Compile(src)
	return re
}

func evalFreemailFrom(m *msgState, args []string) bool {
	re := optRegex(args, 0)
	for _, a := range lowerAll(m.allFromAddrs()) {
		if m.isFreemail(a) && (re == nil || re.MatchString(a)) {
			return true
		}
	}
	return false
}

func evalFreemailHeader(m *msgState, args []string) bool {
	if len(args) == 0 {
		return false
	}
	re := optRegex(args, 1)
	h := strings.TrimSuffix(args[0], ":addr")
	var emails []string
	if strings.EqualFold(h, "EnvelopeFrom") {
		if a := parseAddresses(m.envelopeFrom()); len(a) > 0 {
			emails = []string{a[0].addr}
		}
	} else {
		emails = m.headerValues(h, []string{"addr"})
	}
	for _, a := range lowerAll(emails) {
		if m.isFreemail(a) && (re == nil || re.MatchString(a)) {
			return true
		}
	}
	return false
}

func evalFreemailReplyTo(m *msgState, args []string) bool {
	what := "replyto"
	if len(args) > 0 {
		what = args[0]
	}
	if freemailSkipEnv.MatchString(m.envelopeFrom()) {
		return false
	}
	from := lowerAll(m.headerValues("From", []string{"addr"}))
	reply := lowerAll(m.headerValues("Reply-To", []string{"addr"}))
	anyFM := func(l []string) bool {
		for _, a := range l {
			if m.isFreemail(a) {
				return true
			}
		}
		return false
	}
	fromFM, replyFM := anyFM(from), anyFM(reply)
	notIn := true
	for _, f := range from {
		for _, r := range reply {
			if f == r {
				notIn = false
			}
		}
	}
	if fromFM && replyFM && notIn {
		return true
	}
	switch {
	case what == "replyto" && !replyFM:
		return false
	case what == "reply" && (len(reply) > 0 && !replyFM || !fromFM):
		return false
	}
	body := m.bodyFreemails()
	addrs := reply
	if what == "reply" && !replyFM {
		addrs = from
	}
	for _, b := range body {
		for _, r := range addrs {
			if b != r {
				return true
			}
		}
	}
	return false
}

const emailPat = `[a-z0-9!#$%&'*+/=?^_` + "`" + `{|}~-]+(?:\.[a-z0-9!#$%&'*+/=?^_` + "`" + `{|}~-]+)*@(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}`

var (
	bodyEmail    = regexp.MustCompile(`(?i)(?:^|[^a-z0-9!#$%&'*+/=?^_` + "`" + `{|}~-])(` + emailPat + `)\b`)
	urlWithAt    = regexp.MustCompile(`(?i)<?https?://\S{0,255}(?:@|%40)\S{0,255}`)
	emailLabeled = regexp.MustCompile(`(?i)<?(` + emailPat + `)(?:>|\s{1,10}([a-z]{2,11}):)`)
	mailtoEmail  = regexp.MustCompile(`(?i)^` + emailPat)
	contactWord  = regexp.MustCompile(`(?i)^(?:fa(?:x|csi)|tel|phone|e?-?mail)`)
)

// bodyFreemails lists free-mail addresses in HTML mailto links and the
// body text (SA's FreeMail _parse_body): addresses inside URLs and ones
// that label something ("a@b.example wrote:", "<a@b.example>") are
// dropped; more than four addresses, or more than two free-mail ones,
// disable the check.
func (m *msgState) bodyFreemails() []string {
	m.render()
	seen := map[string]bool{}
	var emails []string
	addEmail := func(e string) {
		e = strings.ToLower(e)
		if !seen[e] {
			seen[e] = true
			emails = append(emails, e)
		}
	}
	for _, h := range m.htmls {
		for _, u := range h.uris {
			if len(u) > 7 && strings.EqualFold(u[:7], "mailto:") {
				if mm := mailtoEmail.FindString(u[7:]); mm != "" {
					addEmail(mm)
				}
			}
		}
	}
	for _, ln := range m.bodyLines {
		if strings.IndexByte(ln, '@') < 0 {
			continue // every address pattern below needs one
		}
		ln = urlWithAt.ReplaceAllString(ln, " ")
		ln = stripLabeledEmails(ln)
		for _, mm := range bodyEmail.FindAllStringSubmatch(ln, -1) {
			addEmail(mm[1])
		}
	}
	var out []string
	for i, e := range emails {
		if i+1 == 5 {
			return nil // freemail_max_body_emails reached: skip
		}
		if m.isFreemail(e) {
			out = append(out, e)
			if len(out) == 3 {
				return nil // freemail_max_body_freemails reached: skip
			}
		}
	}
	return out
}

func stripLabeledEmails(ln string) string {
	var b strings.Builder
	last := 0
	for _, loc := range emailLabeled.FindAllStringSubmatchIndex(ln, -1) {
		if loc[0] >= 7 && strings.EqualFold(ln[loc[0]-7:loc[0]], "mailto:") {
			continue
		}
		if loc[4] >= 0 && contactWord.MatchString(ln[loc[4]:loc[5]]) {
			continue
		}
		b.WriteString(ln[last:loc[0]])
		b.WriteString(" ")
		last = loc[1]
	}
	b.WriteString(ln[last:])
	return b.String()
}

func (m *msgState) fromMatches(list []addrGlob) bool {
	for _, a := range m.allFromAddrs() {
		if matchGlobs(list, a) {
			return true
		}
	}
	return false
}

func evalMailfromMatchesRcvd(m *msgState, _ []string) bool {
	a := parseAddresses(m.envelopeFrom())
	if len(a) == 0 {
		return false
	}
	addr := a[0].addr
	at := strings.LastIndexByte(addr, '@')
	if at < 0 {
		return false
	}
	domain := strings.ToLower(addr[at+1:])
	ri := m.relayInfo()
	relays := append(append([]*relay(nil), ri.untrusted...), ri.trusted...)
	if len(ri.untrusted) > 0 {
		relays = ri.untrusted[:1]
	} else if len(ri.trusted) > 0 {
		relays = ri.trusted[len(ri.trusted)-1:]
	}
	for _, r := range relays {
		rd := strings.ToLower(r.rdns)
		if rd == "" {
			continue
		}
		if rd == domain || strings.HasSuffix(rd, "."+domain) {
			return true
		}
		if reg := m.e.registrable(rd); reg != "" && reg == m.e.registrable(domain) {
			return true
		}
	}
	return false
}

// registrable trims a host to its registered domain using util_rb_2tld
// and util_rb_3tld (SA's RegistryBoundaries::trim_domain).
func (e *Engine) registrable(host string) string {
	host = strings.TrimSuffix(strings.ToLower(host), ".")
	labels := strings.Split(host, ".")
	if len(labels) < 2 {
		return host
	}
	n := len(labels)
	if n >= 4 && e.conf.tld3[strings.Join(labels[n-3:], ".")] {
		return strings.Join(labels[n-4:], ".")
	}
	if n >= 3 && e.conf.tld2[strings.Join(labels[n-2:], ".")] {
		return strings.Join(labels[n-3:], ".")
	}
	return strings.Join(labels[n-2:], ".")
}

var (
	subjPrefix  = regexp.MustCompile(`(?i)^(?:(?:Re|Fwd|Fw|Aw|Antwort|WG|SV|VB|VS|VL):\s*)+`)
	nonLetters  = regexp.MustCompile(`[^a-zA-Z]`)
	capsCharset = regexp.MustCompile(`(?i)=\?(?:iso-2022-jp|iso-2022-kr|euc-kr|euc-jp|shift_jis|gb2312|big5|ks_c_5601-1987|koi8-r|windows-1251|cp1251|utf-8|koi8-u)\?`)
)

func evalSubjectAllCaps(m *msgState, _ []string) bool {
	subject := strings.TrimSpace(m.get("Subject"))
	subject = subjPrefix.ReplaceAllString(subject, "")
	if !strings.ContainsAny(subject, " \t\n") || len(subject) < 10 {
		return false
	}
	letters := nonLetters.ReplaceAllString(subject, "")
	if capsCharset.MatchString(m.get("Subject:raw")) {
		return false
	}
	return letters != "" && letters == strings.ToUpper(letters)
}

func evalToInSubject(m *msgState, args []string) bool {
	to := m.get("To:addr")
	if len(args) == 0 || to == "" {
		return false
	}
	subject := strings.TrimSuffix(latin1s(m.get("Subject")), "\n")
	pat, lit := toInSubjectPattern(latin1s(to), args[0])
	// Every alternative of the pattern holds lit: a subject without it
	// in any case needs no regex compiled. (Lower-casing keeps every
	// Latin-1 case pair together.)
	if pat == "" || !strings.Contains(strings.ToLower(subject), strings.ToLower(lit)) {
		return false
	}
	re, err := regexp.Compile(pat)
	return err == nil && re.MatchString(subject)
}

// toInSubjectPattern is check_for_to_in_subject's pattern for recipient
// to and the literal every match holds; "" for an unknown kind.
func toInSubjectPattern(to, kind string) (pat, lit string) {
	q := regexp.QuoteMeta(to)
	switch kind {
	case "address":
		return `(?i)\b` + q + `\b`, to
	case "user":
		if i := strings.IndexByte(q, '@'); i >= 0 {
			q = q[:i]
		}
		if i := strings.IndexByte(to, '@'); i >= 0 {
			to = to[:i]
		}
		return `^(?:(?i:(?:re|fw):\s*(?:\w+\s+)?` + q + `$)|` + q + `\s*[,:;!?-](?:$|\s)|(?i:` + q + `$)|(?i:,\s*` + q + `[,:;!?-]$))`, to
	}
	return "", ""
}

func atoiDef(s string, d int) int {
	if v, err := strconv.Atoi(strings.TrimSpace(s)); err == nil {
		return v
	}
	return d
}
