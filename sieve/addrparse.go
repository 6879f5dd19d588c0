package sieve

import "strings"

// This file parses the addresses a script gives to redirect, vacation
// :from/:addresses and mailto URIs: RFC 5228 section 2.4.2.3 allows
// "addr-spec" or "phrase <addr-spec>". It follows RFC 5322 with the
// leniencies of Dovecot's parser (white space and comments around dots,
// dots at odd places in the local part) and reports why an address is
// refused, in Pigeonhole's words.

// rfcParser walks RFC 5322 syntax; at the end cur() is 0, like the NUL a
// C parser would see.
type rfcParser struct {
	s string
	p int
}

func (r *rfcParser) cur() byte {
	if r.p < len(r.s) {
		return r.s[r.p]
	}
	return 0
}

func (r *rfcParser) atEnd() bool { return r.p >= len(r.s) }

// more is 1 when input is left, 0 at the end (Dovecot's convention; -1
// is an error).
func (r *rfcParser) more() int {
	if r.atEnd() {
		return 0
	}
	return 1
}

// isAtext: RFC 5322 atext, plus any 8-bit byte (UTF-8).
func isAtext(c byte) bool {
	if c >= 0x80 {
		return true
	}
	if isIdentChar(c) {
		return true
	}
	return strings.IndexByte("!#$%&'*+-/=?^`{|}~", c) >= 0
}

func (r *rfcParser) skipComment() int {
	level := 1
	for r.p++; r.p < len(r.s); r.p++ {
		switch r.s[r.p] {
		case '(':
			level++
		case ')':
			if level--; level == 0 {
				r.p++
				return r.more()
			}
		case '\\':
			if r.p++; r.p >= len(r.s) {
				return -1
			}
			if c := r.s[r.p]; c == '\r' || c == '\n' || c == 0 {
				r.p--
			}
		}
	}
	return -1
}

// skipLWSP skips white space and comments.
func (r *rfcParser) skipLWSP() int {
	for r.p < len(r.s) {
		switch r.s[r.p] {
		case ' ', '\t', '\r', '\n':
			r.p++
			continue
		case '(':
			if r.skipComment() < 0 {
				return -1
			}
			continue
		}
		break
	}
	return r.more()
}

func (r *rfcParser) atom(b *strings.Builder) int {
	if r.atEnd() || !isAtext(r.cur()) {
		return -1
	}
	start := r.p
	for r.p++; r.p < len(r.s) && isAtext(r.s[r.p]); r.p++ {
	}
	b.WriteString(r.s[start:r.p])
	if r.atEnd() {
		return 0
	}
	return r.skipLWSP()
}

// dotAtom reads atoms separated by dots, with white space allowed around
// the dots for RFC 822 compatibility.
func (r *rfcParser) dotAtom(b *strings.Builder) int {
	for {
		if r.atom(b) < 0 {
			return -1
		}
		if r.atEnd() {
			return 0
		}
		if r.cur() != '.' {
			return 1
		}
		r.p++
		b.WriteByte('.')
		if r.skipLWSP() <= 0 {
			return -1
		}
	}
}

func (r *rfcParser) quoted(b *strings.Builder) int {
	for r.p++; r.p < len(r.s); r.p++ {
		switch c := r.s[r.p]; c {
		case '"':
			r.p++
			return r.skipLWSP()
		case '\n':
			// folding: the line break is dropped
			s := b.String()
			if strings.HasSuffix(s, "\r") {
				b.Reset()
				b.WriteString(s[:len(s)-1])
			}
		case '\\':
			if r.p+1 >= len(r.s) {
				return -1
			}
			if n := r.s[r.p+1]; n != '\r' && n != '\n' && n != 0 {
				r.p++
				b.WriteByte(n)
			} else {
				b.WriteByte(c)
			}
		default:
			b.WriteByte(c)
		}
	}
	return -1
}

// phrase reads 1*word / obs-phrase (words may contain dots).
func (r *rfcParser) phrase(b *strings.Builder) int {
	if r.atEnd() {
		return 0
	}
	if r.cur() == '.' {
		return -1
	}
	for {
		var ret int
		if r.cur() == '"' {
			ret = r.quoted(b)
		} else {
			start := r.p
			for r.p < len(r.s) && (isAtext(r.s[r.p]) || r.s[r.p] == '.') {
				r.p++
			}
			b.WriteString(r.s[start:r.p])
			ret = r.more()
			if ret > 0 {
				ret = r.skipLWSP()
			}
		}
		if ret <= 0 {
			return ret
		}
		if c := r.cur(); !isAtext(c) && c != '"' && c != '.' {
			break
		}
		b.WriteByte(' ')
	}
	return r.skipLWSP()
}

func (r *rfcParser) domainLiteral(b *strings.Builder) int {
	start := r.p
	for r.p++; r.p < len(r.s); r.p++ {
		switch r.s[r.p] {
		case '[':
			return -1
		case ']':
			r.p++
			b.WriteString(r.s[start:r.p])
			return r.skipLWSP()
		case '\\':
			if r.p+1 >= len(r.s) {
				return -1
			}
			r.p++
		}
	}
	return -1
}

// domain reads "@" domain.
func (r *rfcParser) domain(b *strings.Builder) int {
	r.p++ // '@'
	if r.skipLWSP() <= 0 {
		return -1
	}
	if r.cur() == '[' {
		return r.domainLiteral(b)
	}
	return r.dotAtom(b)
}

// sieveAddress is the parse of one address argument.
type sieveAddress struct {
	local, domain string
	err           string // why the address is invalid; "" when valid
}

// parseSieveAddress parses addr-spec or phrase "<" addr-spec ">".
func parseSieveAddress(s string) sieveAddress {
	r := &rfcParser{s: s}
	var a sieveAddress
	r.skipLWSP()
	if r.atEnd() {
		return sieveAddress{err: "empty address"}
	}
	if !a.mailbox(r) {
		return a
	}
	switch {
	case !r.atEnd() && r.cur() == ',':
		a.err = "not a single address (found ',')"
	case !r.atEnd():
		a.err = "address ends in invalid characters"
	case a.domain == "":
		a.err = "missing domain"
	case a.local == "":
		a.err = "missing local part"
	}
	return a
}

func (a *sieveAddress) fail(reason string) bool {
	if a.err == "" {
		a.err = reason
	}
	return false
}

func (a *sieveAddress) mailbox(r *rfcParser) bool {
	start := r.p
	var name strings.Builder
	if r.phrase(&name) <= 0 || r.cur() != '<' {
		r.p = start
		return a.addrSpec(r)
	}
	r.p++
	if ret := r.skipLWSP(); ret <= 0 {
		if ret < 0 {
			return a.fail("invalid characters after <")
		}
		return true // nothing after '<': reported as a missing domain
	}
	if !a.addrSpec(r) {
		return false
	}
	if r.cur() != '>' {
		return a.fail("missing '>'")
	}
	r.p++
	if r.skipLWSP() < 0 {
		return a.fail("address ends with invalid characters")
	}
	return true
}

func (a *sieveAddress) addrSpec(r *rfcParser) bool {
	ret, ok := a.localPart(r)
	if !ok {
		return false
	}
	if ret > 0 && r.cur() == '@' {
		var d strings.Builder
		if r.domain(&d) < 0 {
			return a.fail("invalid or missing domain")
		}
		a.domain = d.String()
		return true
	}
	return a.fail("invalid or lonely local part '" + sanitize(a.local, 80) + "' (expecting '@')")
}

// localPart reads dot-atom or quoted-string; like Dovecot it accepts dots
// anywhere in an unquoted local part.
func (a *sieveAddress) localPart(r *rfcParser) (int, bool) {
	if r.atEnd() {
		return -1, a.fail("empty local part")
	}
	var b strings.Builder
	ret := -1
	if r.cur() == '"' {
		ret = r.quoted(&b)
	} else {
	loop:
		for {
			for r.cur() == '.' && !r.atEnd() {
				b.WriteByte('.')
				r.p++
				if r.atEnd() {
					a.local = b.String()
					return 0, true // "@domain" is missing
				}
				ret = 1
			}
			if r.cur() == '@' {
				break
			}
			if ret = r.atom(&b); ret <= 0 || r.cur() != '.' {
				break loop
			}
		}
	}
	a.local = b.String()
	if ret < 0 || !printableASCII(a.local) {
		return -1, a.fail("invalid local part")
	}
	return ret, true
}

func printableASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < 0x20 || s[i] > 0x7e {
			return false
		}
	}
	return true
}

// String gives the address in SMTP form: the local part quoted when it
// is no dot-atom, the domain in lower case.
func (a sieveAddress) String() string {
	return quoteLocal(a.local) + "@" + strings.ToLower(a.domain)
}

func quoteLocal(l string) string {
	if isDotAtom(l) {
		return l
	}
	var b strings.Builder
	b.WriteByte('"')
	for i := 0; i < len(l); i++ {
		if l[i] == '"' || l[i] == '\\' {
			b.WriteByte('\\')
		}
		b.WriteByte(l[i])
	}
	b.WriteByte('"')
	return b.String()
}

func isDotAtom(s string) bool {
	if s == "" || s[0] == '.' || s[len(s)-1] == '.' || strings.Contains(s, "..") {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] != '.' && (!isAtext(s[i]) || s[i] >= 0x80) {
			return false
		}
	}
	return true
}
