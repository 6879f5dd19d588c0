package sieve

import (
	"strings"
)

// parseAddressList extracts the addr-specs of an RFC 5322 address list,
// leniently: display names, comments, groups and routes are dropped. ok
// is false when nothing address-like was found.
func parseAddressList(v string) (addrs []string, ok bool) {
	for _, item := range splitAddressItems(v) {
		a := extractAddr(item)
		if a != "" {
			addrs = append(addrs, a)
		}
	}
	return addrs, len(addrs) > 0
}

// splitAddressItems splits at commas and group markers outside quotes,
// comments and angle brackets.
func splitAddressItems(v string) []string {
	var items []string
	var cur strings.Builder
	depth, inQuote, inAngle := 0, false, false
	flush := func() {
		if s := strings.TrimSpace(cur.String()); s != "" {
			items = append(items, s)
		}
		cur.Reset()
	}
	for i := 0; i < len(v); i++ {
		c := v[i]
		switch {
		case inQuote:
			if c == '\\' && i+1 < len(v) {
				cur.WriteByte(c)
				i++
				c = v[i]
			} else if c == '"' {
				inQuote = false
			}
		case depth > 0:
			if c == '(' {
				depth++
			} else if c == ')' {
				depth--
			}
			continue
		case c == '"':
			inQuote = true
		case c == '(':
			depth++
			continue
		case c == '<':
			inAngle = true
		case c == '>':
			inAngle = false
		case (c == ',' || c == ';') && !inAngle:
			flush()
			continue
		case c == ':' && !inAngle:
			cur.Reset() // group display name
			continue
		}
		cur.WriteByte(c)
	}
	flush()
	return items
}

func extractAddr(item string) string {
	if i := strings.LastIndexByte(item, '<'); i >= 0 {
		inner := item[i+1:]
		if j := strings.IndexByte(inner, '>'); j >= 0 {
			inner = inner[:j]
		}
		if k := strings.LastIndexByte(inner, ':'); k >= 0 && strings.HasPrefix(strings.TrimSpace(inner), "@") {
			inner = inner[k+1:] // source route
		}
		return strings.Join(strings.Fields(inner), "")
	}
	return strings.Join(strings.Fields(item), "")
}

// validAddr reports whether a is local@domain with both parts present and
// only ASCII (no SMTPUTF8 support, as in Pigeonhole).
func validAddr(a string) bool {
	local, domain, ok := splitAddr(a)
	if !ok || local == "" || domain == "" {
		return false
	}
	for i := 0; i < len(a); i++ {
		if a[i] >= 0x80 || a[i] <= ' ' {
			return false
		}
	}
	return true
}

// splitAddr splits at the last '@' (local parts may hold quoted '@').
func splitAddr(a string) (local, domain string, hasAt bool) {
	i := strings.LastIndexByte(a, '@')
	if i < 0 {
		return a, "", false
	}
	return a[:i], a[i+1:], true
}

// addressPart returns the requested part; ok is false when the part does
// not exist (no detail without a delimiter).
func addressPart(a, part, delims string) (string, bool) {
	local, domain, _ := splitAddr(a)
	switch part {
	case "localpart":
		return local, true
	case "domain":
		return domain, true
	case "user", "detail":
		i := strings.IndexAny(local, delims)
		if part == "user" {
			if i < 0 {
				return local, true
			}
			return local[:i], true
		}
		if i < 0 {
			return "", false
		}
		return local[i+1:], true
	}
	return a, true
}

func addrPartTag(n *Node) string {
	for _, p := range []string{"localpart", "domain", "user", "detail", "all"} {
		if n.Tag(p) {
			return p
		}
	}
	return "all"
}

// addressHeaders are the fields the address test accepts (RFC 5228 5.1,
// Pigeonhole's list of address-valued fields).
var addressHeaders = map[string]bool{
	"from": true, "sender": true, "reply-to": true, "to": true, "cc": true, "bcc": true,
	"resent-from": true, "resent-sender": true, "resent-to": true, "resent-cc": true,
	"resent-bcc": true, "return-path": true, "resent-reply-to": true, "delivered-to": true,
	"disposition-notification-to": true, "mail-followup-to": true, "mail-reply-to": true,
	"mail-from": true, "original-recipient": true, "envelope-to": true, "x-original-to": true,
	"apparently-to": true, "errors-to": true, "x-envelope-to": true, "x-delivered-to": true,
	"content-disposition": false,
}

// FirstAddress returns the first address of an address-list header value,
// or "".
func FirstAddress(v string) string {
	addrs, _ := parseAddressList(v)
	if len(addrs) == 0 || !strings.Contains(addrs[0], "@") {
		return ""
	}
	return addrs[0]
}
