package spam

import (
	"net/netip"
	"regexp"
	"strings"
)

// relay is one parsed Received hop (SA's Metadata::Received relay hash).
type relay struct {
	ip, rdns, helo, by, ident, envfrom, id, auth string
	internal, msa                                bool
	noReverseDNS, rdnsNotInHeaders, ipPrivate    bool
	asString                                     string
}

type relayInfo struct {
	trusted, untrusted, internal, external []*relay
	unparseable                            int
	lastTrustedIdx, lastInternalIdx        int
}

const ipAddr = `(?:\d{1,3}\.\d{1,3}\.\d{1,3}\.\d{1,3}|(?:IPv6:)?[0-9A-Fa-f:]*:[0-9A-Fa-f:.]+)`

// rcvdFormat is one known Received layout; fields name the capture
// groups in order ("helo", "rdns", "ip", "by", "ident", "rdnshelo").
type rcvdFormat struct {
	re     *regexp.Regexp
	fields []string
	dns    bool // the MTA looked up reverse DNS
	guard  *regexp.Regexp
	lits   []string // one of them is in every line re matches (lower case)
}

// qmailGuard selects the qmail/qpsmtpd shapes: "with ... SMTP" not
// followed by " id " (SA's parse_received_line guard).
var qmailGuard = regexp.MustCompile(`^\S+(?: \((?:HELO|EHLO) \S*\))? \((?:\S+@)?\[?` + ipAddr + `\]?\)(?: \(envelope-sender <\S+>\))? by \S+(?: \(.+\))* with (?:.* )?(?:SMTP|QMQP)(?:$|[^ ]| [^i]| i[^d]| id[^ ]| i$| id$)`)

func qf(pat string, fields ...string) rcvdFormat {
	f := rf(pat, true, fields...)
	f.guard = qmailGuard
	return f
}

func rf(pat string, dns bool, fields ...string) rcvdFormat {
	pat = strings.ReplaceAll(pat, "IP", ipAddr)
	return rcvdFormat{re: regexp.MustCompile(pat), fields: fields, dns: dns, lits: prefilterFor(pat)}
}

// rcvdFormats cover the MTAs of the SA test corpus era and today:
// sendmail, Postfix, qmail, Exim, Microsoft, Courier and the generic
// bracketed-IP shapes. They are tried in order; the first match wins.
var rcvdFormats = []rcvdFormat{
	rf(`^(\S*) \(\[(IP)\][^)]{0,40}\) by (\S+) with Microsoft SMTPSVC`, false, "helo", "ip", "by"),
	rf(`^(\S+) \(\[?(IP)(?:%[A-Z0-9._~-]*)?\]?\) by (\S+) .*with (?:Microsoft SMTP Server|mapi id)`, false, "helo", "ip", "by"),
	rf(`^\[(IP)\] \(([^)]*?)\) by (\S+) .*Exim`, false, "ip", "eximsub", "by"),
	rf(`^(\S+) \(\[(IP)\]([^)]*?)\) by (\S+) .*Exim`, false, "rdnshelo", "ip", "eximsub", "by"),
	rf(`^(\S+) \[(IP)\](?::\d+)? by (\S+) .*Exim`, false, "rdnshelo", "ip", "by"),
	rf(`^(\S+) \((\S+) ?\[(IP)\]\) by (\S+) .*\(Postfix\) with`, true, "helo", "rdns", "ip", "by"),
	rf(`^(\S+) \((\S+) \[(IP)\].*\) by (\S+) \(`, true, "helo", "rdnsident", "ip", "by"),
	rf(`^(\S+) \((\S+) \[(IP)\]\) by (\S+) with \S+ \(`, true, "helo", "rdns", "ip", "by"),
	rf(`^(\S+) \(\[(IP)\] helo=(\S+)\) by (\S+) with `, false, "rdns", "ip", "helo", "by"),
	rf(`^(\S+) \(<unknown\S*>\[(IP)\]\) by (\S+) `, false, "helo", "ip", "by"),
	rf(`^(\S+) \((\S+\.\S+)\[(IP)\]\) by (\S+) `, true, "helo", "rdns", "ip", "by"),
	rf(`^(\S+) \((\S*)@\[(IP)\].*\) by (\S+) \(`, true, "helo", "ident", "ip", "by"),
	qf(`^(\S+) \((?:HELO|EHLO) ([^ ()]*)\) \((\S*)@\[?(IP)\]?\)(?: \(envelope-sender <\S+>\))? by (\S+)`, "rdnsq", "helo", "ident", "ip", "by"),
	qf(`^(\S+) \((?:HELO|EHLO) ([^ ()]*)\) \(\[?(IP)\]?\)(?: \(envelope-sender <\S+>\))? by (\S+)`, "rdnsq", "helo", "ip", "by"),
	qf(`^(\S+) \((\S*)@\[?(IP)\]?\)(?: \(envelope-sender <\S+>\))? by (\S+)`, "rdnshelou", "ident", "ip", "by"),
	qf(`^(\S+) \(\[?(IP)\]?\)(?: \(envelope-sender <\S+>\))? by (\S+)`, "rdnshelou", "ip", "by"),
	rf(`^(\S+) \((?:HELO|EHLO) (\S*)\) \[(IP)\] by (\S+) \([^)]+\) with (?:ESMTP|SMTP)`, false, "rdns", "helo", "ip", "by"),
	rf(`^(\S+) \( \[(IP)\]\).*? by (\S+) `, false, "x", "ip", "by"),
	rf(`^\((\S+) \[(IP)\]\) by (\S+) `, false, "helo", "ip", "by"),
	rf(`^\[(IP)\] by (\S+) `, false, "ip", "by"),
	rf(`^\(\[?(IP)\]?\) by (\S+) `, false, "ip", "by"),
	rf(`^(\S+) \[(IP)\] by (\S+) \[IP\] with `, true, "helo", "ip", "by"),
	rf(`^(\S+) \(\[(IP)\]\) by (\S+) \(`, true, "helo", "ip", "by"),
	rf(`^(\S+) \((\S+) \[(IP)\]\).*? by (\S+)\b`, true, "helo", "rdns", "ip", "by"),
	rf(`^(\S+) \(\[(IP)(?:[.:]\d+)?\]\).*? by (\S+) `, true, "helo", "ip", "by"),
	rf(`^(\S+) \((?:HELO|EHLO) ([^)]*)\) \((?:(\S*)@)?\[?(IP)\]?\).* by (\S+) `, true, "rdns", "helo", "ident", "ip", "by"),
	rf(`^(\S+) \((?:(\S*)@)?\[?(IP)\]?\).* by (\S+) `, true, "rdnshelo", "ident", "ip", "by"),
	rf(`^(\S+) \((\S+) \[(IP)\]\) by (\S+) with `, true, "helo", "rdns", "ip", "by"),
	rf(`^(\S+) \((?:HELO|EHLO) (\S*)\) \((?:(\S+)@)?(IP).*?\) by (\S+) with `, true, "rdns", "helo", "ident", "ip", "by"),
	rf(`^\[(IP)\] \((?:account \S+ )?(?:HELO|EHLO) (\S*)\) by (\S+) \(`, false, "ip", "helo", "by"),
	rf(`^\(\[(IP)\]\) by (\S+) with `, false, "ip", "by"),
	rf(`^([^\d]\S+) \((IP)\) by (\S+) `, false, "helo", "ip", "by"),
	rf(`^(IP) by (\S+) with `, false, "ip", "by"),
	rf(`^(\S+) \((\S+)\[(IP)\]\) by (\S+) `, true, "helo", "rdns", "ip", "by"),
	rf(`^(IP) \((?:HELO|EHLO) (\S*)\) by (\S+) `, false, "ip", "helo", "by"),
	rf(`^(\S+) \[(IP)\] by (\S+) `, false, "helo", "ip", "by"),
	rf(`^(\S+)\((IP)\) by (\S+) `, false, "rdns", "ip", "by"),
	rf(`^(\S+) \(unverified \[(IP)\]\) by (\S+) `, false, "helo", "ip", "by"),
	rf(`^\[(IP)\] \(([^)]+)\) by (\S+) `, false, "ip", "eximsub", "by"),
	rf(`^(\S+) \((?:\S+@)?(IP)\) by (\S+) with `, false, "rdns", "ip", "by"),
}

var (
	rcvdBracketIP    = regexp.MustCompile(`^\[[\d.]+\]$`)
	rcvdEximLocal    = regexp.MustCompile(`\bwith local(?:-\S+)? `)
	rcvdHeloSub      = regexp.MustCompile(`helo=(\S+)`)
	rcvdFirstWord    = regexp.MustCompile(`^(\S+)[^-A-Za-z0-9.]`)
	rcvdPostfixAuth  = regexp.MustCompile(`\) \(Authenticated sender: \S+\) by \S+ \(([^)]+)\) with `)
	rcvdSendmailAuth = regexp.MustCompile(`^from .*?(?:\](?: \([^)]*\))?\)|\)\]) .*?\(.*?authenticated.*?\).*? by`)
	rcvdDate         = regexp.MustCompile(`[\s;]+(?:(?:Mon|T(?:ue|hu)|Wed|Fri|S(?:at|un)), )?\d+ (?:J(?:an|u[nl])|Feb|Ma[ry]|A(?:pr|ug)|Sep|Oct|Nov|Dec) \d+ \d+:\d+(?::\d+)? \S+$`)
	rcvdID           = regexp.MustCompile(` id <?([^\s<>;]{3,})`)
	rcvdHeloEq       = regexp.MustCompile(`\bhelo=([-A-Za-z0-9.^+_&:=?!@%*$\\/]+)(?:[^-A-Za-z0-9.^+_&:=?!@%*$\\/]|$)`)
	rcvdHeloKW       = regexp.MustCompile(`\b(?:HELO|EHLO) ([-A-Za-z0-9.^+_&:=?!@%*$\\/]+)(?:[^-A-Za-z0-9.^+_&:=?!@%*$\\/]|$)`)
	rcvdBy           = regexp.MustCompile(` by (\S+)(?:[^-A-Za-z0-9;.]|$)`)
	rcvdAuth         = regexp.MustCompile(`(?i) with ((?:ES|L|UTF8S|UTF8L)MTPS?A|ASMTP|HTTP[SU]?)(?: |;|$)`)
	rcvdEnvFrom      = regexp.MustCompile(`(?i)(?:return-path:? |envelope-(?:sender|from)[ =])(\S+)\b`)
	rcvdSkipBy       = regexp.MustCompile(`(?i)^from (\S+) by [^\s;]+ ?;`)
	rcvdAnyIP        = regexp.MustCompile(`\[(` + ipAddr + `)\]`)
	rcvdLocal        = regexp.MustCompile(`^\S+ (?:by \S+ (?:with|via|for|\()|(?:(?:with|via|for) \S+|\(unverified\)) by\b)`)
	rcvdLocalhst     = regexp.MustCompile(`^\S+ \((?:\S+@)?(?:localhost|127\.0\.0\.1)\) `)
	parenLocal       = regexp.MustCompile(`^\S+@localhost\) by \S+ `)
	parenJqueue      = regexp.MustCompile(`^[^\s@]+@[^)]+\) by \S+\(jqueuemail\) id [^\s;]+`)
	parenNAVGW       = regexp.MustCompile(`^(\S*) \[(` + ipAddr + `)\]\) by (\S+) \(NAVGW .*?\) with `)
	squirrel         = regexp.MustCompile(`(` + ipAddr + `)\b[^.-].{9,79}by (\S+) with HTTP`)
	rcvdSkipMisc     = regexp.MustCompile(`^localhost \(localhost \[\[UNIX: localhost\]\]\) by |^mail pickup service by \S+ with Microsoft SMTPSVC$|^\S+ \(\S+\) by \S+ \(Content Technologies |\(LSMTP for|^\S+@\S+ by \S+ |^\S+ by \S+ \(.{0,100}\) with qmail-scanner|^Unknown/Local \(|^\S+ \S+ by \S+ with local-e?smtp |^\S+ \(\S+@\S+ \[(?:localhost|127\.0\.0\.1)\]\) |^\S+ id \S+$|^\S+ (?:(?:with|via|for) \S+|\(unverified\)) by\b`)
	rcvdStrip        = regexp.MustCompile(`[\s\x00#\[\]()<>|]`)
)

// popFetch marks a mail-fetcher hand-over (fetchmail via POP3/IMAP),
// which restarts the trusted chain in SA.
var popFetch = &relay{}

// parseReceived returns nil for an unparseable line, and a zero relay
// with ok=false for lines SA deliberately skips.
func parseReceived(line string) (r *relay, skip bool) {
	s := strings.Join(strings.Fields(line), " ")
	for strings.HasSuffix(s, ";") {
		s = strings.TrimRight(strings.TrimSuffix(s, ";"), " ")
	}
	if !strings.HasPrefix(strings.ToLower(s), "from ") && !strings.HasPrefix(strings.ToLower(s), "(from ") {
		return nil, true
	}
	if strings.Contains(s, " with local for ") {
		return nil, true
	}
	if m := rcvdSkipBy.FindStringSubmatch(s); m != nil && !rcvdBracketIP.MatchString(m[1]) {
		return nil, true
	}
	s = rcvdDate.ReplaceAllString(s, "")
	s = strings.ReplaceAll(s, ")by ", ") by ")
	r = &relay{}
	if m := rcvdID.FindStringSubmatch(s); m != nil {
		r.id = m[1]
	}
	// The unanchored regexes below make regexp try every place of the
	// line; each needs a literal most lines lack, so look for it first.
	// (Their case-folded literals hold no k or s, the only ASCII letters
	// folding with non-ASCII ones, so lower-casing finds them all.)
	if strings.Contains(s, "helo=") {
		if m := rcvdHeloEq.FindStringSubmatch(s); m != nil {
			r.helo = m[1]
		}
	}
	if r.helo == "" && (strings.Contains(s, "HELO ") || strings.Contains(s, "EHLO ")) {
		if m := rcvdHeloKW.FindStringSubmatch(s); m != nil {
			r.helo = m[1]
		}
	}
	if m := rcvdBy.FindStringSubmatch(s); m != nil {
		r.by = m[1]
	}
	if strings.Contains(s, " by ") && containsFold(s, " with ") {
		if m := rcvdAuth.FindStringSubmatch(s); m != nil {
			r.auth = m[1]
		}
	}
	if r.auth == "" {
		r.auth = otherAuth(s)
	}
	body := s[strings.IndexByte(s, ' ')+1:]
	lowBody := strings.ToLower(body)
	if strings.Contains(lowBody, "return-path") || strings.Contains(lowBody, "envelope-") {
		if m := rcvdEnvFrom.FindStringSubmatch(body); m != nil {
			r.envfrom = m[1]
		}
	}
	if strings.HasPrefix(s, "(") {
		rest := s[len("(from "):]
		if parenLocal.MatchString(rest) || parenJqueue.MatchString(rest) {
			return nil, true
		}
		if mm := parenNAVGW.FindStringSubmatch(rest); mm != nil {
			r.helo, r.ip, r.by = mm[1], mm[2], mm[3]
		}
		return finishRelay(r, false, s)
	}
	if strings.Contains(body, "with POP3") || strings.Contains(body, "with IMAP") {
		return popFetch, true
	}
	if strings.Contains(body, "Exim") && rcvdEximLocal.MatchString(body) {
		return nil, true
	}
	if strings.Contains(body, " (SquirrelMail authenticated user ") || strings.Contains(body, " (NaSMail authenticated user ") {
		if mm := squirrel.FindStringSubmatch(body); mm != nil {
			r.ip, r.by = mm[1], mm[2]
			return finishRelay(r, false, s)
		}
	}
	for _, f := range rcvdFormats {
		// Most formats name their MTA ("Exim", "(Postfix) with"): a line
		// without the name is no use to their regex.
		if f.lits != nil && !containsAny(lowBody, f.lits) {
			continue
		}
		if f.guard != nil && !f.guard.MatchString(body) {
			continue
		}
		m := f.re.FindStringSubmatch(body)
		if m == nil {
			continue
		}
		dns := f.dns
		for i, name := range f.fields {
			v := m[i+1]
			switch name {
			case "helo":
				r.helo = v
			case "rdns":
				r.rdns = v
			case "rdnsq":
				r.rdns = v
				dns = v != "unknown"
			case "rdnshelo":
				r.rdns, r.helo = v, v
			case "rdnshelou": // qmail writes "unknown" when it found no rDNS
				r.rdns, r.helo = v, v
				dns = v != "unknown"
			case "rdnsident":
				r.rdns = v
				if at := strings.LastIndexByte(v, '@'); at >= 0 {
					r.ident = strings.TrimPrefix(v[:at], "IDENT:")
					r.rdns = v[at+1:]
				}
			case "ip":
				r.ip = v
			case "by":
				r.by = v
			case "ident":
				r.ident = v
			case "eximsub":
				if mm := rcvdHeloSub.FindStringSubmatch(v); mm != nil {
					r.helo = mm[1]
				}
			}
		}
		if r.rdns == "softdnserr" {
			r.rdns, dns = "", false
		}
		return finishRelay(r, dns, s)
	}
	if rcvdLocal.MatchString(body) || rcvdLocalhst.MatchString(body) || rcvdSkipMisc.MatchString(body) {
		return nil, true
	}
	if r.helo == "" {
		if m := rcvdFirstWord.FindStringSubmatch(body); m != nil {
			r.helo = m[1]
		}
	}
	return finishRelay(r, false, s)
}

func otherAuth(s string) string {
	switch {
	case strings.Contains(s, "authenticated") && rcvdSendmailAuth.MatchString(s):
		return "Sendmail"
	case rcvdPostfixAuth.MatchString(s):
		return "Postfix"
	}
	return ""
}

func finishRelay(r *relay, dns bool, s string) (*relay, bool) {
	if r.ip == "" {
		if m := rcvdAnyIP.FindStringSubmatch(s); m != nil {
			r.ip = m[1]
		}
	}
	if r.ip == "" {
		return nil, false // unparseable
	}
	if r.by == "" {
		return nil, false
	}
	r.rdns = strings.TrimRight(r.rdns, ".")
	if strings.EqualFold(r.rdns, "unknown") || strings.HasPrefix(r.rdns, "[") {
		r.rdns = ""
	}
	r.ip = strings.TrimPrefix(strings.TrimPrefix(r.ip, "IPv6:"), "ipv6:")
	r.by = strings.TrimSuffix(r.by, ";")
	for _, p := range []*string{&r.ip, &r.rdns, &r.helo, &r.by, &r.ident} {
		*p = rcvdStrip.ReplaceAllString(*p, "!")
	}
	r.envfrom = strings.Trim(r.envfrom, "<> \t")
	r.envfrom = rcvdStrip.ReplaceAllString(r.envfrom, "!")
	if r.rdns == "" {
		r.noReverseDNS = dns
		r.rdnsNotInHeaders = !dns
	}
	r.ipPrivate = isPrivateIP(r.ip)
	return r, false
}

// isPrivateIP follows SA's IP_PRIVATE: RFC 1918, loopback, link-local,
// CGNAT, test nets and IPv6 local ranges.
func isPrivateIP(s string) bool {
	a, err := netip.ParseAddr(s)
	if err != nil {
		return false
	}
	a = a.Unmap()
	if a.IsPrivate() || a.IsLoopback() || a.IsLinkLocalUnicast() || a.IsUnspecified() {
		return true
	}
	if a.Is4() {
		b := a.As4()
		return b[0] == 100 && b[1]&0xc0 == 64 || b[0] == 192 && b[1] == 0 && b[2] == 2 ||
			b[0] == 198 && (b[1] == 18 || b[1] == 19) || b[0] == 169 && b[1] == 254 || b[0] == 0
	}
	return false
}

func (r *relay) str() string {
	return "[ ip=" + r.ip + " rdns=" + r.rdns + " helo=" + r.helo + " by=" + r.by +
		" ident=" + r.ident + " envfrom=" + r.envfrom + " intl=" + b2s(r.internal) +
		" id=" + r.id + " auth=" + r.auth + " msa=" + b2s(r.msa) + " ]"
}

func b2s(b bool) string {
	if b {
		return "1"
	}
	return "0"
}
