package sieve

import (
	"fmt"
	"strings"
)

// Compile-time checks of notify arguments the way Pigeonhole's enotify
// and mailto method do (RFC 5435 section 3, RFC 5436, RFC 6068).

// isQchar reports the characters RFC 6068 allows unencoded in a mailto
// URI part (unreserved and some-delims; '=' '&' '?' and '%' are handled
// by the parser).
func isQchar(c byte) bool {
	return c < 0x80 && (isIdentChar(c) || strings.IndexByte("!$'()*+,-.:;@~", c) >= 0)
}

func unhex(c byte) int {
	switch {
	case c >= '0' && c <= '9':
		return int(c - '0')
	case c >= 'a' && c <= 'f':
		return int(c-'a') + 10
	case c >= 'A' && c <= 'F':
		return int(c-'A') + 10
	}
	return -1
}

// pctDecode decodes "%XY" at s[p:]; NUL is refused.
func pctDecode(s string, p int) (byte, bool) {
	if p+2 >= len(s) {
		return 0, false
	}
	hi, lo := unhex(s[p+1]), unhex(s[p+2])
	if hi < 0 || lo < 0 || hi == 0 && lo == 0 {
		return 0, false
	}
	return byte(hi<<4 | lo), true
}

// mailtoRcpt is one recipient of a mailto URI: the text as written
// (for the To/Cc header) and the address to send to.
type mailtoRcpt struct {
	full, addr string
	cc         bool
}

// mailtoURI is a parsed mailto URI (RFC 6068).
type mailtoURI struct {
	rcpts   []mailtoRcpt
	headers [][2]string // other header fields, in order
	subject string
	body    string
}

// add checks and adds a recipient; a duplicate only upgrades Cc to To.
func (m *mailtoURI) add(r string, cc bool) string {
	a := parseSieveAddress(r)
	if a.err != "" {
		return fmt.Sprintf("invalid recipient '%s': %s", sanitize(r, 80), a.err)
	}
	addr := a.String()
	for i := range m.rcpts {
		if strings.EqualFold(m.rcpts[i].addr, addr) {
			m.rcpts[i].cc = m.rcpts[i].cc && cc
			return ""
		}
	}
	m.rcpts = append(m.rcpts, mailtoRcpt{full: r, addr: addr, cc: cc})
	return ""
}

// mailtoError checks the part of a mailto URI after "mailto:"; it
// returns why the URI is invalid, or "".
func mailtoError(body string) string {
	_, err := parseMailto(body)
	return err
}

// parseMailto parses the part of a mailto URI after "mailto:", as
// Pigeonhole does; err says why it is invalid.
func parseMailto(body string) (*mailtoURI, string) {
	m := &mailtoURI{}
	p := 0
	if p < len(body) && body[p] != '?' {
		var to []byte
		for p < len(body) && body[p] != '?' {
			c := body[p]
			if c == '%' {
				ch, ok := pctDecode(body, p)
				if !ok {
					return nil, "invalid % encoding"
				}
				p += 3
				if ch == ',' {
					if e := m.add(string(to), false); e != "" {
						return nil, e
					}
					to = to[:0]
				} else {
					to = append(to, ch)
				}
				continue
			}
			if c == ':' || c == ';' || c == ',' || !isQchar(c) {
				return nil, fmt.Sprintf("invalid character '%c' in 'to' part", c)
			}
			to = append(to, c)
			p++
		}
		if e := m.add(string(to), false); e != "" {
			return nil, e
		}
	}
	if p >= len(body) {
		return m, ""
	}
	if e := m.headerFields(body, p+1); e != "" {
		return nil, e
	}
	return m, ""
}

// mailtoPart reads a header name (up to '=') or value (up to '&').
func mailtoPart(body string, p int, end byte, what string) (string, int, string) {
	var b []byte
	for p < len(body) && body[p] != end {
		c := body[p]
		if c == '%' {
			ch, ok := pctDecode(body, p)
			if !ok {
				return "", p, "invalid % encoding"
			}
			b = append(b, ch)
			p += 3
			continue
		}
		if c != '=' && !isQchar(c) {
			return "", p, fmt.Sprintf("invalid character '%c' in header field %s part", c, what)
		}
		b = append(b, c)
		p++
	}
	if p < len(body) {
		p++
	}
	return string(b), p, ""
}

func (m *mailtoURI) headerFields(body string, p int) string {
	for p < len(body) {
		name, np, e := mailtoPart(body, p, '=', "name")
		if e != "" {
			return e
		}
		if !validFieldName(name) {
			return "invalid header field name"
		}
		val, np, e := mailtoPart(body, np, '&', "value")
		if e != "" {
			return e
		}
		p = np
		lname := strings.ToLower(name)
		if lname != "body" && !printableOrSpace(val) {
			return "invalid header field body"
		}
		switch lname {
		case "to", "cc":
			for _, r := range strings.Split(val, ",") {
				if e := m.add(r, lname == "cc"); e != "" {
					return e
				}
			}
		case "subject":
			if m.subject == "" {
				m.subject = val
			}
		case "body":
			if m.body == "" {
				m.body = val
			}
		default:
			m.headers = append(m.headers, [2]string{name, val})
		}
	}
	return ""
}

func printableOrSpace(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= 0x80 || (s[i] < 0x20 && s[i] != '\t') {
			return false
		}
	}
	return true
}

// notifyOptionError checks one :options item: optionname "=" value.
func notifyOptionError(opt string) string {
	if opt == "" {
		return "empty option specified"
	}
	isAlnum := func(c byte) bool { return c < 0x80 && isIdentChar(c) && c != '_' }
	p := 0
	if isAlnum(opt[0]) {
		for p = 1; p < len(opt) && (isAlnum(opt[p]) || strings.IndexByte(".-_", opt[p]) >= 0); p++ {
		}
	}
	if p == 0 || p >= len(opt) || opt[p] != '=' {
		return fmt.Sprintf("invalid option name specified in option '%s'", sanitize(opt, 80))
	}
	if strings.ContainsAny(opt[p+1:], "\r\n") {
		return fmt.Sprintf("notify command: invalid option value specified in option '%s'", sanitize(opt, 80))
	}
	return ""
}
