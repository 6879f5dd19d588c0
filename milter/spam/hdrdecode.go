package spam

import (
	"encoding/base64"
	"regexp"
	"strings"
)

// noDecodeHeaders are never RFC 2047 decoded (SA's Node::_decode_header
// leaves them alone because encoded words are not allowed there).
var noDecodeHeaders = regexp.MustCompile(`(?i)^(?:Received|(?:Resent-)?(?:Message-ID|Date)|MIME-Version|References|In-Reply-To|List-.*)$`)

var encodedWord = regexp.MustCompile(`=\?([A-Za-z0-9*_-]+)\?([bqBQ])\?([^?]*)\?=`)
var ewGap = regexp.MustCompile(`(=\?[A-Za-z0-9*_-]+\?[bqBQ]\?[^?]*\?=)\s+(=\?[A-Za-z0-9*_-]+\?[bqBQ]\?[^?]*\?=)`)

// decodeHeaderValue unfolds, trims and decodes encoded words into UTF-8
// by their declared charset, as SA's _decode_header does.
func decodeHeaderValue(name, raw string) string {
	v := strings.ReplaceAll(raw, "\r", "")
	v = foldRe.ReplaceAllString(v, " ")
	v = strings.TrimSpace(v)
	v = strings.ReplaceAll(v, "\n", "")
	if noDecodeHeaders.MatchString(name) || !strings.Contains(v, "=?") {
		return v
	}
	// Whitespace between adjacent encoded words is not displayed.
	for {
		n := ewGap.ReplaceAllString(v, "$1$2")
		if n == v {
			break
		}
		v = n
	}
	return encodedWord.ReplaceAllStringFunc(v, func(w string) string {
		m := encodedWord.FindStringSubmatch(w)
		return string(transcodeWord([]byte(decodeWord(m[2], m[3])), m[1]))
	})
}

var (
	foldRe  = regexp.MustCompile(`\n[ \t]+`)
	foldRaw = regexp.MustCompile(`\r?\n\s+`)
)

func decodeWord(enc, text string) string {
	if enc == "b" || enc == "B" {
		t := strings.TrimRight(text, "=")
		b, err := base64.RawStdEncoding.DecodeString(t)
		if err != nil {
			return text
		}
		return string(b)
	}
	return string(decodeQP([]byte(strings.ReplaceAll(text, "_", " "))))
}

// address is one parsed mailbox of an address header.
type address struct {
	phrase, addr string
}

// parseAddresses is a lenient RFC 5322 address-list reader in the spirit
// of SA's Util::parse_header_addresses: groups are flattened, comments
// dropped, a display name is kept when present.
func parseAddresses(v string) []address {
	var out []address
	for _, item := range splitAddrList(v) {
		item = strings.TrimSpace(item)
		if i := strings.IndexByte(item, ':'); i >= 0 && !strings.Contains(item[:i], "<") && !strings.Contains(item[:i], "@") && !strings.Contains(item[:i], `"`) {
			item = strings.TrimSpace(item[i+1:]) // group name
		}
		item = strings.TrimSuffix(item, ";")
		if item == "" {
			continue
		}
		var a address
		if lt := strings.LastIndexByte(item, '<'); lt >= 0 {
			gt := strings.IndexByte(item[lt:], '>')
			if gt < 0 {
				gt = len(item) - lt
			}
			a.addr = strings.TrimSpace(item[lt+1 : lt+gt])
			a.phrase = cleanPhrase(item[:lt])
		} else {
			comment := ""
			if i := strings.IndexByte(item, '('); i >= 0 {
				if j := strings.LastIndexByte(item, ')'); j > i {
					comment = item[i+1 : j]
				}
			}
			a.addr = strings.TrimSpace(stripComments(item))
			a.phrase = strings.TrimSpace(comment)
		}
		if a.addr == "" && a.phrase == "" {
			continue
		}
		out = append(out, a)
	}
	return out
}

func cleanPhrase(s string) string {
	s = strings.TrimSpace(stripComments(s))
	if len(s) >= 2 && s[0] == '"' && s[len(s)-1] == '"' {
		s = s[1 : len(s)-1]
	}
	return strings.ReplaceAll(s, `\"`, `"`)
}

func stripComments(s string) string {
	var b strings.Builder
	depth := 0
	inq := false
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '"' && depth == 0:
			inq = !inq
		case c == '(' && !inq:
			depth++
			continue
		case c == ')' && !inq && depth > 0:
			depth--
			continue
		}
		if depth == 0 {
			b.WriteByte(c)
		}
	}
	return b.String()
}

// splitAddrList splits on commas outside quotes, comments and <...>.
func splitAddrList(v string) []string {
	var out []string
	depth, angle, inq := 0, false, false
	start := 0
	for i := 0; i < len(v); i++ {
		switch c := v[i]; {
		case c == '\\':
			i++
		case c == '"' && depth == 0:
			inq = !inq
		case inq:
		case c == '(':
			depth++
		case c == ')' && depth > 0:
			depth--
		case c == '<' && depth == 0:
			angle = true
		case c == '>' && depth == 0:
			angle = false
		case c == ',' && depth == 0 && !angle:
			out = append(out, v[start:i])
			start = i + 1
		}
	}
	if start <= len(v) {
		out = append(out, v[start:])
	}
	return out
}
