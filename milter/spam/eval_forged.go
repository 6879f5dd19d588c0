package spam

import (
	"regexp"
	"strings"
)

// Forged-Received checks of SA's HeaderEval (webmail providers whose
// mail always carries their own Received lines) and RelayEval
// (check_for_forged_received_trail).

func init() {
	regEval("check_for_forged_eudoramail_received_headers", boolEval(evalForgedEudoramail))
	regEval("check_for_forged_juno_received_headers", boolEval(evalForgedJuno))
	regEval("check_for_forged_gmail_received_headers", boolEval(evalForgedGmail))
	regEval("check_for_forged_received_trail", boolEval(func(m *msgState, _ []string) bool {
		return m.forgedTrailMismatches() > 1
	}))
}

var (
	eudoraFrom  = regexp.MustCompile(`(?i)\beudoramail\.com$`)
	eudoraBy    = regexp.MustCompile(`by \S*whowhere.com;`)
	anyIPAddr   = regexp.MustCompile(ipAddr)
	junoFrom    = regexp.MustCompile(`(?i)\bjuno\.com$`)
	junoRcvd    = regexp.MustCompile(`from.*\b(?:juno|untd)\.com.*[\[(]` + ipAddr + `[\])].*by`)
	junoCookie  = regexp.MustCompile(` cookie\.(?:juno|untd)\.com `)
	gmailFrom   = regexp.MustCompile(`(?i)\bgmail\.com$`)
	gmailXRcvd  = regexp.MustCompile(`by 10\.\S+ with SMTP id \S+|by 2002:a\d\d:\w+:\S+ with SMTP id \S+`)
	gmailSMTPSA = regexp.MustCompile(`by smtp\.googlemail\.com with ESMTPSA id \S+`)
)

// evalForgedEudoramail: Eudora's webmail always relayed through
// whowhere.com and named the sender's address in X-Sender-Ip.
func evalForgedEudoramail(m *msgState, _ []string) bool {
	if !eudoraFrom.MatchString(m.get("From:addr")) {
		return false
	}
	if evalGatedRemover(m, nil) {
		return false
	}
	rcvd := m.receivedSpaced()
	return !(eudoraBy.MatchString(rcvd) && anyIPAddr.MatchString(m.get("X-Sender-Ip")))
}

// evalForgedJuno follows HeaderEval: old Juno mail has X-Originating-IP,
// a juno/untd Received line and a "Juno " X-Mailer. Without
// X-Originating-IP, SA's final test (that header holding an address) can
// never pass, so every such message counts as forged there; kept as is.
func evalForgedJuno(m *msgState, _ []string) bool {
	if !junoFrom.MatchString(m.get("From:addr")) || evalGatedRemover(m, nil) {
		return false
	}
	if m.get("X-Originating-IP") == "" {
		return true
	}
	rcvd := m.get("Received")
	if !junoRcvd.MatchString(rcvd) && !junoCookie.MatchString(rcvd) {
		return true
	}
	return !strings.Contains(m.get("X-Mailer"), "Juno ")
}

// gmailHeaderMin is the length below which Google's X-Gm-Message-State
// and X-Google-Smtp-Source values look made up (HeaderEval's constants).
const gmailHeaderMin = 60

func evalForgedGmail(m *msgState, _ []string) bool {
	if !gmailFrom.MatchString(m.get("From:addr")) {
		return false
	}
	if gmailXRcvd.MatchString(m.get("X-Received")) || gmailSMTPSA.MatchString(m.get("Received")) {
		return false
	}
	return len(m.get("X-Gm-Message-State")) < gmailHeaderMin || len(m.get("X-Google-Smtp-Source")) < gmailHeaderMin
}

var (
	trailHost  = regexp.MustCompile(`^\w+(?:[\w.-]+\.)+\w+$`)
	localhostR = regexp.MustCompile(`^localhost(?:\.localdomain)?$`)
	hasLetter  = regexp.MustCompile(`[a-zA-Z]`)
	trailTLD   = regexp.MustCompile(`(?:\S{3,}|ie|fr|de)`)
)

// forgedTrailMismatches counts the untrusted hops whose "by" domain is
// not the domain the next hop's reverse DNS names (RelayEval's
// mismatch_from): a forged Received line breaks the chain of names.
func (m *msgState) forgedTrailMismatches() int {
	if v, ok := m.evalCache["forged_trail"].(int); ok {
		return v
	}
	rel := m.relayInfo().untrusted
	from := make([]string, len(rel))
	known := make([]bool, len(rel))
	for i, r := range rel {
		from[i], known[i] = hostToDomain(strings.ToLower(r.rdns)), true
	}
	n := 0
	for i, r := range rel {
		by := hostToDomain(strings.ToLower(r.by))
		if !trailHost.MatchString(by) {
			continue
		}
		// Mail bouncing around one machine through localhost is fine.
		if localhostR.MatchString(from[i]) && r.ip == "127.0.0.1" {
			known[i] = false
		}
		if i == 0 || !known[i-1] {
			continue
		}
		prev := from[i-1]
		if trailHost.MatchString(prev) && by != prev && !(by == "msn.com" && prev == "hotmail.com") {
			n++
		}
	}
	m.evalCache["forged_trail"] = n
	return n
}

// hostToDomain is RelayEval's hostname_to_domain: IP addresses stay as
// they are, otherwise the last two labels when the last one looks like
// a TLD (three or more characters, or ie/fr/de anywhere in it), else the
// last three.
func hostToDomain(h string) string {
	if !hasLetter.MatchString(h) {
		return h
	}
	parts := strings.Split(h, ".")
	for len(parts) > 0 && parts[len(parts)-1] == "" {
		parts = parts[:len(parts)-1] // Perl's split drops trailing empty fields
	}
	n := len(parts)
	switch {
	case n > 1 && trailTLD.MatchString(parts[n-1]):
		return parts[n-2] + "." + parts[n-1]
	case n > 2:
		return strings.Join(parts[n-3:], ".")
	}
	return h
}
