package bayes

import (
	"crypto/sha1"
	"regexp"
	"strings"

	"github.com/gomilter/gomilter/internal/mailmsg"
)

// Hash is a stored token: the last 5 bytes of the SHA-1 of its text, as in
// SpamAssassin's Bayes store.
type Hash [5]byte

// HashToken returns the stored form of token text.
func HashToken(tok string) Hash {
	sum := sha1.Sum([]byte(tok))
	var h Hash
	copy(h[:], sum[len(sum)-5:])
	return h
}

// Token regions, as in SpamAssassin's _tokenize_line: headers, body text and
// URIs are chewed slightly differently.
const (
	regionHeader = iota
	regionBody
	regionURI
)

// Per-source caps on token counts (SpamAssassin stops at the same numbers).
const (
	maxBodyTokens   = 50000
	maxURITokens    = 10000
	maxHeaderTokens = 10000
	maxTokenLen     = 15 // bayes_max_token_length
)

// Tokenize returns the distinct tokens of msg keyed by their stored hash.
// The value is the token text, kept for explanations and debugging only.
// It uses only the built-in header exclusions; Classifier adds
// Options.IgnoreHeaders.
func Tokenize(msg *mailmsg.Message) map[Hash]string { return tokenize(msg, nil, nil) }

// tokenize is Tokenize with extra header names (lower case) to skip and
// metadata pseudo-fields to tokenize like headers.
func tokenize(msg *mailmsg.Message, ignore map[string]bool, meta []mailmsg.Field) map[Hash]string {
	c := extract(msg)
	var subject string
	if f := msg.All("Subject"); len(f) > 0 {
		subject = decodeWords(unfold(f[len(f)-1].Value)) // the last one, as SpamAssassin's get_header
	}
	toks := make(map[Hash]string, 512)
	add := func(ts []string) {
		for _, t := range ts {
			if t != "" {
				toks[HashToken(t)] = t
			}
		}
	}
	n := 0
	for _, line := range textLines(subject, c.text) {
		ts := tokenizeLine(line, "", regionBody)
		add(ts)
		if n += len(ts); n >= maxBodyTokens {
			break
		}
	}
	n = 0
	for _, u := range c.uris {
		ts := tokenizeLine(u, "", regionURI)
		add(ts)
		if n += len(ts); n >= maxURITokens {
			break
		}
	}
	n = 0
	for _, hv := range headerTokenSources(msg, ignore, meta) {
		ts := tokenizeLine(hv.value, "H"+hv.name+":", regionHeader)
		add(ts)
		if n += len(ts); n >= maxHeaderTokens {
			break
		}
	}
	return toks
}

// tokenizeLine splits one line of text into tokens with SpamAssassin's
// rules; prefix goes before every token ("H<header>:" for header values).
func tokenizeLine(line, prefix string, region int) []string {
	line = keepTokenChars(line)
	if strings.Contains(line, "...") {
		line = dotsRE.ReplaceAllString(line, "$1 $2 $3")
	}
	if strings.Contains(line, "--") {
		line = dashesRE.ReplaceAllString(line, "$1 $2 $3")
	}
	if region != regionHeader {
		line = lowerTitleCase(line)
	}
	var out []string
	for _, tok := range strings.FieldsFunc(line, isSpace) {
		tok = strings.TrimLeft(tok, `-'".,`)
		tok = strings.TrimRight(tok, `-'".,`)
		if len(tok) < 3 || isStopword(tok) {
			continue
		}
		out = appendToken(out, tok, prefix, region)
	}
	return out
}

// isSpace: after keepTokenChars the only separator left is the ASCII space
// (strings.Fields would also split UTF-8 no-break spaces).
func isSpace(r rune) bool { return r == ' ' }

func appendToken(out []string, tok, prefix string, region int) []string {
	if region != regionHeader {
		if hasAround(tok, '@', isNonSpace) {
			out = append(out, mailAddrTokens(tok)...)
		} else if hasAround(tok, '.', isASCIILetter) {
			out = append(out, "UD:"+tok)
			for bit := tok; ; {
				i := strings.IndexByte(bit, '.')
				if i <= 0 || i == len(bit)-1 {
					break
				}
				bit = bit[i+1:]
				out = append(out, "UD:"+bit)
			}
		}
	}
	if len(tok) > maxTokenLen && !strings.Contains(tok, "*") {
		if hasTwoContinuations(tok) {
			if chars := wideUTF8Chars(tok); len(chars) > 0 {
				for _, ch := range chars {
					out = append(out, prefix+"u8:"+ch)
				}
				return out
			}
		}
		if region != regionURI {
			tok = "sk:" + firstChars(tok, 7)
		}
	}
	if region != regionHeader {
		stripped := stripNonWord(tok)
		hasOther := stripped != tok
		if hasOther {
			out = append(out, prefix+stripped)
		}
		if strings.ContainsAny(tok, "ABCDEFGHIJKLMNOPQRSTUVWXYZ") {
			out = append(out, prefix+asciiLower(tok))
			if hasOther {
				out = append(out, prefix+asciiLower(stripped))
			}
		}
	}
	return append(out, prefix+tok)
}

var (
	dotsRE   = regexp.MustCompile(`(\w)(\.{3,6})(\w)`)
	dashesRE = regexp.MustCompile(`(\w)(-{2,6})(\w)`)
	titleRE  = regexp.MustCompile(`(?:^|\.\s+)([A-Z])([^A-Z]+)(?:\s|$)`)
)

// hasAround reports a sep byte with a non-space before it and a byte
// satisfying after after it (the regexps \S@\S and \S\.[a-z]).
func hasAround(tok string, sep byte, after func(byte) bool) bool {
	for i := 1; i+1 < len(tok); i++ {
		if tok[i] == sep && isNonSpace(tok[i-1]) && after(tok[i+1]) {
			return true
		}
	}
	return false
}

func isNonSpace(c byte) bool { return c != ' ' }

func isASCIILetter(c byte) bool { return (c|0x20) >= 'a' && (c|0x20) <= 'z' }

// stripNonWord removes every byte that is not [A-Za-z0-9_:*], the way
// SpamAssassin decomposes "Foo!" into "Foo".
func stripNonWord(tok string) string {
	b := make([]byte, 0, len(tok))
	for i := 0; i < len(tok); i++ {
		c := tok[i]
		if isASCIILetter(c) || (c >= '0' && c <= '9') || c == '_' || c == ':' || c == '*' {
			b = append(b, c)
		}
	}
	return string(b)
}

// keepTokenChars replaces every byte that cannot be part of a token with a
// space: kept are ASCII letters, digits and ,@*!_'"$. - plus 8-bit bytes
// A1-FF and UTF-8 sequences (SpamAssassin works on bytes, not runes).
func keepTokenChars(s string) string {
	b := []byte(s)
	for i := 0; i < len(b); {
		c := b[i]
		if c < 0x80 {
			if !tokenASCII(c) {
				b[i] = ' '
			}
			i++
			continue
		}
		if n := utf8SeqLen(b[i:]); n > 0 {
			i += n
			continue
		}
		if c < 0xA1 {
			b[i] = ' '
		}
		i++
	}
	return string(b)
}

func tokenASCII(c byte) bool {
	switch {
	case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9':
		return true
	}
	return strings.IndexByte(`,@*!_'"$. -`, c) >= 0
}

// utf8SeqLen is the length of a well-formed-looking UTF-8 multi-byte
// sequence at the start of b (lead byte range plus continuation bytes), or 0.
func utf8SeqLen(b []byte) int {
	n := 0
	switch c := b[0]; {
	case c >= 0xC0 && c <= 0xDF:
		n = 2
	case c >= 0xE0 && c <= 0xEF:
		n = 3
	case c >= 0xF0 && c <= 0xF4:
		n = 4
	default:
		return 0
	}
	if len(b) < n {
		return 0
	}
	for _, c := range b[1:n] {
		if c < 0x80 || c > 0xBF {
			return 0
		}
	}
	return n
}

func isCont(c byte) bool { return c >= 0x80 && c <= 0xBF }

// hasTwoContinuations reports two adjacent UTF-8 continuation bytes, the
// sign of 8-bit text that is probably UTF-8. (Go regexps match runes, not
// bytes, so byte classes are done by hand.)
func hasTwoContinuations(s string) bool {
	for i := 0; i+1 < len(s); i++ {
		if isCont(s[i]) && isCont(s[i+1]) {
			return true
		}
	}
	return false
}

// wideUTF8Chars returns the 3- and 4-byte UTF-8 sequences in s (CJK and
// the like), scanning left to right without overlaps.
func wideUTF8Chars(s string) []string {
	var out []string
	for i := 0; i < len(s); {
		c := s[i]
		n := 0
		switch {
		case c >= 0xE0 && c <= 0xEF:
			n = 3
		case c >= 0xF0 && c <= 0xF4:
			n = 4
		}
		if n > 0 && i+n <= len(s) && allCont(s[i+1:i+n]) {
			out = append(out, s[i:i+n])
			i += n
			continue
		}
		i++
	}
	return out
}

func allCont(s string) bool {
	for i := 0; i < len(s); i++ {
		if !isCont(s[i]) {
			return false
		}
	}
	return true
}

// firstChars returns the first n characters of tok, where a character is an
// ASCII byte, a UTF-8 sequence or any other single byte.
func firstChars(tok string, n int) string {
	i := 0
	for ; n > 0 && i < len(tok); n-- {
		if tok[i] >= 0xC0 {
			if l := utf8SeqLen([]byte(tok[i:min(len(tok), i+4)])); l > 0 {
				i += l
				continue
			}
		}
		i++
	}
	return tok[:i]
}

// lowerTitleCase lower-cases a capital letter that starts a line or a
// sentence when the rest of its word is not upper case ("Hello" -> "hello",
// "HELLO" stays), so sentence position does not split a word's counts.
func lowerTitleCase(s string) string {
	if !strings.ContainsAny(s, "ABCDEFGHIJKLMNOPQRSTUVWXYZ") {
		return s
	}
	return titleRE.ReplaceAllStringFunc(s, func(m string) string {
		sm := titleRE.FindStringSubmatch(m)
		return " " + asciiLower(sm[1]) + sm[2] + " "
	})
}

func asciiLower(s string) string {
	b := []byte(s)
	for i, c := range b {
		if c >= 'A' && c <= 'Z' {
			b[i] = c + 32
		}
	}
	return string(b)
}

// mailAddrTokens turns local@domain into U*local, D*domain and one D* token
// per parent domain.
func mailAddrTokens(addr string) []string {
	i := strings.LastIndexByte(addr, '@')
	if i <= 0 || i == len(addr)-1 {
		return nil
	}
	dom := addr[i+1:]
	out := []string{"U*" + addr[:i], "D*" + dom}
	for {
		j := strings.IndexByte(dom, '.')
		if j <= 0 || j == len(dom)-1 {
			return out
		}
		dom = dom[j+1:]
		out = append(out, "D*"+dom)
	}
}
