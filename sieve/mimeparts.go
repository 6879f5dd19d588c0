package sieve

import (
	"bytes"
	"encoding/base64"
	"io"
	"mime"
	"mime/quotedprintable"
	"strings"

	"github.com/gomilter/gomilter/internal/mailmsg"
)

const maxMIMEDepth = 16

// mimePart is one node of the MIME tree (RFC 2045/2046).
type mimePart struct {
	header   []mailmsg.Field
	body     []byte // raw, still transfer-encoded
	typ, sub string // lower case; "text"/"plain" by default
	params   map[string]string
	children []*mimePart
	parent   *mimePart
	explicit bool // had a Content-Type header
	// preamble and epilogue of a multipart, the text outside its parts
	preamble, epilogue []byte
}

func (m *msgState) tree() *mimePart {
	if m.parts == nil {
		m.parts = parsePart(m.header, m.body, nil, 0, "text", "plain")
	}
	return m.parts
}

func parsePart(h []mailmsg.Field, body []byte, parent *mimePart, depth int, dt, ds string) *mimePart {
	p := &mimePart{header: h, body: body, parent: parent, typ: dt, sub: ds, params: map[string]string{}}
	if vals := fieldValues(h, "Content-Type", false); len(vals) > 0 {
		p.explicit = true
		mt, params, err := mime.ParseMediaType(vals[0])
		if err != nil && mt == "" {
			mt = strings.ToLower(strings.TrimSpace(strings.SplitN(vals[0], ";", 2)[0]))
		}
		if t, s, ok := strings.Cut(mt, "/"); ok && t != "" && s != "" && !strings.Contains(s, "/") {
			p.typ, p.sub = strings.ToLower(t), strings.ToLower(s)
		} else {
			// Unparsable: opaque data, never text (as Pigeonhole treats it).
			p.typ, p.sub = "application", "octet-stream"
		}
		for k, v := range params {
			p.params[strings.ToLower(k)] = v
		}
	}
	if depth >= maxMIMEDepth {
		return p
	}
	switch {
	case p.typ == "multipart" && p.params["boundary"] != "":
		cdt, cds := "text", "plain"
		if p.sub == "digest" {
			cdt, cds = "message", "rfc822"
		}
		parts, pre, epi := splitMultipart(body, p.params["boundary"])
		p.preamble, p.epilogue = pre, epi
		for _, raw := range parts {
			cm := ParseMessage(raw)
			p.children = append(p.children, parsePart(cm.Header, cm.Body, p, depth+1, cdt, cds))
		}
	case p.typ == "message" && p.sub == "rfc822":
		cm := ParseMessage(body)
		p.children = append(p.children, parsePart(cm.Header, cm.Body, p, depth+1, "text", "plain"))
	}
	return p
}

// splitMultipart returns the raw body parts between boundary lines and
// the text before the first and after the closing boundary.
func splitMultipart(body []byte, boundary string) (parts [][]byte, pre, epi []byte) {
	delim := []byte("--" + boundary)
	var cur []byte
	in, started := false, false
	for len(body) > 0 {
		end := bytes.IndexByte(body, '\n')
		var line []byte
		if end < 0 {
			line, body = body, nil
		} else {
			line, body = body[:end+1], body[end+1:]
		}
		t := bytes.TrimRight(line, " \t\r\n")
		if bytes.HasPrefix(t, delim) {
			rest := t[len(delim):]
			if len(rest) == 0 || bytes.Equal(rest, []byte("--")) {
				if in {
					parts = append(parts, trimLastCRLF(cur))
				}
				cur, in, started = nil, len(rest) == 0, true
				if !in {
					return parts, pre, body
				}
				continue
			}
		}
		switch {
		case in:
			cur = append(cur, line...)
		case !started:
			pre = append(pre, line...)
		}
	}
	if in {
		parts = append(parts, trimLastCRLF(cur))
	}
	return parts, pre, nil
}

func trimLastCRLF(b []byte) []byte {
	b = bytes.TrimSuffix(b, []byte("\n"))
	return bytes.TrimSuffix(b, []byte("\r"))
}

// walk visits p and its descendants in document order.
func (p *mimePart) walk(fn func(*mimePart)) {
	fn(p)
	for _, c := range p.children {
		c.walk(fn)
	}
}

// decoded returns the body with transfer encoding removed and, for text
// parts, converted to UTF-8.
func (p *mimePart) decoded() []byte {
	cte := ""
	if v := fieldValues(p.header, "Content-Transfer-Encoding", false); len(v) > 0 {
		cte = strings.ToLower(strings.TrimSpace(v[0]))
	}
	b := p.body
	switch cte {
	case "base64":
		clean := bytes.Map(func(r rune) rune {
			if r == '\r' || r == '\n' || r == ' ' || r == '\t' {
				return -1
			}
			return r
		}, b)
		out := make([]byte, base64.StdEncoding.DecodedLen(len(clean)))
		n, _ := base64.StdEncoding.Decode(out, clean)
		b = out[:n]
	case "quoted-printable":
		if out, err := io.ReadAll(quotedprintable.NewReader(bytes.NewReader(b))); err == nil || len(out) > 0 {
			b = out
		}
	case "", "7bit", "8bit", "binary":
	default:
		return nil // an unknown encoding cannot be decoded: no content
	}
	if p.typ == "text" {
		if cs := strings.ToLower(p.params["charset"]); cs != "" && cs != "utf-8" && cs != "us-ascii" {
			if r, err := charsetReader(cs, bytes.NewReader(b)); err == nil {
				if out, err := io.ReadAll(r); err == nil {
					b = out
				}
			}
		}
	}
	return b
}
