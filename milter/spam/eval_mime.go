package spam

import (
	"bytes"
	"regexp"
	"strconv"
	"strings"
)

// MIME eval functions (SA's MIMEEval plugin).

// mimeStats is what MIMEEval::_check_attachments computes.
type mimeStats struct {
	vals           map[string]float64 // mime_* flags by SA's key
	htmlCount      int
	textCount      int
	asciiIllegal   int
	multipartRatio float64
}

func init() {
	regEval("check_for_mime", func(m *msgState, args []string) float64 {
		if len(args) == 0 {
			return 0
		}
		return b2f(m.mimeStats().vals[args[len(args)-1]] != 0)
	})
	regEval("check_for_mime_html", boolEval(func(m *msgState, _ []string) bool {
		return strings.HasPrefix(strings.ToLower(m.get("Content-Type")), "text/html") || m.mimeStats().htmlCount > 0
	}))
	regEval("check_for_mime_html_only", boolEval(func(m *msgState, _ []string) bool {
		if strings.HasPrefix(strings.ToLower(m.get("Content-Type")), "text/html") {
			return true
		}
		s := m.mimeStats()
		return s.htmlCount > 0 && s.textCount == 0
	}))
	regEval("check_for_ascii_text_illegal", boolEval(func(m *msgState, _ []string) bool {
		return m.mimeStats().asciiIllegal > 0
	}))
	regEval("check_mime_multipart_ratio", boolEval(func(m *msgState, args []string) bool {
		if len(args) < 2 {
			return false
		}
		r := m.mimeStats().multipartRatio
		return r >= atof(args[0]) && r < atof(args[1])
	}))
	regEval("check_msg_parse_flags", boolEval(func(m *msgState, args []string) bool {
		if len(args) == 0 {
			return false
		}
		f := m.flags
		switch args[len(args)-1] {
		case "mime_epilogue_exists":
			return f.epilogue
		case "missing_mime_headers":
			return f.missingMIMEHdrs
		case "missing_head_body_separator":
			return f.missingHBSep
		case "truncated_header":
			return f.truncatedHeader
		case "missing_mime_head_body_separator":
			return f.missingMIMEHBSep
		}
		return false
	}))
	regEval("check_base64_length", boolEval(evalBase64Length))
	regEval("check_abundant_unicode_ratio", boolEval(func(m *msgState, args []string) bool {
		if len(args) == 0 || !unicodeRatioArg.MatchString(lastArg(args)) {
			return false
		}
		v, ok := m.mimeStats().vals["mime_text_unicode_ratio"]
		return ok && v >= atof(lastArg(args))
	}))
	regEval("check_uri_truncated", boolEval(func(m *msgState, _ []string) bool {
		return m.anyHTML(func(h *htmlResult) bool { return h.uriTruncated })
	}))
}

var (
	qpEncoded       = regexp.MustCompile(`=(?:09|3[0-9ABCEF]|[2456][0-9A-F]|7[0-9A-E])`)
	qpTrailing      = regexp.MustCompile(`((?:=09|=20)+)\s*$`)
	illegalText     = regexp.MustCompile(`[\x00\x0d\x80-\xff]`)
	asciiCharset    = regexp.MustCompile(`(?:us-ascii|ansi_x3\.4-1968|iso-ir-6|ansi_x3\.4-1986|iso_646\.irv:1991|ascii|iso646-us|us|ibm367|cp367|csascii)`)
	unicodeRatioArg = regexp.MustCompile(`^\d{0,3}\.\d{1,3}$`)
	unicodeEntity   = regexp.MustCompile(`&#x[0-9A-F]{4};`)
	badISO          = regexp.MustCompile(`(?i)iso-\S+-\S+\b`)
	okISO           = regexp.MustCompile(`(?i)iso-(?:8859-\d{1,2}|2022-(?:jp|kr))\b`)
)

func (m *msgState) mimeStats() *mimeStats {
	if m.mime != nil {
		return m.mime
	}
	s := &mimeStats{vals: map[string]float64{}, multipartRatio: 1}
	m.mime = s
	var qpBytes, qpCount, normal, unicode float64
	alt := false
	var partType []string
	var partBytes []int
	var hasBytes []bool
	for _, p := range m.root.all(nil) {
		charset := strings.ToLower(p.charset)
		if p.ctype == "multipart/alternative" {
			alt = true
			s.vals["mime_multipart_alternative"] = 1
		}
		s.checkHeader(p, charset)
		if len(p.children) > 0 {
			continue
		}
		partType = append(partType, p.ctype)
		partBytes = append(partBytes, 0)
		hasBytes = append(hasBytes, !strings.Contains(p.cd, "attachment"))
		idx := len(partBytes) - 1
		for _, ln := range bytes.SplitAfter(p.body, []byte("\n")) {
			if len(ln) == 0 {
				continue
			}
			if alt && !strings.Contains(p.cd, "attachment") && (p.ctype == "text/plain" || p.ctype == "text/html") {
				partBytes[idx] += len(ln)
			}
			if p.cte == "quoted-printable" && !bytes.HasPrefix(ln, []byte("SPAM: ")) {
				if len(ln) > 79 {
					s.vals["mime_qp_long_line"] = 1
				}
				qpBytes += float64(len(ln))
				if n := len(qpEncoded.FindAll(ln, -1)); n > 0 {
					qpCount += float64(n)
					if t := qpTrailing.FindSubmatch(ln); t != nil {
						qpCount -= float64(len(t[1]) / 3)
					}
				}
			}
			if p.ctype == "text/plain" && (p.charset == "" || charset == "us-ascii") && hasIllegalByte(ln) {
				s.asciiIllegal++
			}
			if p.ctype == "text/plain" && (p.cte == "" || p.cte == "7bit" || p.cte == "8bit") {
				n := len(unicodeEntity.FindAll(ln, -1))
				unicode += float64(n)
				normal += float64(len(ln) - 8*n)
			}
		}
	}
	if qpBytes > 0 {
		s.vals["mime_qp_ratio"] = qpCount / qpBytes
		s.vals["mime_qp_count"] = qpCount
	}
	if normal > 0 {
		s.vals["mime_text_unicode_ratio"] = unicode / normal
	}
	if alt {
		s.multipartRatio = altRatio(partType, partBytes, hasBytes)
	}
	if m.flags.missingBoundary {
		s.vals["mime_missing_boundary"] = 1
	}
	return s
}

func altRatio(types []string, n []int, ok []bool) float64 {
	text, html := -1, -1
	for i := len(types) - 1; i >= 0; i-- {
		if !ok[i] {
			continue
		}
		if html < 0 && types[i] == "text/html" {
			html = n[i]
		} else if text < 0 && types[i] == "text/plain" {
			text = n[i]
		}
		if html >= 0 && text >= 0 {
			break
		}
	}
	if text >= 0 && html > 0 {
		return float64(text) / float64(html)
	}
	return 1
}

func (s *mimeStats) checkHeader(p *part, charset string) {
	ctype := p.ctype
	if _, ok := p.first("Content-Type"); !ok && p.ctype == "text/plain" {
		ctype = "text/plain"
	}
	switch {
	case ctype == "text/html":
		s.htmlCount++
	case strings.HasPrefix(ctype, "text"):
		s.textCount++
	}
	if strings.Contains(p.cte, "base64") {
		s.vals["mime_base64_count"]++
	} else if strings.Contains(p.cte, "quoted-printable") {
		s.vals["mime_qp_count"]++
	}
	if strings.Contains(p.cd, "attachment") {
		s.vals["mime_attachment"]++
	}
	if strings.HasPrefix(ctype, "text") && strings.Contains(p.cte, "base64") &&
		(charset == "" || asciiCharset.MatchString(charset)) &&
		!(strings.HasPrefix(p.cd, "attachment") || strings.HasPrefix(p.cd, "inline")) {
		s.vals["mime_base64_encoded_text"] = 1
	}
	if badISO.MatchString(charset) && !okISO.MatchString(charset) {
		s.vals["mime_bad_iso_charset"] = 1
	}
}

func evalBase64Length(m *msgState, args []string) bool {
	if len(args) == 0 {
		return false
	}
	lo, hi := atof(args[0]), -1.0
	if len(args) > 1 {
		hi = atof(args[1])
	}
	for _, p := range m.root.leaves(nil) {
		if !strings.Contains(p.cte, "base64") {
			continue
		}
		for _, ln := range bytes.Split(p.body, []byte("\n")) {
			l := float64(len(ln))
			if l > lo && (hi < 0 || l < hi) {
				return true
			}
		}
	}
	return false
}

func atof(s string) float64 {
	v, err := strconv.ParseFloat(strings.TrimSpace(s), 64)
	if err != nil {
		return 0
	}
	return v
}

// hasIllegalByte reports NUL, CR or 8-bit bytes (checked bytewise: a Go
// regexp would see invalid UTF-8 as U+FFFD).
func hasIllegalByte(b []byte) bool {
	for _, c := range b {
		if c == 0 || c == '\r' || c >= 0x80 {
			return true
		}
	}
	return false
}
