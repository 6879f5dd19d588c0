package arc

import (
	"errors"
	"fmt"
	"strings"
)

// maxHeader bounds an ARC field we parse; real ones are under 2 KiB.
const maxHeader = 16 << 10

// tagList is a parsed DKIM-style tag list (RFC 6376 section 3.2).
type tagList map[string]string

var errTagSyntax = errors.New("arc: tag-list syntax error")

// parseTags is strict, as the suite expects: tag names are
// case-sensitive ALPHA *(ALNUM / "_"), duplicates and empty tag-specs
// (";;") are errors except one trailing ';'. Values keep inner folding
// whitespace; ends are trimmed.
func parseTags(s string) (tagList, error) {
	if len(s) > maxHeader {
		return nil, fmt.Errorf("%w: field too long", errTagSyntax)
	}
	parts := strings.Split(s, ";")
	tags := tagList{}
	for i, p := range parts {
		if strings.Trim(p, " \t\r\n") == "" {
			if i == len(parts)-1 && i > 0 {
				break
			}
			return nil, fmt.Errorf("%w: empty tag", errTagSyntax)
		}
		k, v, ok := strings.Cut(p, "=")
		k, v = strings.Trim(k, " \t\r\n"), strings.Trim(v, " \t\r\n")
		if !ok || !validTagName(k) {
			return nil, fmt.Errorf("%w: bad tag %q", errTagSyntax, k)
		}
		if _, dup := tags[k]; dup {
			return nil, fmt.Errorf("%w: duplicate tag %q", errTagSyntax, k)
		}
		tags[k] = v
	}
	return tags, nil
}

func validTagName(k string) bool {
	if k == "" || !isAlpha(k[0]) {
		return false
	}
	for i := 1; i < len(k); i++ {
		if !isAlpha(k[i]) && !isDigit(k[i]) && k[i] != '_' {
			return false
		}
	}
	return true
}

func isAlpha(c byte) bool { return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' }
func isDigit(c byte) bool { return c >= '0' && c <= '9' }

// stripFWS removes all whitespace (b=, bh= and p= may be folded anywhere).
func stripFWS(s string) string {
	return strings.Map(func(r rune) rune {
		if r == ' ' || r == '\t' || r == '\r' || r == '\n' {
			return -1
		}
		return r
	}, s)
}

// allDigits reports whether s is a non-empty run of ASCII digits.
func allDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if !isDigit(s[i]) {
			return false
		}
	}
	return s != ""
}

// validDomain: RFC 6376 domain-name, LDH labels (plus '_'), no empty label.
func validDomain(d string) bool {
	if d == "" || len(d) > 253 {
		return false
	}
	for _, l := range strings.Split(d, ".") {
		if l == "" || len(l) > 63 || l[0] == '-' || l[len(l)-1] == '-' {
			return false
		}
		for i := 0; i < len(l); i++ {
			if c := l[i]; !isAlpha(c) && !isDigit(c) && c != '-' && c != '_' {
				return false
			}
		}
	}
	return true
}

// stripB returns a raw tag-list with the value of tag "b" removed,
// everything else byte for byte (RFC 6376 section 3.7 step 2).
func stripB(raw string) string {
	parts := strings.Split(raw, ";")
	for i, p := range parts {
		k, _, ok := strings.Cut(p, "=")
		if ok && strings.Trim(k, " \t\r\n") == "b" {
			parts[i] = p[:strings.IndexByte(p, '=')+1]
		}
	}
	return strings.Join(parts, ";")
}
