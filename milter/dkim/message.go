package dkim

import (
	"bytes"
	"errors"
	"strings"

	"github.com/gomilter/gomilter/internal/mailmsg"
)

// ReadMessage splits a raw message (CRLF or LF lines; a leading mbox
// "From " line is skipped) into header fields, folding kept, and a CRLF
// body, for tools such as "gomilter dkim sign". The milter builds its
// mailmsg.Message from the protocol instead.
func ReadMessage(raw []byte) (*mailmsg.Message, error) {
	if bytes.HasPrefix(raw, []byte("From ")) {
		if i := bytes.IndexByte(raw, '\n'); i >= 0 {
			raw = raw[i+1:]
		}
	}
	raw = fixLF(raw)
	m := &mailmsg.Message{}
	for len(raw) > 0 {
		if bytes.HasPrefix(raw, crlf) {
			m.Body = raw[2:]
			return m, nil
		}
		end := fieldEnd(raw)
		line := string(raw[:end])
		raw = raw[end:]
		name, value, ok := strings.Cut(strings.TrimSuffix(line, "\r\n"), ":")
		if !ok || name == "" || strings.ContainsAny(name, " \t") {
			return nil, errors.New("dkim: malformed header field")
		}
		m.Header = append(m.Header, mailmsg.Field{Name: name, Value: value})
	}
	return m, nil
}

// fieldEnd returns the length of the first field with its continuations.
func fieldEnd(b []byte) int {
	end := 0
	for {
		i := bytes.Index(b[end:], crlf)
		if i < 0 {
			return len(b)
		}
		end += i + 2
		if end >= len(b) || (b[end] != ' ' && b[end] != '\t') {
			return end
		}
	}
}

// fixLF turns bare LF into CRLF.
func fixLF(b []byte) []byte {
	if bytes.Count(b, lf) == bytes.Count(b, crlf) {
		return b
	}
	out := make([]byte, 0, len(b)+len(b)/32)
	for i, c := range b {
		if c == '\n' && (i == 0 || b[i-1] != '\r') {
			out = append(out, '\r')
		}
		out = append(out, c)
	}
	return out
}

// TXTResolver returns the TXT resolver these options call for: the
// TestPublicKeys file when one is set (OpenDKIM's test mode), else r.
func (o *Options) TXTResolver(r TXTResolver) (TXTResolver, error) {
	if o.TestPublicKeys == "" {
		return r, nil
	}
	return LoadTestPublicKeys(o.TestPublicKeys)
}
