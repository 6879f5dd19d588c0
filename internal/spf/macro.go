package spf

import (
	"net/netip"
	"strings"
)

// macroRef is one parsed %{...} macro-expand (RFC 7208 section 7.1).
type macroRef struct {
	letter  byte // lower case
	upper   bool // URL-escape the result
	digits  int  // keep this many right-hand parts; 0 = all
	reverse bool
	delims  string
}

// scanMacros walks a macro-string, calling lit for literal text and mac
// for each macro-expand. In explanation text (expText) spaces are literal
// and the letters c, r and t are allowed (RFC 7208 sections 6.2, 7.2).
func scanMacros(s string, expText bool, lit func(string), mac func(macroRef) error) error {
	for i := 0; i < len(s); {
		c := s[i]
		if c != '%' {
			if (c < 0x21 || c > 0x7e) && !(expText && c == ' ') {
				return synErr("invalid character 0x%02x in %q", c, s)
			}
			j := i + 1
			for j < len(s) && s[j] != '%' {
				j++
			}
			if err := checkLiteral(s[i:j], expText); err != nil {
				return err
			}
			lit(s[i:j])
			i = j
			continue
		}
		if i+1 >= len(s) {
			return synErr("lone %% at end of %q", s)
		}
		switch s[i+1] {
		case '%':
			lit("%")
		case '_':
			lit(" ")
		case '-':
			lit("%20")
		case '{':
			end := strings.IndexByte(s[i:], '}')
			if end < 0 {
				return synErr("unterminated macro in %q", s)
			}
			m, err := parseMacro(s[i+2:i+end], expText)
			if err != nil {
				return err
			}
			if err := mac(m); err != nil {
				return err
			}
			i += end + 1
			continue
		default:
			return synErr("invalid %% escape in %q", s)
		}
		i += 2
	}
	return nil
}

func checkLiteral(s string, expText bool) error {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if (c < 0x21 || c > 0x7e) && !(expText && c == ' ') {
			return synErr("invalid character 0x%02x", c)
		}
	}
	return nil
}

// parseMacro parses the inside of %{...}: letter, transformers, delimiters.
func parseMacro(body string, expText bool) (macroRef, error) {
	var m macroRef
	if body == "" {
		return m, synErr("empty macro")
	}
	c := body[0]
	if c >= 'A' && c <= 'Z' {
		m.upper, c = true, c+'a'-'A'
	}
	switch c {
	case 's', 'l', 'o', 'd', 'i', 'p', 'h', 'v':
	case 'c', 'r', 't':
		if !expText {
			return m, synErr("macro %%{%c} only allowed in exp text", body[0])
		}
	default:
		return m, synErr("unknown macro letter %q", body[0])
	}
	m.letter = c
	i := 1
	for i < len(body) && isDigit(body[i]) {
		if m.digits > 1000 {
			return m, synErr("macro digits too large")
		}
		m.digits = m.digits*10 + int(body[i]-'0')
		i++
	}
	if i > 1 && m.digits == 0 {
		return m, synErr("macro digits must be non-zero")
	}
	if i < len(body) && (body[i] == 'r' || body[i] == 'R') {
		m.reverse = true
		i++
	}
	for ; i < len(body); i++ {
		if strings.IndexByte(".-+,/_=", body[i]) < 0 {
			return m, synErr("invalid macro delimiter %q", body[i])
		}
	}
	m.delims = body[1:]
	m.delims = strings.TrimLeft(m.delims, "0123456789")
	m.delims = strings.TrimPrefix(strings.TrimPrefix(m.delims, "r"), "R")
	return m, nil
}

// checkMacroString validates a macro-string without expanding it.
func checkMacroString(s string, expText bool) error {
	return scanMacros(s, expText, func(string) {}, func(macroRef) error { return nil })
}

// transform applies digits, reversal and delimiters, then URL escaping
// (RFC 7208 section 7.3).
func (m macroRef) transform(v string) string {
	delims := m.delims
	if delims == "" {
		delims = "."
	}
	parts := splitAny(v, delims)
	if m.reverse {
		for i, j := 0, len(parts)-1; i < j; i, j = i+1, j-1 {
			parts[i], parts[j] = parts[j], parts[i]
		}
	}
	if m.digits > 0 && m.digits < len(parts) {
		parts = parts[len(parts)-m.digits:]
	}
	out := strings.Join(parts, ".")
	if m.upper {
		out = urlEscape(out)
	}
	return out
}

func splitAny(s, delims string) []string {
	var parts []string
	start := 0
	for i := 0; i < len(s); i++ {
		if strings.IndexByte(delims, s[i]) >= 0 {
			parts = append(parts, s[start:i])
			start = i + 1
		}
	}
	return append(parts, s[start:])
}

// urlEscape escapes everything outside the RFC 3986 unreserved set.
func urlEscape(s string) string {
	const hex = "0123456789ABCDEF"
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		if isAlpha(c) || isDigit(c) || c == '-' || c == '.' || c == '_' || c == '~' {
			b.WriteByte(c)
			continue
		}
		b.WriteByte('%')
		b.WriteByte(hex[c>>4])
		b.WriteByte(hex[c&15])
	}
	return b.String()
}

// ipMacro renders %{i}: dotted quad, or 32 dot-separated nibbles for IPv6.
func ipMacro(ip netip.Addr) string {
	if ip.Is4() {
		return ip.String()
	}
	// Upper-case nibbles, as in the RFC 7208 section 7.4 example.
	const hex = "0123456789ABCDEF"
	a := ip.As16()
	b := make([]byte, 0, 63)
	for i, x := range a {
		if i > 0 {
			b = append(b, '.')
		}
		b = append(b, hex[x>>4], '.', hex[x&15])
	}
	return string(b)
}
