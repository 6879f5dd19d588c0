package authres

import (
	"errors"
	"strings"
)

// parseResult reads "method[/version]=result [reason=...] [ptype.prop=v ...]"
// with comments already removed.
func parseResult(s string) (Result, error) {
	items, err := fields(s)
	if err != nil {
		return Result{}, err
	}
	if len(items) == 0 {
		return Result{}, errors.Join(ErrSyntax, errors.New("empty result"))
	}
	k, v, ok := strings.Cut(items[0], "=")
	if m, ver, hasVer := strings.Cut(k, "/"); hasVer && allDigits(ver) {
		k = m
	}
	if !ok || !isKeyword(k) || !isKeyword(v) {
		return Result{}, errors.Join(ErrSyntax, errors.New("bad method=result"))
	}
	r := Result{Method: strings.ToLower(k), Value: strings.ToLower(v)}
	for _, it := range items[1:] {
		k, v, ok := strings.Cut(it, "=")
		if !ok || k == "" {
			return r, errors.Join(ErrSyntax, errors.New("bad property "+it))
		}
		v = unquote(v)
		if strings.EqualFold(k, "reason") {
			r.Reason = v
			continue
		}
		ptype, prop, ok := strings.Cut(k, ".")
		if !ok || !isKeyword(ptype) || !isKeyword(prop) {
			return r, errors.Join(ErrSyntax, errors.New("bad property "+it))
		}
		r.Props = append(r.Props, Prop{strings.ToLower(ptype), strings.ToLower(prop), v})
	}
	return r, nil
}

// fields splits at whitespace outside quoted strings, first gluing
// whitespace around '=', '.' and '/' (CFWS is allowed there).
func fields(s string) ([]string, error) {
	var out []string
	var cur strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '"':
			end, ok := skipQuoted(s, i)
			if !ok {
				return nil, errors.Join(ErrSyntax, errors.New("unterminated quoted string"))
			}
			cur.WriteString(s[i:end])
			i = end - 1
		case c == ' ' || c == '\t':
			if glued(s, i, cur.String()) {
				continue
			}
			if cur.Len() > 0 {
				out = append(out, cur.String())
				cur.Reset()
			}
		default:
			cur.WriteByte(c)
		}
	}
	if cur.Len() > 0 {
		out = append(out, cur.String())
	}
	return out, nil
}

// glued reports whether the space at s[i] sits next to '=', '.' or '/'.
func glued(s string, i int, cur string) bool {
	if cur != "" && strings.ContainsRune("=./", rune(cur[len(cur)-1])) {
		return true
	}
	rest := strings.TrimLeft(s[i:], " \t")
	return cur != "" && rest != "" && strings.ContainsRune("=./", rune(rest[0]))
}

func unquote(v string) string {
	if len(v) >= 2 && v[0] == '"' && v[len(v)-1] == '"' {
		return unescape(v[1 : len(v)-1])
	}
	return v
}

// Prop returns the value of property ptype.name of r, or "".
func (r Result) Prop(ptype, name string) string {
	for _, p := range r.Props {
		if strings.EqualFold(p.Type, ptype) && strings.EqualFold(p.Name, name) {
			return p.Value
		}
	}
	return ""
}

// isKeyword: RFC 8601 Keyword, here letters, digits, '-' and '_'.
func isKeyword(s string) bool {
	for i := 0; i < len(s); i++ {
		if c := s[i]; !isAlnum(c) && c != '-' && c != '_' {
			return false
		}
	}
	return s != ""
}
