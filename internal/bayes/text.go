package bayes

import (
	"bytes"
	"encoding/base64"
	"io"
	"mime"
	"mime/multipart"
	"mime/quotedprintable"
	"regexp"
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

var (
	uriRE   = regexp.MustCompile(`(?i)\b(?:(?:https?|ftp)://|www\.)[^\s<>"'()\[\]{}]+`)
	emailRE = regexp.MustCompile(`[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)+`)
)

// findURIs returns the links in plain text, and its mail addresses as
// mailto: links (SpamAssassin's URI list has both).
func findURIs(b []byte) []string {
	var out []string
	for _, m := range uriRE.FindAll(b, 200) {
		out = append(out, strings.TrimRight(string(m), ".,;:!?"))
	}
	for _, m := range emailRE.FindAll(b, 200) {
		out = append(out, "mailto:"+strings.TrimRight(string(m), ".-"))
	}
	return out
}

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
		c := s[i]
		if !isRE2Space(c) {
			if c == 0 {
				c = '\n'
			}
			b.WriteByte(c)
			i++
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
