package userdb

import (
	"crypto/md5"
	"encoding/hex"
	"fmt"
	"strconv"
	"strings"
)

// queryTemplate is a dovecot-sql query rewritten for a prepared statement:
// every quoted literal containing %-variables, and every bare variable,
// became one placeholder whose value is expanded from the request.
type queryTemplate struct {
	sql  string
	args []string // Dovecot templates (e.g. "%n@%d") expanded per request
}

// longVars maps %{name} to the one-letter form.
var longVars = map[string]byte{
	"user": 'u', "username": 'n', "domain": 'd', "service": 's', "rip": 'r', "lip": 'l',
	"lport": 'a', "rport": 'b', "secured": 'c', "mech": 'm', "password": 'w',
}

// compileQuery translates query; placeholder(i) returns "?" (MySQL) or
// "$i" (PostgreSQL).
func compileQuery(query string, placeholder func(i int) string) (*queryTemplate, error) {
	t := &queryTemplate{}
	var out strings.Builder
	for i := 0; i < len(query); i++ {
		c := query[i]
		switch {
		case c == '\'' || c == '"':
			end := closingQuote(query, i)
			if end < 0 {
				return nil, fmt.Errorf("unterminated quote in query")
			}
			lit := query[i+1 : end]
			if strings.Contains(lit, "%") {
				t.args = append(t.args, unSQLQuote(lit))
				out.WriteString(placeholder(len(t.args)))
			} else {
				out.WriteString(query[i : end+1])
			}
			i = end
		case c == '%':
			n := varLen(query[i:])
			if n == 0 {
				return nil, fmt.Errorf("bad %%-variable at %q", query[i:min(len(query), i+8)])
			}
			t.args = append(t.args, query[i:i+n])
			out.WriteString(placeholder(len(t.args)))
			i += n - 1
		default:
			out.WriteByte(c)
		}
	}
	for _, a := range t.args {
		if _, err := expand(a, RequestInfo{}, "u@d"); err != nil {
			return nil, err
		}
	}
	t.sql = out.String()
	return t, nil
}

func closingQuote(s string, i int) int {
	q := s[i]
	for j := i + 1; j < len(s); j++ {
		if s[j] == '\\' {
			j++
			continue
		}
		if s[j] == q {
			if j+1 < len(s) && s[j+1] == q {
				j++
				continue
			}
			return j
		}
	}
	return -1
}

func unSQLQuote(s string) string {
	return strings.NewReplacer("''", "'", `\'`, "'", `\\`, `\`).Replace(s)
}

// varLen returns the length of the %-variable at the start of s, 0 if none.
func varLen(s string) int {
	i := 1
	for i < len(s) && (s[i] == '-' || s[i] == '.' || (s[i] >= '0' && s[i] <= '9') ||
		strings.IndexByte("LUERXMTH", s[i]) >= 0) {
		i++
	}
	if i >= len(s) {
		return 0
	}
	if s[i] == '{' {
		end := strings.IndexByte(s[i:], '}')
		if end < 0 {
			return 0
		}
		return i + end + 1
	}
	return i + 1
}

// expand evaluates a Dovecot template (text with %-variables).
func expand(tmpl string, req RequestInfo, user string) (string, error) {
	var b strings.Builder
	for i := 0; i < len(tmpl); i++ {
		if tmpl[i] != '%' {
			b.WriteByte(tmpl[i])
			continue
		}
		if i+1 < len(tmpl) && tmpl[i+1] == '%' {
			b.WriteByte('%')
			i++
			continue
		}
		n := varLen(tmpl[i:])
		if n == 0 {
			return "", fmt.Errorf("bad %%-variable in %q", tmpl)
		}
		v, err := expandVar(tmpl[i+1:i+n], req, user)
		if err != nil {
			return "", err
		}
		b.WriteString(v)
		i += n - 1
	}
	return b.String(), nil
}

// expandVar evaluates one variable body such as "Lu", "2.1n", "{domain}".
func expandVar(spec string, req RequestInfo, user string) (string, error) {
	mods, name := spec[:len(spec)-1], spec[len(spec)-1:]
	if j := strings.IndexByte(spec, '{'); j >= 0 {
		c, ok := longVars[spec[j+1:len(spec)-1]]
		if !ok {
			return "", fmt.Errorf("unknown variable %%%s", spec)
		}
		mods, name = spec[:j], string(c)
	}
	v, err := varValue(name[0], req, user)
	if err != nil {
		return "", err
	}
	return applyMods(mods, v), nil
}

func varValue(c byte, req RequestInfo, user string) (string, error) {
	local, domain, _ := strings.Cut(user, "@")
	addr := func(a interface {
		IsValid() bool
		String() string
	}) string {
		if a.IsValid() {
			return a.String()
		}
		return ""
	}
	switch c {
	case 'u':
		return user, nil
	case 'n':
		return local, nil
	case 'd':
		return domain, nil
	case 's':
		return req.Service, nil
	case 'r':
		return addr(req.RemoteIP), nil
	case 'l':
		return addr(req.LocalIP), nil
	case 'a':
		return strconv.Itoa(req.LocalPort), nil
	case 'b':
		return strconv.Itoa(req.RemotePort), nil
	case 'c':
		if req.Secured {
			return "secured", nil
		}
		return "", nil
	case 'm':
		return req.Mech, nil
	case 'w':
		return req.Password, nil
	}
	return "", fmt.Errorf("unknown variable %%%c", c)
}

// applyMods applies case, reverse, trim, MD5 and offset/length modifiers.
func applyMods(mods, v string) string {
	var offset, length string
	for i := 0; i < len(mods); i++ {
		switch m := mods[i]; {
		case m == 'L':
			v = strings.ToLower(v)
		case m == 'U':
			v = strings.ToUpper(v)
		case m == 'R':
			r := []byte(v)
			for a, z := 0, len(r)-1; a < z; a, z = a+1, z-1 {
				r[a], r[z] = r[z], r[a]
			}
			v = string(r)
		case m == 'T':
			v = strings.TrimRight(v, " \t")
		case m == 'M':
			s := md5.Sum([]byte(v))
			v = hex.EncodeToString(s[:])
		case m == '.' || (m >= '0' && m <= '9') || m == '-':
			j := i
			for j < len(mods) && (mods[j] == '-' || (mods[j] >= '0' && mods[j] <= '9')) {
				j++
			}
			if m == '.' {
				j = i + 1
				for j < len(mods) && mods[j] >= '0' && mods[j] <= '9' {
					j++
				}
				length = mods[i+1 : j]
			} else {
				offset = mods[i:j]
			}
			i = j - 1
		}
	}
	return substr(v, offset, length)
}

func substr(v, offset, length string) string {
	if offset == "" && length == "" {
		return v
	}
	o, _ := strconv.Atoi(offset)
	if o < 0 {
		o = max(len(v)+o, 0)
	}
	o = min(o, len(v))
	v = v[o:]
	if length != "" {
		if l, err := strconv.Atoi(length); err == nil && l < len(v) {
			v = v[:l]
		}
	}
	return v
}

// bind expands the template's arguments for a request.
func (t *queryTemplate) bind(req RequestInfo, user string) ([]any, error) {
	args := make([]any, len(t.args))
	for i, a := range t.args {
		v, err := expand(a, req, user)
		if err != nil {
			return nil, err
		}
		args[i] = v
	}
	return args, nil
}
