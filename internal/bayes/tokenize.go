package bayes

import (
	"crypto/sha1"
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
	s := &tokenSink{toks: make(map[Hash]string, 512)}
	for _, line := range textLines(subject, c.text) {
		if s.line(line, "", regionBody); s.n >= maxBodyTokens {
			break
		}
	}
	s.n = 0
	for _, u := range c.uris {
		if s.line(u, "", regionURI); s.n >= maxURITokens {
			break
		}
	}
	s.n = 0
	for _, hv := range headerTokenSources(msg, ignore, meta) {
		if s.line(hv.value, "H"+hv.name+":", regionHeader); s.n >= maxHeaderTokens {
			break
		}
	}
	return s.toks
}

// tokenSink receives tokens. Each is assembled in buf and only becomes a
// string of its own when it is new to toks: about four tokens in ten
// are repeats within a message.
type tokenSink struct {
	toks map[Hash]string
	list []string // without toks: every token in order (tokenizeLine)
	buf  []byte
	n    int // tokens made, repeats and empty ones included (the caps count them)
}

// emit takes the token in buf.
func (s *tokenSink) emit() {
	s.n++
	if s.toks == nil {
		s.list = append(s.list, string(s.buf))
		return
	}
	if len(s.buf) == 0 {
		return
	}
	var h Hash
	sum := sha1.Sum(s.buf)
	copy(h[:], sum[len(sum)-5:])
	// A different text with the same hash replaces the earlier one, as
	// a plain map assignment would.
	if old, ok := s.toks[h]; !ok || old != string(s.buf) {
		s.toks[h] = string(s.buf)
	}
}

// token emits a+b.
func (s *tokenSink) token(a, b string) {
	s.buf = append(append(s.buf[:0], a...), b...)
	s.emit()
}

// tokenizeLine splits one line of text into tokens with SpamAssassin's
// rules; prefix goes before every token ("H<header>:" for header values).
func tokenizeLine(line, prefix string, region int) []string {
	var s tokenSink
	s.line(line, prefix, region)
	return s.list
}

func (s *tokenSink) line(line, prefix string, region int) {
	line = keepTokenChars(line)
	if strings.Contains(line, "...") {
		line = spreadRuns(line, '.', 3)
	}
	if strings.Contains(line, "--") {
		line = spreadRuns(line, '-', 2)
	}
	if region != regionHeader {
		line = lowerTitleCase(line)
	}
	// After keepTokenChars the only separator left is the ASCII space
	// (strings.Fields would also split UTF-8 no-break spaces).
	for i := 0; i < len(line); {
		if line[i] == ' ' {
			i++
			continue
		}
		j := i + 1
		for j < len(line) && line[j] != ' ' {
			j++
		}
		tok := trimPunct(line[i:j])
		i = j
		if len(tok) < 3 || isStopword(tok) {
			continue
		}
		s.add(tok, prefix, region)
	}
}

// trimPunct trims -'". and , from both ends.
func trimPunct(tok string) string {
	isPunct := func(c byte) bool { return c == '-' || c == '\'' || c == '"' || c == '.' || c == ',' }
	for len(tok) > 0 && isPunct(tok[0]) {
		tok = tok[1:]
	}
	for len(tok) > 0 && isPunct(tok[len(tok)-1]) {
		tok = tok[:len(tok)-1]
	}
	return tok
}

// add emits the tokens of one word.
func (s *tokenSink) add(tok, prefix string, region int) {
	if region != regionHeader {
		if hasAround(tok, '@', isNonSpace) {
			eachAddrToken(tok, s.token)
		} else if hasAround(tok, '.', isASCIILetter) {
			s.token("UD:", tok)
			for bit := tok; ; {
				i := strings.IndexByte(bit, '.')
				if i <= 0 || i == len(bit)-1 {
					break
				}
				bit = bit[i+1:]
				s.token("UD:", bit)
			}
		}
	}
	if len(tok) > maxTokenLen && !strings.Contains(tok, "*") {
		if hasTwoContinuations(tok) {
			if chars := wideUTF8Chars(tok); len(chars) > 0 {
				for _, ch := range chars {
					s.buf = append(append(append(s.buf[:0], prefix...), "u8:"...), ch...)
					s.emit()
				}
				return
			}
		}
		if region != regionURI {
			tok = "sk:" + firstChars(tok, 7)
		}
	}
	if region != regionHeader {
		// The word without the bytes that are not [A-Za-z0-9_:*] (the
		// way SpamAssassin decomposes "Foo!" into "Foo"), then both
		// lower-cased when the word has capitals.
		s.buf = appendStripped(append(s.buf[:0], prefix...), tok, false)
		hasOther := len(s.buf)-len(prefix) != len(tok)
		if hasOther {
			s.emit()
		}
		if hasUpper(tok) {
			s.buf = appendLower(append(s.buf[:0], prefix...), tok)
			s.emit()
			if hasOther {
				s.buf = appendStripped(append(s.buf[:0], prefix...), tok, true)
				s.emit()
			}
		}
	}
	s.token(prefix, tok)
}

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

// appendStripped appends the bytes of tok that are [A-Za-z0-9_:*],
// lower-cased if lower.
func appendStripped(b []byte, tok string, lower bool) []byte {
	for i := 0; i < len(tok); i++ {
		c := tok[i]
		if isASCIILetter(c) || (c >= '0' && c <= '9') || c == '_' || c == ':' || c == '*' {
			if lower && isUpper(c) {
				c += 'a' - 'A'
			}
			b = append(b, c)
		}
	}
	return b
}

// appendLower appends tok with ASCII capitals lower-cased.
func appendLower(b []byte, tok string) []byte {
	for i := 0; i < len(tok); i++ {
		c := tok[i]
		if isUpper(c) {
			c += 'a' - 'A'
		}
		b = append(b, c)
	}
	return b
}

// keepTokenChars replaces every byte that cannot be part of a token with a
// space: kept are ASCII letters, digits and ,@*!_'"$. - plus 8-bit bytes
// A1-FF and UTF-8 sequences (SpamAssassin works on bytes, not runes).
func keepTokenChars(s string) string {
	var b strings.Builder
	b.Grow(len(s))
	done := 0 // s[:done] is in b
	for i := 0; i < len(s); {
		c := s[i]
		if c < 0x80 {
			if !tokenASCII[c] {
				b.WriteString(s[done:i])
				b.WriteByte(' ')
				done = i + 1
			}
			i++
			continue
		}
		if n := utf8SeqLen(s[i:]); n > 0 {
			i += n
			continue
		}
		if c < 0xA1 {
			b.WriteString(s[done:i])
			b.WriteByte(' ')
			done = i + 1
		}
		i++
	}
	if done == 0 {
		return s
	}
	b.WriteString(s[done:])
	return b.String()
}

var tokenASCII = func() (t [0x80]bool) {
	for c := range t {
		switch {
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9':
			t[c] = true
		}
	}
	for _, c := range []byte(`,@*!_'"$. -`) {
		t[c] = true
	}
	return t
}()

// utf8SeqLen is the length of a well-formed-looking UTF-8 multi-byte
// sequence at the start of b (lead byte range plus continuation bytes), or 0.
func utf8SeqLen(b string) int {
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
	for i := 1; i < n; i++ {
		if !isCont(b[i]) {
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
			if l := utf8SeqLen(tok[i:min(len(tok), i+4)]); l > 0 {
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
//
// The result must stay what the regexp substitution it replaced gave,
// quirks included (tokens learned with it are in users' databases): each
// leftmost match of (?:^|\.\s+)([A-Z])([^A-Z]+)(?:\s|$) became a space,
// the lower-cased capital, the rest of the match and a space, so the '.'
// and the white space before the capital were dropped. The greedy
// [^A-Z]+ makes a match end at the text's end when no capital follows,
// else just after the last white space before that capital.
func lowerTitleCase(s string) string {
	if !hasUpper(s) {
		return s
	}
	var b []byte
	done := 0 // s[:done] is in b
	for p := 0; p < len(s); {
		c := -1 // the capital
		if p == 0 && isUpper(s[0]) {
			c = 0
		} else if s[p] == '.' {
			q := p + 1
			for q < len(s) && isRE2Space(s[q]) {
				q++
			}
			if q > p+1 && q < len(s) && isUpper(s[q]) {
				c = q
			}
		}
		end := -1
		if c >= 0 {
			e, lastSpace := c+1, -1
			for ; e < len(s) && !isUpper(s[e]); e++ {
				if e > c+1 && isRE2Space(s[e]) {
					lastSpace = e
				}
			}
			switch {
			case e == len(s) && e > c+1:
				end = e
			case lastSpace >= 0:
				end = lastSpace + 1
			}
		}
		if end < 0 {
			// Past the start only a '.' can begin a match.
			i := strings.IndexByte(s[p+1:], '.')
			if i < 0 {
				break
			}
			p += 1 + i
			continue
		}
		if b == nil {
			b = make([]byte, 0, len(s)+16)
		}
		b = append(b, s[done:p]...)
		b = append(b, ' ', s[c]+('a'-'A'))
		b = append(b, s[c+1:end]...)
		b = append(b, ' ')
		done, p = end, end
	}
	if b == nil {
		return s
	}
	return string(append(b, s[done:]...))
}

// spreadRuns puts a space on each side of a run of min to 6 sep bytes
// between two word characters ("a...b" -> "a ... b"), leftmost first
// and without overlaps, as the substitution s/(\w)(\.{3,6})(\w)/$1 $2 $3/g
// (and its "-{2,6}" twin) it replaced.
func spreadRuns(s string, sep byte, min int) string {
	var b []byte
	done := 0
	for p := 0; p+1 < len(s); p++ {
		if !isWordByte(s[p]) || s[p+1] != sep {
			continue
		}
		q := p + 1
		for q < len(s) && s[q] == sep {
			q++
		}
		if n := q - p - 1; n < min || n > 6 || q == len(s) || !isWordByte(s[q]) {
			p = q - 1
			continue
		}
		if b == nil {
			b = make([]byte, 0, len(s)+16)
		}
		b = append(b, s[done:p+1]...)
		b = append(b, ' ')
		b = append(b, s[p+1:q]...)
		b = append(b, ' ', s[q])
		done, p = q+1, q
	}
	if b == nil {
		return s
	}
	return string(append(b, s[done:]...))
}

// isWordByte is RE2's \w: ASCII letters, digits and '_'.
func isWordByte(c byte) bool {
	return isASCIILetter(c) || (c >= '0' && c <= '9') || c == '_'
}

func isUpper(c byte) bool { return c >= 'A' && c <= 'Z' }

func hasUpper(s string) bool {
	for i := 0; i < len(s); i++ {
		if isUpper(s[i]) {
			return true
		}
	}
	return false
}

// mailAddrTokens turns local@domain into U*local, D*domain and one D* token
// per parent domain.
func mailAddrTokens(addr string) []string {
	var out []string
	eachAddrToken(addr, func(kind, s string) { out = append(out, kind+s) })
	return out
}

// eachAddrToken calls fn with the kind ("U*", "D*") and text of each of
// addr's tokens, as mailAddrTokens lists them.
func eachAddrToken(addr string, fn func(kind, s string)) {
	i := strings.LastIndexByte(addr, '@')
	if i <= 0 || i == len(addr)-1 {
		return
	}
	dom := addr[i+1:]
	fn("U*", addr[:i])
	fn("D*", dom)
	for {
		j := strings.IndexByte(dom, '.')
		if j <= 0 || j == len(dom)-1 {
			return
		}
		dom = dom[j+1:]
		fn("D*", dom)
	}
}
