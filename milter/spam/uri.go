package spam

import (
	"regexp"
	"strings"
)

var (
	uriSchemeFix = regexp.MustCompile(`(?i)^(https?:)/{0,2}`)
	uriHasScheme = regexp.MustCompile(`(?i)^[-_a-z0-9]+:`)
	uriQueryFix  = regexp.MustCompile(`(?i)^(https?://[^/?#]+)([?#])`)
	uriParts     = regexp.MustCompile(`(?i)^(https?://)([^@/?#]*@)?([^/?#:]+)((?::(\d*))?.*)$`)
	uriRedirect  = regexp.MustCompile(`(?i)(https?:/{0,2}[^&#]+)`)
	pctEscape    = regexp.MustCompile(`%[0-9a-fA-F]{2}`)
	// Built once: a Replacer's tables cost more than most URIs it fixes.
	dropNewlines = strings.NewReplacer("\n", "", "\r", "")
)

// canonURIs returns u and the variants SA's Util::uri_list_canonicalize
// adds: %-decoded, scheme added, user info and default port removed, and
// URLs embedded in the query (redirectors).
func canonURIs(u string, depth int) []string {
	if strings.ContainsAny(u, "\r\n") {
		u = dropNewlines.Replace(u)
	}
	u = strings.TrimSpace(u)
	if len(u) <= 1 || strings.ContainsAny(u[:1], "#?&") || u[0] == '/' && !strings.HasPrefix(u, "//") {
		return nil
	}
	out := []string{u}
	if strings.HasPrefix(strings.ToLower(u), "mailto:") || strings.Contains(strings.SplitN(u, ":", 2)[0], "@") {
		return out
	}
	n := strings.ReplaceAll(u, `\`, "/")
	n = uriSchemeFix.ReplaceAllString(n, "${1}//")
	if pctEscape.MatchString(n) {
		n = pctEscape.ReplaceAllStringFunc(n, func(s string) string {
			return string([]byte{unhex(s[1])<<4 | unhex(s[2])})
		})
	}
	if !uriHasScheme.MatchString(n) {
		if strings.HasPrefix(n, "ftp.") {
			n = "ftp://" + n
		} else {
			n = "http://" + n
		}
	}
	n = uriQueryFix.ReplaceAllString(n, "$1/$2")
	if n != u {
		out = append(out, n)
	}
	mm := uriParts.FindStringSubmatch(n)
	if mm == nil {
		return out
	}
	proto, auth, host, rest, port := mm[1], mm[2], mm[3], mm[4], mm[5]
	if port != "" {
		def := ":443"
		if strings.EqualFold(proto, "http://") {
			def = ":80"
		}
		if strings.HasPrefix(rest, def) && (len(rest) == len(def) || !isAlnum(rest[len(def)])) {
			out = append(out, proto+host+rest[len(def):])
		}
	}
	if strings.ContainsAny(host, " \t\x00") {
		host = strings.Map(func(r rune) rune {
			if r <= 0x20 {
				return -1
			}
			return r
		}, host)
		out = append(out, proto+host+rest)
	}
	if auth != "" {
		out = append(out, proto+host+rest)
	}
	if depth < 3 {
		if r := uriRedirect.FindString(rest); r != "" && strings.Contains(r, ".") {
			out = append(out, canonURIs(r, depth+1)...)
		}
	}
	return out
}
