package spam

import (
	"bytes"
	"encoding/base64"
	"regexp"
	"strings"
	"unicode"
)

// Limits that keep a hostile message from exhausting the walker.
const (
	maxMIMEDepth = 20
	maxMIMEParts = 1000
)

// header is one header field the way SA's Message::Node keeps it.
type header struct {
	name string // as written
	raw  string // after "Name:" and its leading whitespace, folds kept, "\n"-terminated
	dec  string // unfolded, trimmed, RFC 2047 decoded (no trailing newline)
}

// part is a node of the MIME tree.
type part struct {
	headers  []header
	ctype    string // lower-case type/subtype, "text/plain" by default
	charset  string
	boundary string
	name     string // filename or name parameter
	cte      string // lower-case Content-Transfer-Encoding
	cd       string // lower-case Content-Disposition
	body     []byte // raw body, LF line endings
	children []*part

	rendered string      // text/plain and text/html parts after render()
	html     *htmlResult // text/html parts after render()
	decoded  []byte      // cache of decode()
	didDecod bool
}

// get returns the decoded values of all headers named name.
func (p *part) get(name string) []string {
	var out []string
	for _, h := range p.headers {
		if strings.EqualFold(h.name, name) {
			out = append(out, h.dec)
		}
	}
	return out
}

func (p *part) first(name string) (string, bool) {
	for _, h := range p.headers {
		if strings.EqualFold(h.name, name) {
			return h.dec, true
		}
	}
	return "", false
}

// parseHeaderBlock splits "Name: value" lines (LF endings) into fields.
// Lines that are neither fields nor continuations are skipped, as SA does.
func parseHeaderBlock(block []byte) []header {
	var out []header
	lines := strings.SplitAfter(string(block), "\n")
	for _, ln := range lines {
		if ln == "" {
			continue
		}
		if (ln[0] == ' ' || ln[0] == '\t') && len(out) > 0 {
			out[len(out)-1].raw += ln
			continue
		}
		i := strings.IndexByte(ln, ':')
		name := ""
		if i > 0 {
			name = strings.TrimRight(ln[:i], " \t")
		}
		if name == "" || strings.ContainsAny(name, " \t") {
			continue
		}
		v := strings.TrimLeft(ln[i+1:], " \t")
		if !strings.HasSuffix(v, "\n") {
			v += "\n"
		}
		out = append(out, header{name: name, raw: v})
	}
	for i := range out {
		out[i].dec = decodeHeaderValue(out[i].name, out[i].raw)
	}
	return out
}

// splitHeaderBody finds the blank line ending the header block.
func splitHeaderBody(b []byte) (hdr, body []byte) {
	if bytes.HasPrefix(b, []byte("\n")) {
		return nil, b[1:]
	}
	if i := bytes.Index(b, []byte("\n\n")); i >= 0 {
		return b[:i+1], b[i+2:]
	}
	return b, nil
}

// parseFlags are SA's message parse flags (check_msg_parse_flags).
type parseFlags struct {
	count            int
	epilogue         bool // text after a closing boundary
	missingMIMEHdrs  bool // a part starts without headers
	missingBoundary  bool // a multipart never closed
	missingHBSep     bool
	truncatedHeader  bool
	missingMIMEHBSep bool
}

// parsePart builds the MIME tree of one entity (LF-normalised bytes).
func parsePart(b []byte, depth int, fl *parseFlags, defType string) *part {
	fl.count++
	count := &fl.count
	hb, body := splitHeaderBody(b)
	p := &part{headers: parseHeaderBlock(hb), body: body}
	p.setContentType(defType)
	if depth >= maxMIMEDepth || *count >= maxMIMEParts {
		return p
	}
	switch {
	case strings.HasPrefix(p.ctype, "multipart/") && p.boundary != "":
		sub := "text/plain"
		if p.ctype == "multipart/digest" {
			sub = "message/rfc822"
		}
		for _, chunk := range splitMultipart(body, p.boundary, fl) {
			if *count >= maxMIMEParts {
				break
			}
			p.children = append(p.children, parsePart(chunk, depth+1, fl, sub))
		}
	case p.ctype == "message/rfc822":
		p.children = append(p.children, parsePart(p.decode(), depth+1, fl, "text/plain"))
	}
	return p
}

func (p *part) setContentType(def string) {
	p.ctype = def
	if v, ok := p.first("Content-Type"); ok {
		t, params := parseContentType(v)
		if t != "" {
			p.ctype = t
		}
		p.charset = params["charset"]
		p.boundary = params["boundary"]
		p.name = params["name"]
	}
	if v, ok := p.first("Content-Disposition"); ok {
		p.cd = strings.ToLower(v)
		_, params := parseContentType("x/x;" + strings.TrimPrefix(v, strings.SplitN(v, ";", 2)[0]))
		if params["filename"] != "" {
			p.name = params["filename"]
		}
	}
	if v, ok := p.first("Content-Transfer-Encoding"); ok {
		p.cte = strings.ToLower(strings.TrimSpace(v))
	}
}

// parseContentType is lenient: a broken parameter list keeps what parsed.
func parseContentType(v string) (string, map[string]string) {
	params := map[string]string{}
	segs := splitParams(v)
	t := strings.ToLower(strings.TrimSpace(segs[0]))
	if i := strings.IndexAny(t, " \t("); i >= 0 {
		t = t[:i]
	}
	if !strings.Contains(t, "/") {
		t = ""
	}
	for _, s := range segs[1:] {
		k, val, ok := strings.Cut(s, "=")
		if !ok {
			continue
		}
		k = strings.ToLower(strings.TrimSpace(k))
		val = strings.TrimSpace(val)
		if strings.HasPrefix(val, `"`) {
			val = strings.TrimPrefix(val, `"`)
			if j := strings.IndexByte(val, '"'); j >= 0 {
				val = val[:j]
			}
		} else if j := strings.IndexAny(val, " \t"); j >= 0 {
			val = val[:j]
		}
		if _, dup := params[k]; !dup {
			params[k] = val
		}
	}
	return t, params
}

// splitParams splits on ';' outside double quotes.
func splitParams(v string) []string {
	var out []string
	inq := false
	start := 0
	for i := 0; i < len(v); i++ {
		switch v[i] {
		case '"':
			inq = !inq
		case ';':
			if !inq {
				out = append(out, v[start:i])
				start = i + 1
			}
		}
	}
	return append(out, v[start:])
}

// splitMultipart returns the body parts between boundary lines. A missing
// closing boundary ends the last part at the end of the data.
func splitMultipart(body []byte, boundary string, fl *parseFlags) [][]byte {
	delim := "--" + boundary
	var parts [][]byte
	var cur []byte
	in := false
	closed := false
	for len(body) > 0 {
		i := bytes.IndexByte(body, '\n')
		var line []byte
		if i < 0 {
			line, body = body, nil
		} else {
			line, body = body[:i+1], body[i+1:]
		}
		t := bytes.TrimRight(line, " \t\r\n")
		if bytes.HasPrefix(t, []byte(delim)) {
			rest := t[len(delim):]
			if len(rest) == 0 || bytes.Equal(rest, []byte("--")) {
				if in {
					parts = append(parts, trimLastNL(cur))
				}
				cur = nil
				in = len(rest) == 0
				if !in {
					closed = true
					break
				}
				if !mimeHeaderLine.Match(body) {
					fl.missingMIMEHdrs = true
				}
				continue
			}
		}
		if in {
			cur = append(cur, line...)
		}
	}
	if in && cur != nil {
		parts = append(parts, cur)
	}
	if !closed {
		fl.missingBoundary = true
	}
	if closed && bytes.ContainsFunc(body, func(r rune) bool { return r != '.' && !unicode.IsSpace(r) }) {
		fl.epilogue = true
	}
	return parts
}

var mimeHeaderLine = regexp.MustCompile(`^[\x21-\x39\x3b-\x7e]+:`)

// trimLastNL drops the newline that belongs to the following boundary.
func trimLastNL(b []byte) []byte {
	return bytes.TrimSuffix(b, []byte("\n"))
}

// decode undoes the transfer encoding, leniently.
func (p *part) decode() []byte {
	if p.didDecod {
		return p.decoded
	}
	p.didDecod = true
	switch {
	case p.cte == "base64" || strings.HasPrefix(p.cte, "base64"):
		p.decoded = decodeBase64Lenient(p.body)
	case strings.HasPrefix(p.cte, "quoted-printable"):
		p.decoded = decodeQP(p.body)
	default:
		p.decoded = p.body
	}
	return p.decoded
}

func decodeBase64Lenient(b []byte) []byte {
	clean := make([]byte, 0, len(b))
	for _, c := range b {
		if c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '+' || c == '/' {
			clean = append(clean, c)
		} else if c == '=' {
			break
		}
	}
	if r := len(clean) % 4; r == 1 {
		clean = clean[:len(clean)-1]
	}
	out, err := base64.RawStdEncoding.DecodeString(string(clean))
	if err != nil {
		return nil
	}
	return out
}

// decodeQP decodes quoted-printable; invalid escapes stay literal and
// soft line breaks ("=\n") join lines.
func decodeQP(b []byte) []byte {
	out := make([]byte, 0, len(b))
	for i := 0; i < len(b); i++ {
		c := b[i]
		if c != '=' {
			out = append(out, c)
			continue
		}
		if i+1 < len(b) && b[i+1] == '\n' {
			i++
			continue
		}
		if i+2 < len(b) && b[i+1] == '\r' && b[i+2] == '\n' {
			i += 2
			continue
		}
		if i+2 < len(b) && isHex(b[i+1]) && isHex(b[i+2]) {
			out = append(out, unhex(b[i+1])<<4|unhex(b[i+2]))
			i += 2
			continue
		}
		// "=  \n" (trailing space after soft break) is a soft break too.
		j := i + 1
		for j < len(b) && (b[j] == ' ' || b[j] == '\t') {
			j++
		}
		if j < len(b) && b[j] == '\n' {
			i = j
			continue
		}
		out = append(out, c)
	}
	return out
}

func unhex(c byte) byte {
	switch {
	case c >= '0' && c <= '9':
		return c - '0'
	case c >= 'a' && c <= 'f':
		return c - 'a' + 10
	}
	return c - 'A' + 10
}

// leaves returns the leaf parts in document order.
func (p *part) leaves(out []*part) []*part {
	if len(p.children) == 0 {
		return append(out, p)
	}
	for _, c := range p.children {
		out = c.leaves(out)
	}
	return out
}

// all returns every node in document order.
func (p *part) all(out []*part) []*part {
	out = append(out, p)
	for _, c := range p.children {
		out = c.all(out)
	}
	return out
}
