package bayes

import (
	"bytes"
	"strings"

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
	for len(rest) > 0 {
		line, next := cutLine(rest)
		if len(bytes.TrimRight(line, "\r\n")) == 0 {
			rest = next
			break
		}
		if (line[0] == ' ' || line[0] == '\t') && len(msg.Header) > 0 {
			f := &msg.Header[len(msg.Header)-1]
			f.Value += "\r\n" + strings.TrimRight(string(line), "\r\n")
			rest = next
			continue
		}
		name, val, ok := bytes.Cut(line, []byte(":"))
		if !ok || len(name) == 0 || bytes.ContainsAny(name, " \t") {
			break // body without a separating blank line
		}
		msg.Header = append(msg.Header, mailmsg.Field{Name: string(name), Value: strings.TrimRight(string(val), "\r\n")})
		rest = next
	}
	msg.Body = toCRLF(rest)
	return msg
}

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
	for i, c := range b {
		if c == '\n' && (i == 0 || b[i-1] != '\r') {
			out = append(out, '\r')
		}
		out = append(out, c)
	}
	return out
}
