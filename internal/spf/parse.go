package spf

import (
	"errors"
	"fmt"
	"net/netip"
	"strconv"
	"strings"
)

// mechKind is one of the eight mechanisms of RFC 7208 section 5.
type mechKind uint8

const (
	mechAll mechKind = iota
	mechInclude
	mechA
	mechMX
	mechPTR
	mechIP4
	mechIP6
	mechExists
)

var mechNames = map[string]mechKind{
	"all": mechAll, "include": mechInclude, "a": mechA, "mx": mechMX,
	"ptr": mechPTR, "ip4": mechIP4, "ip6": mechIP6, "exists": mechExists,
}

// directive is one parsed [qualifier] mechanism.
type directive struct {
	qual   Code
	kind   mechKind
	domain string       // domain-spec, unexpanded; "" means <domain>
	prefix netip.Prefix // ip4/ip6 network
	cidr4  int          // a/mx IPv4 prefix length, 32 if absent
	cidr6  int          // a/mx IPv6 prefix length, 128 if absent
	text   string       // the term as written, for Received-SPF mechanism=
}

// record is a parsed SPF record (RFC 7208 section 4.6.1).
type record struct {
	directives []directive
	redirect   string // domain-spec; "" if absent
	exp        string // domain-spec; "" if absent
}

// syntaxError is a record syntax error; check_host() maps it to permerror.
type syntaxError struct{ msg string }

func (e *syntaxError) Error() string { return "spf syntax: " + e.msg }

func synErr(format string, args ...any) error {
	return &syntaxError{msg: fmt.Sprintf(format, args...)}
}

// isSPFRecord reports whether a TXT string is an SPF version 1 record:
// "v=spf1" followed by a space or the end (RFC 7208 section 4.5).
func isSPFRecord(txt string) bool {
	if len(txt) < 6 || !strings.EqualFold(txt[:6], "v=spf1") {
		return false
	}
	return len(txt) == 6 || txt[6] == ' '
}

// parseRecord parses a whole record. Terms are separated by one or more
// SP characters only; any other control or non-ASCII byte is an error
// (RFC 7208 sections 3.1, 4.6.1).
func parseRecord(txt string) (*record, error) {
	if !isSPFRecord(txt) {
		return nil, synErr("not an SPF record")
	}
	rec := &record{}
	for _, term := range strings.Split(txt[6:], " ") {
		if term == "" {
			continue
		}
		for i := 0; i < len(term); i++ {
			if term[i] <= 0x20 || term[i] >= 0x7f {
				return nil, synErr("invalid character 0x%02x in %q", term[i], term)
			}
		}
		if err := rec.addTerm(term); err != nil {
			return nil, err
		}
	}
	return rec, nil
}

func (rec *record) addTerm(term string) error {
	if name, value, ok := splitModifier(term); ok {
		return rec.addModifier(term, name, value)
	}
	d, err := parseDirective(term)
	if err != nil {
		return err
	}
	rec.directives = append(rec.directives, d)
	return nil
}

// splitModifier recognises name "=" value where name = ALPHA *(ALPHA /
// DIGIT / "-" / "_" / ".") (RFC 7208 section 12).
func splitModifier(term string) (name, value string, ok bool) {
	eq := strings.IndexByte(term, '=')
	if eq <= 0 {
		return "", "", false
	}
	name = term[:eq]
	if !isAlpha(name[0]) {
		return "", "", false
	}
	for i := 1; i < len(name); i++ {
		c := name[i]
		if !isAlpha(c) && !isDigit(c) && c != '-' && c != '_' && c != '.' {
			return "", "", false
		}
	}
	return name, term[eq+1:], true
}

func (rec *record) addModifier(term, name, value string) error {
	switch strings.ToLower(name) {
	case "redirect", "exp":
		if err := checkDomainSpec(value); err != nil {
			return err
		}
		dst := &rec.redirect
		if strings.EqualFold(name, "exp") {
			dst = &rec.exp
		}
		if *dst != "" {
			return synErr("duplicate modifier %q", name)
		}
		*dst = value
		return nil
	default:
		// Unknown modifiers are ignored, but their value must still be a
		// valid macro-string (RFC 7208 section 6).
		return checkMacroString(value, false)
	}
}

func parseDirective(term string) (directive, error) {
	d := directive{qual: Pass, text: term, cidr4: 32, cidr6: 128}
	switch term[0] {
	case '+':
		d.qual, term = Pass, term[1:]
	case '-':
		d.qual, term = Fail, term[1:]
	case '~':
		d.qual, term = SoftFail, term[1:]
	case '?':
		d.qual, term = Neutral, term[1:]
	}
	end := strings.IndexAny(term, ":/")
	if end < 0 {
		end = len(term)
	}
	kind, ok := mechNames[strings.ToLower(term[:end])]
	if !ok {
		return d, synErr("unknown mechanism %q", d.text)
	}
	d.kind = kind
	return d, d.parseArgs(term[end:])
}

// parseArgs parses what follows the mechanism name: ":" domain-spec and/or
// a dual CIDR length, depending on the mechanism.
func (d *directive) parseArgs(rest string) error {
	switch d.kind {
	case mechAll:
		if rest != "" {
			return synErr("all takes no argument: %q", d.text)
		}
	case mechInclude, mechExists:
		if !strings.HasPrefix(rest, ":") {
			return synErr("%q needs a domain", d.text)
		}
		d.domain = rest[1:]
		return checkDomainSpec(d.domain)
	case mechPTR:
		if rest == "" {
			return nil
		}
		if rest[0] != ':' {
			return synErr("bad ptr argument %q", d.text)
		}
		d.domain = rest[1:]
		return checkDomainSpec(d.domain)
	case mechA, mechMX:
		return d.parseDomainCIDR(rest)
	case mechIP4, mechIP6:
		return d.parseIP(rest)
	}
	return nil
}

func (d *directive) parseDomainCIDR(rest string) error {
	spec, cidr := rest, ""
	if i := cidrStart(rest); i >= 0 {
		spec, cidr = rest[:i], rest[i:]
	}
	if spec != "" {
		if spec[0] != ':' {
			return synErr("bad argument %q", d.text)
		}
		d.domain = spec[1:]
		if err := checkDomainSpec(d.domain); err != nil {
			return err
		}
	}
	if cidr == "" {
		return nil
	}
	v4, v6, hasV6 := cidr, "", false
	if i := strings.Index(cidr, "//"); i >= 0 {
		v4, v6, hasV6 = cidr[:i], cidr[i+2:], true
	}
	var err error
	if v4 != "" {
		if d.cidr4, err = parseCIDRLen(v4[1:], 32); err != nil {
			return err
		}
	}
	if hasV6 {
		if d.cidr6, err = parseCIDRLen(v6, 128); err != nil {
			return err
		}
	}
	return nil
}

// cidrStart finds where a trailing dual-cidr-length ("/N", "//N" or
// "/N//N") starts, or -1. Only the end is examined: a domain-spec may
// itself contain "/" (RFC 7208 section 7.1 allows any visible character).
func cidrStart(s string) int {
	end := len(s)
	if i := digitsSuffix(s[:end]); i >= 2 && s[i-2:i] == "//" {
		end = i - 2
	}
	if i := digitsSuffix(s[:end]); i >= 1 && s[i-1] == '/' && !(i >= 2 && s[i-2] == '/') {
		end = i - 1
	}
	if end == len(s) {
		return -1
	}
	return end
}

// digitsSuffix returns the index where a non-empty run of trailing digits
// starts, or -1.
func digitsSuffix(s string) int {
	i := len(s)
	for i > 0 && isDigit(s[i-1]) {
		i--
	}
	if i == len(s) {
		return -1
	}
	return i
}

// parseCIDRLen accepts "0" or a number without a leading zero up to max.
func parseCIDRLen(s string, max int) (int, error) {
	if s == "" || len(s) > 3 || (len(s) > 1 && s[0] == '0') {
		return 0, synErr("bad CIDR length %q", s)
	}
	n, err := strconv.Atoi(s)
	if err != nil || n < 0 || n > max {
		return 0, synErr("bad CIDR length %q", s)
	}
	return n, nil
}

func (d *directive) parseIP(rest string) error {
	if !strings.HasPrefix(rest, ":") {
		return synErr("%q needs a network", d.text)
	}
	rest = rest[1:]
	addrText, bitsText := rest, ""
	if i := strings.IndexByte(rest, '/'); i >= 0 {
		addrText, bitsText = rest[:i], rest[i+1:]
	}
	addr, err := netip.ParseAddr(addrText)
	if err != nil || addr.Zone() != "" {
		return synErr("bad address in %q", d.text)
	}
	max := 32
	if d.kind == mechIP6 {
		max = 128
		if addr.Is4() {
			return synErr("IPv4 address in ip6: %q", d.text)
		}
	} else if !addr.Is4() {
		return synErr("IPv6 address in ip4: %q", d.text)
	}
	bits := max
	if i := strings.IndexByte(rest, '/'); i >= 0 {
		if bits, err = parseCIDRLen(bitsText, max); err != nil {
			return err
		}
	}
	d.prefix, err = addr.Prefix(bits)
	if err != nil {
		return synErr("bad network in %q", d.text)
	}
	return nil
}

// checkDomainSpec validates domain-spec = macro-string domain-end, where
// domain-end is "." toplabel ["."] or a macro-expand (RFC 7208 section 7.1).
func checkDomainSpec(s string) error {
	if s == "" {
		return synErr("empty domain-spec")
	}
	if err := checkMacroString(s, false); err != nil {
		return err
	}
	if endsWithMacro(s) {
		return nil
	}
	t := strings.TrimSuffix(s, ".")
	dot := strings.LastIndexByte(t, '.')
	if dot < 0 || !isTopLabel(t[dot+1:]) {
		return synErr("domain-spec %q lacks a valid top label", s)
	}
	return nil
}

// endsWithMacro reports whether s ends with a macro-expand: "%{...}",
// "%%", "%_" or "%-".
func endsWithMacro(s string) bool {
	if strings.HasSuffix(s, "}") {
		return true
	}
	if len(s) < 2 || s[len(s)-2] != '%' {
		return false
	}
	// Count the run of '%' before the last byte: an odd count means the
	// last two bytes form an escape.
	n := 0
	for i := len(s) - 2; i >= 0 && s[i] == '%'; i-- {
		n++
	}
	return n%2 == 1
}

// isTopLabel: ( *alphanum ALPHA *alphanum ) /
// ( 1*alphanum "-" *( alphanum / "-" ) alphanum ).
func isTopLabel(l string) bool {
	if l == "" {
		return false
	}
	hasAlpha, hasHyphen := false, false
	for i := 0; i < len(l); i++ {
		c := l[i]
		switch {
		case isAlpha(c):
			hasAlpha = true
		case isDigit(c):
		case c == '-':
			hasHyphen = true
		default:
			return false
		}
	}
	if hasHyphen {
		return l[0] != '-' && l[len(l)-1] != '-'
	}
	return hasAlpha
}

func isAlpha(c byte) bool { return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' }
func isDigit(c byte) bool { return c >= '0' && c <= '9' }

var errBadMacro = errors.New("bad macro")
