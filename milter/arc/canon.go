package arc

import (
	"bytes"
	"crypto/sha256"
	"hash"
	"strings"
)

// relaxedHeader is RFC 6376 section 3.4.2: lowercase name, unfold,
// collapse WSP runs, trim, no space around the colon. With crlf the
// result ends in CRLF (every hashed field but the signature itself).
func relaxedHeader(name, value string, crlf bool) string {
	var b strings.Builder
	b.WriteString(strings.ToLower(strings.TrimRight(name, " \t")))
	b.WriteByte(':')
	v := strings.NewReplacer("\r\n", "", "\n", "", "\r", "").Replace(value)
	space, started := false, false
	for i := 0; i < len(v); i++ {
		c := v[i]
		if c == ' ' || c == '\t' {
			space = true
			continue
		}
		if space && started {
			b.WriteByte(' ')
		}
		space, started = false, true
		b.WriteByte(c)
	}
	if crlf {
		b.WriteString("\r\n")
	}
	return b.String()
}

// simpleHeader is RFC 6376 section 3.4.1: the field unchanged.
func simpleHeader(name, value string, crlf bool) string {
	s := name + ":" + value
	if crlf {
		s += "\r\n"
	}
	return s
}

// bodyHash hashes the canonicalized body, limited to l bytes if l >= 0.
func bodyHash(body []byte, relaxed bool, l int64) []byte {
	var c []byte
	if relaxed {
		c = relaxedBody(body)
	} else {
		c = simpleBody(body)
	}
	if l >= 0 && int64(len(c)) > l {
		c = c[:l]
	}
	h := sha256.Sum256(c)
	return h[:]
}

// simpleBody drops trailing empty lines; an empty body becomes CRLF.
func simpleBody(body []byte) []byte {
	b := normalizeCRLF(body)
	for bytes.HasSuffix(b, []byte("\r\n\r\n")) {
		b = b[:len(b)-2]
	}
	if len(b) == 0 || !bytes.HasSuffix(b, []byte("\r\n")) {
		b = append(b, '\r', '\n')
	}
	return b
}

// relaxedBody: trailing WSP removed, WSP runs collapsed, trailing empty
// lines dropped; an empty body stays empty.
func relaxedBody(body []byte) []byte {
	lines := bytes.Split(normalizeCRLF(body), []byte("\r\n"))
	var out bytes.Buffer
	for _, l := range lines {
		out.Write(collapseWSP(l))
		out.WriteString("\r\n")
	}
	b := out.Bytes()
	for bytes.HasSuffix(b, []byte("\r\n\r\n")) {
		b = b[:len(b)-2]
	}
	if bytes.Equal(b, []byte("\r\n")) {
		return nil
	}
	return b
}

func collapseWSP(l []byte) []byte {
	out := make([]byte, 0, len(l))
	space := false
	for _, c := range l {
		if c == ' ' || c == '\t' {
			space = true
			continue
		}
		if space {
			out = append(out, ' ')
		}
		space = false
		out = append(out, c)
	}
	return out
}

// normalizeCRLF turns bare LF into CRLF so LF-only test input works.
func normalizeCRLF(b []byte) []byte {
	if !bytes.Contains(b, []byte("\n")) || bytes.Count(b, []byte("\r\n")) == bytes.Count(b, []byte("\n")) {
		return append([]byte(nil), b...)
	}
	b = bytes.ReplaceAll(b, []byte("\r\n"), []byte("\n"))
	return bytes.ReplaceAll(b, []byte("\n"), []byte("\r\n"))
}

func newHash() hash.Hash { return sha256.New() }
