package sieve

import (
	"bytes"
	"io"
	"mime"
	"strings"

	"github.com/gomilter/gomilter/internal/mailmsg"
)

// msgState is the message during a run. Header edits replace the header
// slice, never modify it in place, so snapshots taken by actions stay valid.
type msgState struct {
	header []mailmsg.Field
	body   []byte
	parts  *mimePart
}

func newMsgState(m *mailmsg.Message) *msgState {
	return &msgState{header: m.Header, body: m.Body}
}

func (m *msgState) snapshot() *mailmsg.Message {
	return &mailmsg.Message{Header: m.header, Body: m.body}
}

func (m *msgState) size() int {
	n := len(m.body) + 2
	for _, f := range m.header {
		n += len(f.Name) + len(f.Value) + 3
	}
	return n
}

var wordDecoder = &mime.WordDecoder{CharsetReader: func(cs string, in io.Reader) (io.Reader, error) {
	return charsetReader(cs, in)
}}

// decodeHeader unfolds a raw value, trims it and decodes RFC 2047 words.
func decodeHeader(v string) string {
	v = unfold(v)
	if strings.Contains(v, "=?") {
		if d, err := wordDecoder.DecodeHeader(v); err == nil {
			return d
		}
	}
	return v
}

func unfold(v string) string {
	if strings.ContainsAny(v, "\r\n") {
		v = strings.ReplaceAll(v, "\r\n", "")
		v = strings.ReplaceAll(v, "\n", "")
	}
	return strings.Trim(v, " \t")
}

// fieldValues returns the values of the named fields of a header list.
func fieldValues(h []mailmsg.Field, name string, decode bool) []string {
	var out []string
	for _, f := range h {
		if strings.EqualFold(f.Name, name) {
			if decode {
				out = append(out, decodeHeader(f.Value))
			} else {
				out = append(out, unfold(f.Value))
			}
		}
	}
	return out
}

// ParseMessage splits raw message text into header fields and body,
// accepting LF or CRLF line ends and normalising to CRLF.
func ParseMessage(raw []byte) *mailmsg.Message {
	m := &mailmsg.Message{}
	s := string(raw)
	for len(s) > 0 {
		end := strings.IndexByte(s, '\n')
		line := s
		if end >= 0 {
			line = s[:end]
		}
		trimmed := strings.TrimSuffix(line, "\r")
		if trimmed == "" {
			if end >= 0 {
				s = s[end+1:]
			} else {
				s = ""
			}
			m.Body = toCRLF([]byte(s))
			return m
		}
		if (trimmed[0] == ' ' || trimmed[0] == '\t') && len(m.Header) > 0 {
			m.Header[len(m.Header)-1].Value += "\r\n" + trimmed
		} else if colon := strings.IndexByte(trimmed, ':'); colon > 0 {
			m.Header = append(m.Header, mailmsg.Field{Name: strings.TrimRight(trimmed[:colon], " \t"), Value: trimmed[colon+1:]})
		} else {
			// Not a header line: the body starts here (Dovecot does the same).
			m.Body = toCRLF([]byte(s))
			return m
		}
		if end < 0 {
			break
		}
		s = s[end+1:]
	}
	return m
}

func toCRLF(b []byte) []byte {
	if !bytes.Contains(b, []byte("\n")) {
		return b
	}
	var out bytes.Buffer
	out.Grow(len(b) + len(b)/40)
	for i := 0; i < len(b); i++ {
		if b[i] == '\n' && (i == 0 || b[i-1] != '\r') {
			out.WriteByte('\r')
		}
		out.WriteByte(b[i])
	}
	return out.Bytes()
}

// FormatMessage renders a message as wire text.
func FormatMessage(m *mailmsg.Message) []byte {
	var b bytes.Buffer
	for _, f := range m.Header {
		b.WriteString(f.Raw())
	}
	b.WriteString("\r\n")
	b.Write(m.Body)
	return b.Bytes()
}
