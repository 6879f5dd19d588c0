package bayes

import (
	"bytes"
	"encoding/base64"
	"io"
	"mime"
	"mime/multipart"
	"mime/quotedprintable"
	"strings"

	"github.com/gomilter/gomilter/internal/mailmsg"
)

// Limits on the MIME walk; a message beyond them is tokenized partially,
// which is what a filter wants from hostile input.
const (
	maxDepth    = 8
	maxParts    = 100
	maxPartText = 256 << 10 // decoded bytes read from one part
	// partScanSize is SpamAssassin's body_part_scan_size: the rendered
	// text of each part is cut after about this many bytes.
	partScanSize = 50000
)

// content is what the tokenizer reads from a message body.
type content struct {
	text  []string // rendered text of each text part
	uris  []string // URIs found in text and HTML attributes
	parts int
}

// extract walks the MIME tree of msg.
func extract(msg *mailmsg.Message) *content {
	c := &content{}
	ct, _ := msg.Get("Content-Type")
	cte, _ := msg.Get("Content-Transfer-Encoding")
	c.walk(ct, cte, msg.Body, 0)
	return c
}

func (c *content) walk(ctype, cte string, body []byte, depth int) {
	c.parts++
	if depth > maxDepth || c.parts > maxParts {
		return
	}
	mt, params, err := mime.ParseMediaType(ctype)
	if err != nil || mt == "" {
		mt = "text/plain"
	}
	switch {
	case strings.HasPrefix(mt, "multipart/"):
		c.walkMultipart(params["boundary"], body, depth)
	case mt == "message/rfc822":
		em := ParseMessage(body)
		ct, _ := em.Get("Content-Type")
		cte, _ := em.Get("Content-Transfer-Encoding")
		c.walk(ct, cte, em.Body, depth+1)
	case strings.HasPrefix(mt, "text/") && mt != "text/calendar":
		data := decodeCTE(cte, body)
		if len(data) > maxPartText {
			data = data[:maxPartText]
		}
		if mt == "text/html" {
			txt, uris := renderHTML(data)
			c.text = append(c.text, scanPrefix(txt))
			c.uris = append(c.uris, uris...)
			return
		}
		c.text = append(c.text, scanPrefix(string(data)))
		c.uris = append(c.uris, findURIs(data)...)
	}
}

func (c *content) walkMultipart(boundary string, body []byte, depth int) {
	if boundary == "" {
		return
	}
	r := multipart.NewReader(bytes.NewReader(body), boundary)
	for c.parts <= maxParts {
		p, err := r.NextRawPart()
		if err != nil {
			return
		}
		data, err := io.ReadAll(io.LimitReader(p, 4*maxPartText))
		if err != nil && len(data) == 0 {
			return
		}
		c.walk(p.Header.Get("Content-Type"), p.Header.Get("Content-Transfer-Encoding"), data, depth+1)
	}
}

// scanPrefix cuts a part's rendered text to partScanSize, at the next
// newline or else the next space when one comes within 1 KB, as
// SpamAssassin does.
func scanPrefix(s string) string {
	if len(s) <= partScanSize {
		return s
	}
	rest := s[partScanSize:]
	for _, sep := range []byte{'\n', ' '} {
		if i := strings.IndexByte(rest, sep); i >= 0 && i <= 1024 {
			return s[:partScanSize+i+1]
		}
	}
	return s[:partScanSize]
}

// decodeCTE undoes base64 or quoted-printable; broken encodings yield what
// could be decoded, never an error, as mail clients do.
func decodeCTE(cte string, body []byte) []byte {
	switch strings.ToLower(strings.TrimSpace(cte)) {
	case "base64":
		clean := bytes.Map(func(r rune) rune {
			if r == '\r' || r == '\n' || r == ' ' || r == '\t' {
				return -1
			}
			return r
		}, body)
		out := make([]byte, base64.StdEncoding.DecodedLen(len(clean)))
		n, _ := base64.StdEncoding.Decode(out, clean)
		return out[:n]
	case "quoted-printable":
		out, _ := io.ReadAll(quotedprintable.NewReader(bytes.NewReader(body)))
		return out
	}
	return body
}

// maxFoundURIs caps each kind of link findURIs returns from one part.
const maxFoundURIs = 200

// findURIs returns the links in plain text, and its mail addresses as
// mailto: links (SpamAssassin's URI list has both).
func findURIs(b []byte) []string {
	var out []string
	for p, n := 0, 0; n < maxFoundURIs; n++ {
		i, j := nextLink(b, p)
		if i < 0 {
			break
		}
		out = append(out, strings.TrimRight(string(b[i:j]), ".,;:!?"))
		p = j
	}
	for p, n := 0, 0; n < maxFoundURIs; n++ {
		i, j := nextMailAddr(b, p)
		if i < 0 {
			break
		}
		out = append(out, "mailto:"+strings.TrimRight(string(b[i:j]), ".-"))
		p = j
	}
	return out
}

// nextLink finds the first link in b[from:], as the regexp
// (?i)\b(?:(?:https?|ftp)://|www\.)[^\s<>"'()\[\]{}]+ matched it,
// and returns its bounds, or -1.
func nextLink(b []byte, from int) (int, int) {
	for p := from; p < len(b); p++ {
		switch b[p] | 0x20 {
		case 'h', 'f', 'w':
		default:
			continue
		}
		if p > 0 && isWordByte(b[p-1]) {
			continue
		}
		end := linkPrefix(b[p:])
		if end < 0 {
			continue
		}
		end += p
		q := end
		for q < len(b) && !linkStop[b[q]] {
			q++
		}
		if q > end {
			return p, q
		}
	}
	return -1, -1
}

// linkPrefix returns the length of the scheme or "www." at the start of
// b, or -1. Case is ignored as (?i) does: that includes the long s 'ſ'
// (U+017F), which folds to 's'.
func linkPrefix(b []byte) int {
	if n := foldPrefix(b, "http"); n > 0 {
		m := n
		if m < len(b) && b[m]|0x20 == 's' {
			m++
		} else if bytes.HasPrefix(b[m:], []byte("\u017f")) {
			m += 2
		}
		if bytes.HasPrefix(b[m:], []byte("://")) {
			return m + 3
		}
		if bytes.HasPrefix(b[n:], []byte("://")) {
			return n + 3
		}
		return -1
	}
	if n := foldPrefix(b, "ftp://"); n > 0 {
		return n
	}
	return foldPrefix(b, "www.")
}

// foldPrefix returns len(lit) when b starts with lit, ASCII letters in
// any case, or -1.
func foldPrefix(b []byte, lit string) int {
	if len(b) < len(lit) {
		return -1
	}
	for i := 0; i < len(lit); i++ {
		c := b[i]
		if isASCIILetter(c) {
			c |= 0x20
		}
		if c != lit[i] {
			return -1
		}
	}
	return len(lit)
}

// linkStop holds the bytes that end a link: RE2's \s and <>"'()[]{}.
var linkStop = func() (t [256]bool) {
	for _, c := range []byte("\t\n\f\r <>\"'()[]{}") {
		t[c] = true
	}
	return t
}()

// nextMailAddr finds the first mail address in b[from:], as the regexp
// [A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)+ matched it, and
// returns its bounds, or -1. The greedy runs make the local part all
// of the run of its bytes before an '@' and the domain all the labels
// that follow.
func nextMailAddr(b []byte, from int) (int, int) {
	for p := from; p < len(b); {
		a := bytes.IndexByte(b[p:], '@')
		if a < 0 {
			break
		}
		a += p
		p = a + 1
		i := a
		for i > from && isLocalByte(b[i-1]) {
			i--
		}
		if i == a {
			continue
		}
		if j := domainEnd(b, a+1); j > 0 {
			return i, j
		}
	}
	return -1, -1
}

// domainEnd returns the end of the domain of two labels or more at
// b[i:], or -1.
func domainEnd(b []byte, i int) int {
	j := i
	for j < len(b) && isDomainByte(b[j]) {
		j++
	}
	if j == i {
		return -1
	}
	labels := 0
	for j+1 < len(b) && b[j] == '.' && isDomainByte(b[j+1]) {
		j += 2
		for j < len(b) && isDomainByte(b[j]) {
			j++
		}
		labels++
	}
	if labels == 0 {
		return -1
	}
	return j
}

func isDomainByte(c byte) bool { return isAlnum(c) || c == '-' }

func isLocalByte(c byte) bool { return isDomainByte(c) || c == '.' || c == '_' || c == '%' || c == '+' }

// textLines turns the rendered parts into the lines the tokenizer reads,
// as SpamAssassin's get_body_text_array_common does: parts joined by a
// newline, blank lines mark paragraph ends, every other whitespace run
// becomes one space (so a paragraph keeps one leading space if it had
// indentation), the Subject is the first line, and lines longer than 2048
// bytes are cut after a space.
func textLines(subject string, parts []string) []string {
	all := squeezeParagraphs(strings.Join(parts, "\n"))
	out := []string{subject + "\n"}
	for _, p := range strings.SplitAfter(all, "\n") {
		for len(p) > maxBodyLine {
			cut := strings.LastIndexByte(p[:maxBodyLine], ' ') + 1
			if cut <= 0 {
				cut = maxBodyLine
			}
			out = append(out, p[:cut])
			p = p[cut:]
		}
		if p != "" {
			out = append(out, p)
		}
	}
	return out
}

const maxBodyLine = 2048 // MAX_BODY_LINE_LENGTH

// squeezeParagraphs makes paragraphs lines and other white space one
// space, as SpamAssassin does before tokenizing the body (s/\n+\s*\n+/\0/g,
// then s/\s+/ /g, then \0 back to \n) in one pass: a run of white space
// holding two newlines or more becomes one newline, with one space for
// what stands before its first newline and one for what stands after its
// last; any other run becomes one space. NUL bytes become newlines too,
// as the \0 marker made them.
func squeezeParagraphs(s string) string {
	var b strings.Builder
	b.Grow(len(s))
	for i := 0; i < len(s); {
		if c := s[i]; !isRE2Space(c) {
			if c == 0 {
				b.WriteByte('\n')
				i++
				continue
			}
			j := i + 1
			for j < len(s) && s[j] != 0 && !isRE2Space(s[j]) {
				j++
			}
			b.WriteString(s[i:j])
			i = j
			continue
		}
		j, first, last, nl := i, -1, -1, 0
		for ; j < len(s) && isRE2Space(s[j]); j++ {
			if s[j] == '\n' {
				if first < 0 {
					first = j
				}
				last = j
				nl++
			}
		}
		switch {
		case nl < 2:
			b.WriteByte(' ')
		default:
			if first > i {
				b.WriteByte(' ')
			}
			b.WriteByte('\n')
			if last+1 < j {
				b.WriteByte(' ')
			}
		}
		i = j
	}
	return b.String()
}

// isRE2Space is RE2's \s: tab, newline, form feed, carriage return, space.
func isRE2Space(c byte) bool {
	return c == ' ' || c == '\t' || c == '\n' || c == '\f' || c == '\r'
}
