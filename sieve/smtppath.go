package sieve

import "strings"

// ParsePath parses an SMTP reverse-path (sender true) or forward-path as
// given in MAIL FROM / RCPT TO (RFC 5321 section 4.1.2), the way Dovecot
// does for Sieve: the angle brackets are optional, a source route
// ("@a,@b:") is accepted and dropped, dots may stand anywhere in a
// dot-string local part, and sub-domains may hold '-' and '_' anywhere.
// A sender may be the null path ("" or "<>", returned as ""); a recipient
// may be a bare local part (as "<MAILER-DAEMON>"). It returns the address
// as Envelope expects it, or ok false for a path that is no valid address.
func ParsePath(path string, sender bool) (addr string, ok bool) {
	if path == "" {
		return "", sender
	}
	p := &smtpParser{s: path}
	bracketed := p.eat('<')
	routed := false
	if bracketed {
		r, ok := p.sourceRoute()
		if !ok {
			return "", false
		}
		routed = r
	}
	local, domain, res := p.mailbox(!sender)
	if res < 0 {
		return "", false
	}
	if res == 0 {
		// No local part: only "<>" of a sender is acceptable.
		if p.cur() != '>' || routed || !sender {
			return "", false
		}
	}
	if bracketed && !p.eat('>') {
		return "", false
	}
	if !p.atEnd() {
		return "", false // unmatched '>' or other trailing characters
	}
	if res == 0 {
		return "", true
	}
	if domain == "" {
		return local, true
	}
	return local + "@" + domain, true
}

type smtpParser struct {
	s string
	p int
}

func (p *smtpParser) atEnd() bool { return p.p >= len(p.s) }

func (p *smtpParser) cur() byte {
	if p.p < len(p.s) {
		return p.s[p.p]
	}
	return 0
}

func (p *smtpParser) eat(c byte) bool {
	if p.cur() == c && !p.atEnd() {
		p.p++
		return true
	}
	return false
}

// smtpAtext is RFC 5321 atext (ASCII only).
func smtpAtext(c byte) bool { return c < 0x80 && isAtext(c) }

func domainChar(c byte) bool { return c < 0x80 && (isIdentChar(c) || c == '-') }

// sourceRoute reads [ "@" Domain *( "," "@" Domain ) ":" ].
func (p *smtpParser) sourceRoute() (routed, ok bool) {
	if !p.eat('@') {
		return false, true
	}
	for {
		if _, r := p.domain(); r <= 0 {
			return false, false
		}
		if !p.eat(',') {
			break
		}
		if !p.eat('@') {
			return false, false
		}
	}
	return true, p.eat(':')
}

// domain reads sub-domains separated by dots: 1 ok, 0 none, -1 broken.
func (p *smtpParser) domain() (string, int) {
	start := p.p
	if !domainChar(p.cur()) {
		return "", 0
	}
	for {
		if p.atEnd() || p.cur() == '.' {
			return "", -1 // empty sub-domain
		}
		if !domainChar(p.cur()) {
			return "", -1
		}
		for p.p < len(p.s) && domainChar(p.s[p.p]) {
			p.p++
		}
		if !p.eat('.') {
			return p.s[start:p.p], 1
		}
	}
}

// addressLiteral reads "[" dcontent "]".
func (p *smtpParser) addressLiteral() (string, int) {
	if p.cur() != '[' {
		return "", 0
	}
	start := p.p
	for p.p++; p.p < len(p.s); p.p++ {
		switch c := p.s[p.p]; {
		case c == ']':
			p.p++
			return p.s[start:p.p], 1
		case c == '[' || c == '\\' || c < 33 || c > 126:
			return "", -1
		}
	}
	return "", -1
}

// localPart reads a quoted string (returned re-quoted unless it is a
// dot-atom) or a dot-string (returned as written, odd dots included).
func (p *smtpParser) localPart() (string, int) {
	if p.cur() == '"' && !p.atEnd() {
		var b strings.Builder
		for p.p++; p.p < len(p.s); p.p++ {
			c := p.s[p.p]
			switch {
			case c == '"':
				p.p++
				return quoteLocal(b.String()), 1
			case c == '\\' && p.p+1 < len(p.s) && p.s[p.p+1] >= 32 && p.s[p.p+1] <= 126:
				p.p++
				b.WriteByte(p.s[p.p])
			case c < 32 || c > 126 || c == '\\':
				return "", -1
			default:
				b.WriteByte(c)
			}
		}
		return "", -1
	}
	start := p.p
	for p.p < len(p.s) && (smtpAtext(p.s[p.p]) || p.s[p.p] == '.') {
		p.p++
	}
	if p.p == start {
		return "", 0
	}
	return p.s[start:p.p], 1
}

// mailbox reads Local-part [ "@" ( Domain / address-literal ) ]; the
// domain may be left out only when localOnly allows it.
func (p *smtpParser) mailbox(localOnly bool) (local, domain string, res int) {
	local, res = p.localPart()
	if res <= 0 {
		return "", "", res
	}
	if p.cur() != '@' || p.atEnd() {
		if !localOnly {
			return "", "", -1
		}
		return local, "", 1
	}
	p.p++
	domain, res = p.domain()
	if res == 0 {
		domain, res = p.addressLiteral()
	}
	if res <= 0 {
		return "", "", -1
	}
	return local, domain, 1
}
