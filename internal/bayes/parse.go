package bayes

import (
	"bytes"

	"github.com/gomilter/gomilter/internal/mailmsg"
)

// ParseMessage splits a raw RFC 5322 message (CRLF or LF line ends, an
// optional mbox "From " line first) into header fields and a CRLF body. It
// never fails: a line that is not a field ends the header, as in
// SpamAssassin, and everything after it is body.
func ParseMessage(raw []byte) *mailmsg.Message {
	if bytes.HasPrefix(raw, []byte("From ")) {
		if i := bytes.IndexByte(raw, '\n'); i >= 0 {
			raw = raw[i+1:]
		} else {
			raw = nil
		}
	}
	msg := &mailmsg.Message{}
	rest := raw
	var folded []byte
	for len(rest) > 0 {
		line, next := cutLine(rest)
		if len(trimCRLF(line)) == 0 {
			rest = next
			break
		}
		if line[0] == ' ' || line[0] == '\t' {
			break // a continuation line with no field to continue
		}
		name, val, ok := bytes.Cut(line, []byte(":"))
		if !ok || len(name) == 0 || bytes.ContainsAny(name, " \t") {
			break // body without a separating blank line
		}
		rest = next
		f := mailmsg.Field{Name: string(name)}
		if !isContinuation(rest) {
			f.Value = string(trimCRLF(val))
		} else {
			// The lines of a folded field join with CRLF, built once.
			folded = append(folded[:0], trimCRLF(val)...)
			for isContinuation(rest) {
				line, rest = cutLine(rest)
				folded = append(append(folded, "\r\n"...), trimCRLF(line)...)
			}
			f.Value = string(folded)
		}
		msg.Header = append(msg.Header, f)
	}
	msg.Body = toCRLF(rest)
	return msg
}

func isContinuation(b []byte) bool { return len(b) > 0 && (b[0] == ' ' || b[0] == '\t') }

func trimCRLF(b []byte) []byte { return bytes.TrimRight(b, "\r\n") }

func cutLine(b []byte) (line, rest []byte) {
	if i := bytes.IndexByte(b, '\n'); i >= 0 {
		return b[:i+1], b[i+1:]
	}
	return b, nil
}

// toCRLF converts bare LF line ends to CRLF.
func toCRLF(b []byte) []byte {
	if !bytes.Contains(b, []byte("\n")) || bytes.Count(b, []byte("\r\n")) == bytes.Count(b, []byte("\n")) {
		return b
	}
	out := make([]byte, 0, len(b)+len(b)/30)
	for len(b) > 0 {
		i := bytes.IndexByte(b, '\n')
		if i < 0 {
			return append(out, b...)
		}
		out = append(out, b[:i]...)
		if i == 0 || b[i-1] != '\r' {
			out = append(out, '\r')
		}
		out = append(out, '\n')
		b = b[i+1:]
	}
	return out
}
