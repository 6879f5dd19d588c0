package milterclient

import (
	"bytes"
	"strings"
)

// header is one header field as the MTA sends it in SMFIC_HEADER.
type header struct{ name, value string }

// splitMessage splits a raw message (CRLF or LF lines) the way Postfix
// feeds a milter: header fields with the value after the colon (one
// leading space removed unless leadSpace), folded lines joined by "\n"
// with their whitespace kept; the body with CRLF line ends. A line that
// is not a header field ends the header, as in Postfix's cleanup.
func splitMessage(raw []byte, leadSpace bool) ([]header, []byte) {
	var hdrs []header
	rest := raw
	for len(rest) > 0 {
		line, next := cutLine(rest)
		if len(line) == 0 { // blank line: body follows
			return hdrs, toCRLF(next)
		}
		if (line[0] == ' ' || line[0] == '\t') && len(hdrs) > 0 {
			hdrs[len(hdrs)-1].value += "\n" + string(line)
			rest = next
			continue
		}
		i := bytes.IndexByte(line, ':')
		if i <= 0 || bytes.ContainsAny(line[:i], " \t") {
			return hdrs, toCRLF(rest) // not a header: the body starts here
		}
		v := string(line[i+1:])
		if !leadSpace {
			v = strings.TrimPrefix(v, " ")
		}
		hdrs = append(hdrs, header{name: string(line[:i]), value: v})
		rest = next
	}
	return hdrs, nil
}

// cutLine returns the first line without its CRLF/LF and the rest.
func cutLine(b []byte) ([]byte, []byte) {
	i := bytes.IndexByte(b, '\n')
	if i < 0 {
		return b, nil
	}
	line := b[:i]
	if len(line) > 0 && line[len(line)-1] == '\r' {
		line = line[:len(line)-1]
	}
	return line, b[i+1:]
}

// toCRLF turns bare LF line ends into CRLF (existing CRLF stays).
func toCRLF(b []byte) []byte {
	if !bytes.Contains(b, []byte("\n")) || bytes.Count(b, []byte("\n")) == bytes.Count(b, []byte("\r\n")) {
		return b
	}
	out := make([]byte, 0, len(b)+bytes.Count(b, []byte("\n")))
	for len(b) > 0 {
		line, next := cutLine(b)
		out = append(out, line...)
		if len(next) > 0 || b[len(b)-1] == '\n' {
			out = append(out, '\r', '\n')
		}
		b = next
	}
	return out
}

// ToCRLF converts a message file with LF line ends (as stored on disk by
// most corpora) to the CRLF form that travels in SMTP.
func ToCRLF(b []byte) []byte { return toCRLF(b) }

// chunks splits the body into packets of at most max bytes.
func chunks(body []byte, max int) [][]byte {
	var out [][]byte
	for len(body) > 0 {
		n := min(len(body), max)
		out = append(out, body[:n])
		body = body[n:]
	}
	return out
}
