package spam

import (
	"regexp"
	"sort"
	"strings"
)

// Smaller HeaderEval checks.

func init() {
	regEval("check_for_matching_env_and_hdr_from", boolEval(func(m *msgState, _ []string) bool {
		env := ""
		if a := parseAddresses(m.envelopeFrom()); len(a) > 0 {
			env = a[0].addr
		}
		return strings.EqualFold(env, m.get("From:addr"))
	}))
	regEval("check_unresolved_template", boolEval(func(m *msgState, _ []string) bool {
		for _, h := range m.hdrs {
			line := h.name + ": " + h.dec
			if unresolvedTpl.MatchString(line) && !templateOKHdr.MatchString(line) {
				return true
			}
		}
		return false
	}))
	regEval("check_ratware_name_id", boolEval(func(m *msgState, _ []string) bool {
		mm := ratwareMID.FindStringSubmatch(latin1s(m.get("MESSAGEID")))
		if mm == nil {
			return false
		}
		re, err := regexp.Compile(`"[^"]+"\s*<` + regexp.QuoteMeta(mm[1]) + `>`)
		return err == nil && re.MatchString(latin1s(m.get("From")))
	}))
	regEval("check_ratware_envelope_from", boolEval(evalRatwareEnvFrom))
	regEval("check_for_fake_aol_relay_in_rcvd", boolEval(func(m *msgState, _ []string) bool {
		r := m.receivedSpaced()
		return aolRelay.MatchString(r) && !aolOK.MatchString(r)
	}))
	regEval("sorted_recipients", boolEval(func(m *msgState, _ []string) bool {
		sorted, _ := m.recipientStats()
		return sorted
	}))
	regEval("similar_recipients", boolEval(func(m *msgState, args []string) bool {
		if len(args) < 2 {
			return false
		}
		_, sim := m.recipientStats()
		return (args[0] == "undef" || sim >= atof(args[0])) && (args[1] == "undef" || sim < atof(args[1]))
	}))
	regEval("check_from_in_list", boolEval(func(m *msgState, args []string) bool {
		return len(args) > 0 && m.fromMatches(m.e.conf.addrLists[args[0]])
	}))
	regEval("check_replyto_in_list", boolEval(func(m *msgState, args []string) bool {
		r := m.get("Reply-To:addr")
		return len(args) > 0 && r != "" && matchGlobs(m.e.conf.addrLists[args[0]], r)
	}))
	regEval("check_from_in_default_welcomelist", boolEval(func(m *msgState, _ []string) bool {
		return m.fromMatches(m.e.conf.addrLists["def_welcomelist_from"])
	}))
	regEval("check_from_in_default_whitelist", evalFuncs["check_from_in_default_welcomelist"])
	for _, l := range []string{"welcomelist_to", "blocklist_to", "more_spam_to", "all_spam_to"} {
		regEval("check_to_in_"+strings.TrimSuffix(strings.TrimSuffix(l, "_to"), "list")+suffixFor(l), toInList(l))
	}
	regEval("check_to_in_whitelist", evalFuncs["check_to_in_welcomelist"])
	regEval("check_to_in_blacklist", evalFuncs["check_to_in_blocklist"])
	regEval("check_subject_in_welcomelist", subjectInList("welcomelist_subject"))
	regEval("check_subject_in_whitelist", evalFuncs["check_subject_in_welcomelist"])
	regEval("check_subject_in_blocklist", subjectInList("blocklist_subject"))
	regEval("check_subject_in_blacklist", evalFuncs["check_subject_in_blocklist"])
	// ok_locales defaults to "all", under which no charset is "faraway".
	for _, f := range []string{"check_for_faraway_charset", "check_for_faraway_charset_in_headers", "html_charset_faraway"} {
		regEval(f, func(*msgState, []string) float64 { return 0 })
	}
}

var (
	unresolvedTpl = regexp.MustCompile(`%[A-Z][A-Z_-]`)
	templateOKHdr = regexp.MustCompile(`(?i)^(?:X-VMS-To|X-UIDL|X-Face|To|Cc|From|Subject|References|In-Reply-To|(?:X-|Resent-|X-Original-)?Message-Id):`)
	ratwareMID    = regexp.MustCompile(`<[A-Z]{28}\.([^>]+?)>`)
	aolRelay      = regexp.MustCompile(`(?i) rly-[a-z][a-z]\d\d\.`)
	aolOK         = regexp.MustCompile(`/AOL-\d+\.\d+\.\d+\)|ESMTP id (?:RELAY|MAILRELAY|MAILIN)`)
	srsPrefix     = regexp.MustCompile(`(?i)^SRS\d[=+-]`)
)

func evalRatwareEnvFrom(m *msgState, _ []string) bool {
	to := m.get("To:addr")
	from := ""
	if a := parseAddresses(m.envelopeFrom()); len(a) > 0 {
		from = a[0].addr
	}
	if from == "" || to == "" || srsPrefix.MatchString(from) {
		return false
	}
	at := strings.LastIndexByte(to, '@')
	if at <= 0 {
		return false
	}
	user, dom := to[:at], m.e.registrable(to[at+1:])
	if !strings.Contains(dom, ".") {
		return false
	}
	re, err := regexp.Compile(`(?i)\b` + regexp.QuoteMeta(latin1s(dom)) + `.` + regexp.QuoteMeta(latin1s(user)) + `@`)
	return err == nil && re.MatchString(latin1s(from))
}

// recipientStats is HeaderEval's _check_recipients.
func (m *msgState) recipientStats() (sorted bool, similar float64) {
	inputs := m.headerValues("ToCc", []string{"addr"})
	if len(inputs) < 5 {
		inputs = append(inputs, m.headerValues("Bcc", []string{"addr"})...)
	}
	var addrs []string
	prev := ""
	for _, a := range inputs {
		if a == "" {
			break // SA's while loop stops at an empty address
		}
		if !strings.EqualFold(a, prev) {
			addrs = append(addrs, a)
			prev = a
		}
		if len(addrs) == 256 {
			break
		}
	}
	if len(addrs) >= 7 {
		s := append([]string(nil), addrs...)
		sort.Strings(s)
		sorted = strings.Join(s, ",") == strings.Join(addrs, ",")
	}
	if len(addrs) < 5 {
		return sorted, 0
	}
	prefix := func(s string) string { return s[:min(2, len(s))] }
	hits, combos := 0, 0
	for i := range addrs {
		for j := i + 1; j < len(addrs); j++ {
			hi, hj := hostOf(addrs[i]), hostOf(addrs[j])
			if prefix(addrs[i]) == prefix(addrs[j]) {
				hits++
			}
			if prefix(hi) == prefix(hj) && hi != hj {
				hits++
			}
			combos++
		}
	}
	return sorted, float64(hits) / float64(combos)
}

func hostOf(a string) string {
	if i := strings.IndexByte(a, '@'); i >= 0 {
		return a[i+1:]
	}
	return ""
}

// suffixFor maps list names to SA's eval names: welcomelist_to ->
// check_to_in_welcomelist, more_spam_to -> check_to_in_more_spam.
func suffixFor(l string) string {
	if strings.HasSuffix(l, "list_to") {
		return "list"
	}
	return ""
}

// toInList checks every To/Cc/Bcc-style recipient header address.
func toInList(list string) evalFunc {
	return boolEval(func(m *msgState, _ []string) bool {
		globs := m.e.conf.addrLists[list]
		if len(globs) == 0 {
			return false
		}
		for _, h := range []string{"To", "Cc", "Bcc", "Apparently-To", "Delivered-To", "Envelope-Recipients", "Apparently-Resent-To", "X-Envelope-To", "Envelope-To", "X-Delivered-To", "X-Original-To", "X-Rcpt-To", "X-Real-To"} {
			for _, a := range m.headerValues(h, []string{"addr"}) {
				if matchGlobs(globs, a) {
					return true
				}
			}
		}
		return false
	})
}

func subjectInList(list string) evalFunc {
	return boolEval(func(m *msgState, _ []string) bool {
		globs := m.e.conf.addrLists[list]
		subj, _ := m.lastHeader("Subject")
		return len(globs) > 0 && matchGlobs(globs, strings.TrimSpace(subj))
	})
}
