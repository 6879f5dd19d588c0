package spam

import (
	"regexp"
	"strings"
)

// Received-chain eval functions (SA's RelayEval and HeaderEval).

func init() {
	regEval("helo_ip_mismatch", boolEval(evalHeloIPMismatch))
	regEval("check_for_no_rdns_dotcom_helo", boolEval(evalNoRDNSDotcomHelo))
	regEval("gated_through_received_hdr_remover", boolEval(evalGatedRemover))
	regEval("check_for_forged_yahoo_received_headers", boolEval(evalForgedYahoo))
	regEval("check_for_no_hotmail_received_headers", boolEval(func(m *msgState, _ []string) bool {
		_, no := m.hotmailCheck()
		return no
	}))
	regEval("check_for_forged_hotmail_received_headers", boolEval(func(m *msgState, _ []string) bool {
		forged, _ := m.hotmailCheck()
		return forged
	}))
}

var (
	ipv4Only   = regexp.MustCompile(`^\d{1,3}\.\d{1,3}\.\d{1,3}\.\d{1,3}$`)
	ipv4Net    = regexp.MustCompile(`^(\d+\.\d+\.\d+\.)`)
	dotcomHelo = regexp.MustCompile(`(?i)(?:\.|^)(lycos\.com|lycos\.co\.uk|hotmail\.com|localhost\.com|excite\.com|caramail\.com|cs\.com|aol\.com|msn\.com|yahoo\.com|drizzle\.com)$`)
)

func evalHeloIPMismatch(m *msgState, _ []string) bool {
	for _, r := range m.relayInfo().untrusted {
		if !ipv4Only.MatchString(r.helo) || isPrivateIP(r.helo) {
			continue
		}
		if ipv4Only.MatchString(r.ip) && !isPrivateIP(r.ip) && r.helo != r.ip {
			if mm := ipv4Net.FindStringSubmatch(r.helo); mm != nil && !strings.HasPrefix(r.ip, mm[1]) {
				return true
			}
		}
	}
	return false
}

// evalNoRDNSDotcomHelo keeps SA's quirk: each public untrusted hop
// resets the flag, so the last one decides.
func evalNoRDNSDotcomHelo(m *msgState, _ []string) bool {
	res := false
	for _, r := range m.relayInfo().untrusted {
		if r.ipPrivate {
			continue
		}
		res = dotcomHelo.MatchString(r.helo) && r.noReverseDNS
	}
	return res
}

var (
	ezmlmList   = regexp.MustCompile(`(?m)^contact \S+@\S+; run by ezmlm$`)
	ezmlmDlto   = regexp.MustCompile(`(?m)^mailing list \S+@\S+`)
	qmailInvoke = regexp.MustCompile(`qmail \d+ invoked (?:from network|by .{3,20})\); \d+ ... \d+`)
)

func evalGatedRemover(m *msgState, _ []string) bool {
	if vals := m.headerValues("Mailing-List", nil); len(vals) > 0 && ezmlmList.MatchString(strings.Join(vals, "")) {
		if ezmlmDlto.MatchString(m.get("Delivered-To")) && qmailInvoke.MatchString(m.get("Received")) {
			return true
		}
	}
	if len(m.headerValues("Received", nil)) == 0 {
		return true
	}
	return strings.Contains(m.get("Received"), "from groups.msn.com (") && msnGroups.MatchString(m.get("Received"))
}

var (
	yahooFrom  = regexp.MustCompile(`(?i)\byahoo\.com$`)
	yahooOK    = regexp.MustCompile(`by web\S+\.mail\S*\.yahoo\.com via HTTP|by sonic\S+\.consmr\.mail\S*\.yahoo\.com with HTTP|by smtp\S+\.yahoo\.com with SMTP|from \[` + ipAddr + `\] by \S+\.(?:groups|scd|dcn)\.yahoo\.com with NNFMP|by \w+\.\w+\.yahoo\.com \(\d+\.\d+\.\d+/\d+\.\d+\.\d+\)(?: with ESMTP)? id \w+`)
	yahooBulk  = regexp.MustCompile(`\bmailer\d+\.bulk\.scd\.yahoo\.com\b`)
	yahooRDNS  = regexp.MustCompile(` rdns=\S+\.yahoo\.com `)
	yahooRDNS1 = regexp.MustCompile(`^[^\]]+ rdns=\S+\.yahoo\.com `)
)

func evalForgedYahoo(m *msgState, _ []string) bool {
	from := m.get("From:addr")
	if !yahooFrom.MatchString(from) {
		return false
	}
	rcvd := m.get("Received")
	if m.get("Resent-From") != "" && m.get("Resent-To") != "" {
		if x := m.get("X-Received"); x != "" {
			rcvd = x
		}
	}
	rcvd = squeezeSpace(rcvd)
	if evalGatedRemover(m, nil) {
		return false
	}
	if yahooRDNS.MatchString(m.relayString("trusted")) || yahooRDNS1.MatchString(m.relayString("untrusted")) {
		return false
	}
	if yahooOK.MatchString(rcvd) {
		return false
	}
	if yahooBulk.MatchString(rcvd) && strings.HasSuffix(strings.ToLower(from), "@reply.yahoo.com") {
		return false
	}
	return true
}

var (
	hotmailPickup = regexp.MustCompile(`from mail pickup service by hotmail\.com with Microsoft SMTPSVC;`)
	hotmailOKIP   = regexp.MustCompile(`from (?:\S*\.)?hotmail.com \(\S+\.hotmail(?:\.msn)?\.com[ )]|from \S*\.hotmail.com \(\[` + ipAddr + `\][ ):]|from \S+ by \S+\.hotmail(?:\.msn)?\.com with HTTP;|from \[66\.218.\S+\] by \S+\.yahoo\.com`)
	hotmailOKOrig = regexp.MustCompile(`from \S*\.outbound\.protection\.outlook\.com \(\S+\.outbound\.protection\.outlook\.com[ )]|from \S*\.(?:eur|nam)prd\d+\.prod\.outlook\.com \(` + ipAddr + `\)`)
	hotmailForged = regexp.MustCompile(`(?:from |HELO |helo=)\S*hotmail\.com\b`)
	hotmailFrom   = regexp.MustCompile(`(?i)\bhotmail\.com$`)
	anyIP         = regexp.MustCompile(ipAddr)
	msnGroups     = regexp.MustCompile(`from groups\.msn\.com \(\S+\.msn\.com `)
	hotmailOrig   = regexp.MustCompile(`hotmail\.com|msonline-outlook`)
)

// hotmailCheck is HeaderEval's _check_for_forged_hotmail_received_headers.
// Two rules ask; it runs once per message, as in SA.
func (m *msgState) hotmailCheck() (forged, noHotmail bool) {
	if v, ok := m.evalCache["hotmail"].([2]bool); ok {
		return v[0], v[1]
	}
	forged, noHotmail = m.hotmailCheckOnce()
	m.evalCache["hotmail"] = [2]bool{forged, noHotmail}
	return forged, noHotmail
}

func (m *msgState) hotmailCheckOnce() (forged, noHotmail bool) {
	rcvd := m.receivedSpaced()
	if hotmailPickup.MatchString(rcvd) || evalGatedRemover(m, nil) {
		return false, false
	}
	ip := anyIP.MatchString(m.get("X-Originating-Ip"))
	orig := hotmailOrig.MatchString(m.get("X-OriginatorOrg"))
	if ip && hotmailOKIP.MatchString(rcvd) || orig && hotmailOKOrig.MatchString(rcvd) {
		return false, false
	}
	// The regex starts with an alternation and \S*: it would try every
	// place of the header; its literal rules most headers out first.
	if strings.Contains(rcvd, "hotmail.com") && hotmailForged.MatchString(rcvd) {
		return true, false
	}
	return false, hotmailFrom.MatchString(m.get("From:addr"))
}

// receivedSpaced is every Received field with each run of white space made
// one space, as several of SA's header evals first do.
func (m *msgState) receivedSpaced() string {
	if v, ok := m.evalCache["rcvd_spaced"].(string); ok {
		return v
	}
	v := squeezeSpace(m.get("Received"))
	m.evalCache["rcvd_spaced"] = v
	return v
}

// squeezeSpace replaces each run of white space (RE2's \s: tab, newline,
// form feed, carriage return, space) with one space.
func squeezeSpace(s string) string {
	var b strings.Builder
	inRun := false
	for i := 0; i < len(s); i++ {
		switch c := s[i]; c {
		case '\t', '\n', '\f', '\r', ' ':
			if !inRun {
				if b.Len() == 0 && i > 0 {
					b.WriteString(s[:i]) // nothing to squeeze before this run
				}
				b.WriteByte(' ')
				inRun = true
			}
		default:
			if b.Len() > 0 || inRun {
				b.WriteByte(c)
			}
			inRun = false
		}
	}
	if b.Len() == 0 {
		return s
	}
	return b.String()
}
