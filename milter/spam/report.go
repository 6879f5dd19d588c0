package spam

import (
	"regexp"
	"strconv"
	"strings"
	"unicode/utf8"
)

// SA's spam report: the report template (report, clear_report_template,
// report_contact; Debian's 10_default_prefs.cf sets the usual one), the
// _SUMMARY_, _REPORT_ and _PREVIEW_ tags, and the X-Spam-Report header of
// report_safe 0. Encapsulation (report_safe 1 and 2) is in report_safe.go.

// reportConf holds the report settings of the configuration.
type reportConf struct {
	template, unsafeTemplate string // one "\n"-terminated line per directive
	contact                  string
	contactSet               bool
	charset                  string
	copyHeaders              []string // report_safe_copy_headers
	wrapWidth                int      // report_wrap_width; 0 = SA's 75
}

// reportSetting handles the report directives; false means not one.
func (p *confParser) reportSetting(key, val string) bool {
	rc := &p.c.report
	switch key {
	case "report":
		rc.template += unquoteTemplate(val) + "\n"
	case "clear_report_template":
		rc.template = ""
	case "unsafe_report":
		rc.unsafeTemplate += unquoteTemplate(val) + "\n"
	case "clear_unsafe_report_template":
		rc.unsafeTemplate = ""
	case "report_contact":
		rc.contact, rc.contactSet = val, true
	case "report_charset":
		rc.charset = val
	case "report_safe_copy_headers":
		rc.copyHeaders = append(rc.copyHeaders, strings.Fields(val)...)
	case "report_wrap_width":
		n, err := strconv.Atoi(val)
		if err != nil || n < 0 {
			p.warnf("report_wrap_width: bad value %q", val)
			break
		}
		rc.wrapWidth = n
	default:
		return false
	}
	return true
}

// reportSafe is SA's report_safe: 0, 1 or 2. Setting 0 also adds the
// X-Spam-Report header to spam, unless a Report header is configured.
func (p *confParser) reportSafe(val string) {
	v, err := strconv.Atoi(val)
	if err != nil || v < 0 || v > 2 {
		p.warnf("report_safe: want 0, 1 or 2, not %q", val)
		return
	}
	c := p.c
	c.ReportSafe = v
	if v != 0 {
		return
	}
	for _, h := range c.SpamHeaders {
		if strings.EqualFold(h.Name, "Report") {
			return
		}
	}
	c.SpamHeaders = append(c.SpamHeaders, AddHeader{Name: "Report", Template: "_REPORT_"})
}

// unquoteTemplate drops the double quotes around a template line, which
// keep its leading spaces.
func unquoteTemplate(s string) string {
	if len(s) >= 2 && s[0] == '"' && s[len(s)-1] == '"' {
		return s[1 : len(s)-1]
	}
	return s
}

func (rc *reportConf) contactAddress() string {
	if !rc.contactSet {
		return "the administrator of that system"
	}
	return rc.contact
}

func (rc *reportConf) reportCharset() string {
	if rc.charset == "" {
		return "UTF-8"
	}
	return rc.charset
}

func (rc *reportConf) width() int {
	if rc.wrapWidth == 0 {
		return 75
	}
	return rc.wrapWidth
}

// reportState computes the report tags and text on first use: most
// messages need neither (ham, and spam under report_safe 0 without
// X-Spam-Report), and they cost about 1% of a check.
type reportState struct {
	e      *Engine
	body   []string // rendered body lines, Subject first (Latin-1)
	tags   map[string]string
	report string
	done   bool
}

// fillReport prepares the report for res; with report_safe 1 or 2, spam
// gets its encapsulation (which needs the report) at once.
func (e *Engine) fillReport(m *msgState, res *Result) {
	m.render()
	res.rep = &reportState{e: e, body: m.bodyLines, tags: map[string]string{}}
	if res.IsSpam && e.conf.ReportSafe > 0 {
		e.prepareWrap(m, res)
	}
}

// reportTag returns the value of a report tag (CONTACTADDRESS, PREVIEW,
// SUMMARY, REPORT), computing it on first use.
func (r *Result) reportTag(name string) (string, bool) {
	rs := r.rep
	if rs == nil {
		return "", false
	}
	if v, ok := rs.tags[name]; ok {
		return v, true
	}
	var v string
	switch name {
	case "CONTACTADDRESS":
		v = rs.e.conf.report.contactAddress()
	case "PREVIEW":
		v = fromLatin1(contentPreview(rs.body))
	case "SUMMARY":
		v = rs.e.hitList(r, false)
	case "REPORT":
		v = "\n" + rs.e.hitList(r, true)
	default:
		return "", false
	}
	rs.tags[name] = v
	return v, true
}

// Report is SA's report text: the report template (report,
// clear_report_template) with its tags expanded, as spamd's REPORT
// returns it and report_safe attaches it. A Result is not safe for
// concurrent use while its report is first computed.
func (r *Result) Report() string {
	rs := r.rep
	if rs == nil {
		return ""
	}
	if !rs.done {
		tpl := rs.e.conf.report.template
		if tpl == "" {
			tpl = "(no report template found)"
		}
		rs.report = strings.TrimRight(rs.e.expandTags(tpl, r), "\n") + "\n\n"
		rs.done = true
	}
	return rs.report
}

// hitList is SA's SUMMARY (the report body's table) or, with report set,
// REPORT (the X-Spam-Report header's "*"-prefixed lines): one entry per
// rule hit with its score, its area (BODY:, RAW:, URI:, FULL:) and its
// description wrapped to report_wrap_width. Rules are listed in name
// order; SA lists them in the order they ran.
func (e *Engine) hitList(res *Result, report bool) string {
	var b strings.Builder
	w := e.conf.report.width()
	for _, name := range res.Rules {
		r := e.conf.Rules[name]
		score := res.Scores[name]
		s := strconv.FormatFloat(score, 'f', 1, 64)
		if score >= 10 || score <= -10 {
			s = strconv.FormatFloat(score, 'f', 0, 64)
		}
		s = strings.Repeat(" ", max(0, 4-len(s))) + s
		area, desc := ruleArea(r), "No description available."
		if r != nil && r.Describe != "" {
			desc = r.Describe
		}
		if report {
			b.WriteString("* " + s + " " + name + " " + area +
				wrapDesc(desc, 4+len(name)+len(s)+len(area), "*      ", w) + "\n")
			continue
		}
		b.WriteString(s + " " + name + strings.Repeat(" ", max(0, 22-len(name))) + " " + area +
			wrapDesc(desc, 3+len(name)+len(s)+len(area), strings.Repeat(" ", 28), w) + "\n")
	}
	return b.String()
}

// ruleArea is the prefix SA writes before a rule's description.
func ruleArea(r *Rule) string {
	if r == nil {
		return ""
	}
	switch r.Kind {
	case KindBody:
		return "BODY: "
	case KindRawbody:
		return "RAW: "
	case KindURI:
		return "URI: "
	case KindFull:
		if r.Eval == nil {
			return "FULL: "
		}
	}
	return ""
}

// wrapDesc wraps a description whose first line starts after firstLen
// columns; continuation lines start with prefix.
func wrapDesc(desc string, firstLen int, prefix string, width int) string {
	return strings.TrimLeft(saWrap(desc, prefix, strings.Repeat(" ", firstLen), width, false), " \t\n\r\f\v")
}

// saWrap is SA's Util::wrap with whitespace as the break: s is cut into
// words and single whitespace characters, first is put in front, and
// pieces are joined while a line stays within length columns (tabs count
// eight); with overflow, the piece that crosses the limit still joins.
// Continuation lines start with prefix.
func saWrap(s, prefix, first string, length int, overflow bool) string {
	var toks []string
	start := 0
	for i, r := range s {
		if isPerlSpace(r) {
			toks = append(toks, s[start:i], string(r))
			start = i + utf8.RuneLen(r)
		}
	}
	toks = append(toks, s[start:])
	for len(toks) > 0 && toks[len(toks)-1] == "" {
		toks = toks[:len(toks)-1] // Perl's split drops trailing empty fields
	}
	if first != "" {
		toks = append([]string{first}, toks...)
	}
	if len(toks) == 0 {
		return ""
	}
	cols := func(x string) int { return utf8.RuneCountInString(x) + 7*strings.Count(x, "\t") }
	// SA loops forever when the prefix alone is over the limit; here a
	// line then takes at least one word.
	longPrefix := cols(prefix) > length
	var out strings.Builder
	cur := []byte(toks[0])
	w, joined, fresh := cols(toks[0]), false, false
	for i := 1; i < len(toks); {
		t := toks[i]
		n := w
		if joined && !overflow {
			n += cols(t)
		}
		if n <= length || fresh && longPrefix {
			fresh = fresh && strings.TrimFunc(t, isPerlSpace) == ""
			cur = append(cur, t...)
			w += cols(t)
			joined = true
			i++
			continue
		}
		out.WriteString(strings.TrimRightFunc(string(cur), isPerlSpace))
		out.WriteByte('\n')
		cur = append(cur[:0], prefix...)
		w, joined, fresh = cols(prefix), false, true
	}
	out.Write(cur)
	return out.String()
}

// isPerlSpace is Perl's \s on byte strings.
func isPerlSpace(r rune) bool {
	return r == ' ' || r == '\t' || r == '\n' || r == '\r' || r == '\f' || r == '\v'
}

var (
	previewOrig   = regexp.MustCompile(`(?m)-----Original Message-----[^\n]*$`)
	previewRules  = regexp.MustCompile(`[-_*.]{10,}`)
	previewSpaces = regexp.MustCompile(`[ \t\n\r\f\v]+`)
)

// contentPreview is SA's _PREVIEW_: up to three rendered body lines (not
// the Subject line that starts body) while under 200 characters, tidied and wrapped for the
// report's "Content preview:" line. The text stays Latin-1 coded, one
// rune per byte of the message.
func contentPreview(body []string) string {
	var lines []string
	if len(body) > 1 {
		lines = body[1:]
	}
	var b strings.Builder
	for i := 0; i < len(lines) && i < 3 && utf8.RuneCountInString(b.String()) < 200; i++ {
		b.WriteString(lines[i])
	}
	s := strings.TrimSuffix(cutLongLines(b.String(), 200), "\n") + "\n"
	s = previewOrig.ReplaceAllString(s, "")
	s = strings.ReplaceAll(s, "This is a multi-part message in MIME format.", "")
	s = previewRules.ReplaceAllString(s, "")
	s = previewSpaces.ReplaceAllString(s, " ")
	s = saWrap(s, "  ", "Content preview:  ", 75, true)
	return strings.TrimLeftFunc(strings.TrimPrefix(s, "Content preview:"), isPerlSpace)
}

// cutLongLines ends each line longer than n characters after the n-th
// with " [...]".
func cutLongLines(s string, n int) string {
	lines := strings.SplitAfter(s, "\n")
	for i, l := range lines {
		body := strings.TrimSuffix(l, "\n")
		if utf8.RuneCountInString(body) <= n {
			continue
		}
		cut, k := 0, 0
		for j := range body {
			if k == n {
				cut = j
				break
			}
			k++
		}
		lines[i] = body[:cut] + " [...]" + l[len(body):]
	}
	return strings.Join(lines, "")
}

// fromLatin1 turns text coded one rune per byte back into those bytes.
func fromLatin1(s string) string {
	ascii := true
	for i := 0; i < len(s); i++ {
		if s[i] >= 0x80 {
			ascii = false
			break
		}
	}
	if ascii {
		return s
	}
	b := make([]byte, 0, len(s))
	for _, r := range s {
		if r > 0xff {
			r = '?'
		}
		b = append(b, byte(r))
	}
	return string(b)
}
