package spam

import (
	"regexp"
	"strings"
	"unicode/utf8"
)

// Body and character eval functions (SA's BodyEval, HeaderEval, MIMEEval).

func init() {
	regEval("check_illegal_chars", boolEval(evalIllegalChars))
	regEval("check_for_uppercase", boolEval(evalUppercase))
	regEval("tvd_vertical_words", boolEval(evalVerticalWords))
	regEval("check_body_length", boolEval(func(m *msgState, args []string) bool {
		_, body := splitHeaderBody(m.full)
		return len(args) > 0 && float64(len(body)) <= atof(lastArg(args))
	}))
	regEval("multipart_alternative_difference", boolEval(func(m *msgState, args []string) bool {
		if len(args) < 2 {
			return false
		}
		d, _, _ := m.madiff()
		lo := atof(args[0])
		return (lo == 0 || d > lo) && (args[1] == "undef" || d <= atof(args[1]))
	}))
	regEval("multipart_alternative_difference_count", boolEval(func(m *msgState, args []string) bool {
		if len(args) < 2 {
			return false
		}
		_, html, text := m.madiff()
		return html > atof(args[1]) && text/html > atof(args[0])
	}))
}

func evalIllegalChars(m *msgState, args []string) bool {
	if len(args) < 3 {
		return false
	}
	h := strings.TrimSuffix(args[0], ":raw")
	str := m.get(h + ":raw")
	if strings.TrimSpace(str) == "" {
		return false
	}
	if !isASCII(str) && utf8.ValidString(str) && !strings.ContainsFunc(str, func(r rune) bool {
		return r <= 0x08 || r == 0x0b || r == 0x0c || r >= 0x0e && r <= 0x1f
	}) {
		return false
	}
	illegal, exempt := 0, 0
	for i := 0; i < len(str); i++ {
		c := str[i]
		if c <= 0x08 || c == 0x0b || c == 0x0c || c >= 0x0e && c <= 0x1f || c >= 0x7f {
			illegal++
		}
		if c == 0xa2 || c == 0xa3 || c == 0xae {
			exempt++
		}
	}
	if illegal > 0 && strings.EqualFold(h, "subject") && exempt == 1 {
		illegal--
	}
	return float64(illegal)/float64(len(str)) >= atof(args[1]) && float64(illegal) >= atof(args[2])
}

func isASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= 0x80 {
			return false
		}
	}
	return true
}

var (
	wordGap   = regexp.MustCompile(`\S\s+\S`)
	b64Lines  = regexp.MustCompile(`^(?:[A-Za-z0-9+/=]{60,76} ){2}`)
	jisEscape = regexp.MustCompile(`(?s)\x1b\$B.*\x1b\(B`)
)

func evalUppercase(m *msgState, args []string) bool {
	if len(args) < 2 {
		return false
	}
	v, ok := m.evalCache["uppercase"].(float64)
	if !ok {
		v = m.uppercasePct()
		m.evalCache["uppercase"] = v
	}
	return v > atof(args[0]) && v <= atof(args[1])
}

func (m *msgState) uppercasePct() float64 {
	m.render()
	length, lower, upper := 0, 0, 0
	for _, ln := range m.bodyLines {
		if !wordGap.MatchString(ln) || b64Lines.MatchString(ln) {
			continue
		}
		ln = jisEscape.ReplaceAllString(ln, "")
		length += len(ln) // SA counts before deleting a-z0-9
		for i := 0; i < len(ln); i++ {
			switch c := ln[i]; {
			case c >= 'a' && c <= 'z' || c >= '0' && c <= '9':
				lower++
			case c >= 'A' && c <= 'Z':
				upper++
			}
		}
	}
	if length < 200 || upper+lower == 0 {
		return 0
	}
	return float64(upper) / float64(upper+lower) * 100
}

func evalVerticalWords(m *msgState, args []string) bool {
	if len(args) < 2 {
		return false
	}
	lo, hi := atof(args[0]), atof(args[1])
	if hi >= 100 {
		hi = 101
	}
	m.render()
	best := -1
	for _, ln := range m.bodyLines {
		l := utf8.RuneCountInString(ln)
		if l <= 5 {
			continue
		}
		spaces := strings.Count(ln, " ")
		non := l - spaces
		pct := 100
		if !(spaces > non || non == 0) {
			pct = 100 * spaces / non
		}
		best = max(best, pct)
	}
	return float64(best) >= lo && float64(best) < hi
}

// madiff is MIMEEval's _multipart_alternative_difference: the share of
// HTML words missing from the text alternative.
func (m *msgState) madiff() (diff, html, text float64) {
	m.render()
	for _, alt := range m.root.all(nil) {
		if alt.ctype != "multipart/alternative" {
			continue
		}
		hw, tw := map[string]int{}, map[string]int{}
		for _, p := range alt.all(nil) {
			if !strings.HasPrefix(p.ctype, "text") || (p.ctype != "text/plain" && p.ctype != "text/html") {
				continue
			}
			dst := tw
			if p.ctype == "text/html" {
				dst = hw
			}
			for _, w := range strings.Fields(p.rendered) {
				if hasWordChar(w) {
					dst[w]++
				}
			}
			if p.ctype == "text/html" && len(hw) == 0 && p.html != nil {
				if _, ok := p.html.inside["img"]; ok {
					hw["\n"] = 1
				}
			}
		}
		orig := len(hw)
		if orig == 0 {
			continue
		}
		html, text = float64(orig), float64(len(tw))
		for k, v := range tw {
			if hv, ok := hw[k]; ok && hv-v < 1 {
				delete(hw, k)
			}
		}
		diff = max(diff, float64(len(hw))/float64(orig)*100)
	}
	return diff, html, text
}

func hasWordChar(w string) bool {
	for i := 0; i < len(w); i++ {
		if c := w[i]; c == '_' || isAlnum(c) {
			return true
		}
	}
	return false
}
