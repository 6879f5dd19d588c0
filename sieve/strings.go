package sieve

import (
	"strconv"
	"strings"
	"unicode/utf8"
)

// decodeEncodedChars expands ${hex:..} and ${unicode:..} (RFC 5228
// section 2.4.2.4). Malformed sequences stay as written.
// An invalid Unicode code point makes the string a compile error; bad
// reports the first such code point.
func decodeEncodedChars(s string) (out string, bad uint64, hasBad bool) {
	if !strings.Contains(s, "${") {
		return s, 0, false
	}
	var b strings.Builder
	for {
		i := strings.Index(s, "${")
		if i < 0 {
			b.WriteString(s)
			return b.String(), bad, hasBad
		}
		b.WriteString(s[:i])
		rest := s[i+2:]
		end := strings.IndexByte(rest, '}')
		if end < 0 {
			b.WriteString(s[i:])
			return b.String(), bad, hasBad
		}
		out, ok, cp := encodedSeq(rest[:end])
		if cp != 0 && !hasBad {
			bad, hasBad = cp, true
		}
		if ok {
			b.WriteString(out)
			s = rest[end+1:]
			continue
		}
		b.WriteString("${")
		s = rest
	}
}

func encodedSeq(body string) (out string, ok bool, badCode uint64) {
	colon := strings.IndexByte(body, ':')
	if colon < 0 {
		return "", false, 0
	}
	kind := strings.ToLower(strings.TrimSpace(body[:colon]))
	if kind != strings.ToLower(body[:colon]) {
		return "", false, 0 // no white space before the colon
	}
	fields := strings.Fields(body[colon+1:])
	if len(fields) == 0 {
		return "", false, 0
	}
	var b strings.Builder
	for _, f := range fields {
		v, err := strconv.ParseUint(f, 16, 32)
		if err != nil {
			return "", false, 0
		}
		switch kind {
		case "hex":
			if len(f) > 2 && strings.TrimLeft(f, "0") != "" && len(strings.TrimLeft(f, "0")) > 2 {
				return "", false, 0
			}
			b.WriteByte(byte(v))
		case "unicode":
			if v > 0x10ffff || (v >= 0xd800 && v <= 0xdfff) {
				return "", false, v
			}
			b.WriteRune(rune(v))
		default:
			return "", false, 0
		}
	}
	return b.String(), true, 0
}

// expand substitutes ${name} and ${N} references (RFC 5229 section 3).
func (r *Runtime) expand(s string) string {
	if !r.vars.enabled || !strings.Contains(s, "${") {
		return s
	}
	var b strings.Builder
	for {
		i := strings.Index(s, "${")
		if i < 0 {
			b.WriteString(s)
			break
		}
		b.WriteString(s[:i])
		rest := s[i+2:]
		end := strings.IndexByte(rest, '}')
		if end < 0 {
			b.WriteString(s[i:])
			break
		}
		if v, ok := r.lookupVar(rest[:end]); ok {
			b.WriteString(v)
			s = rest[end+1:]
			continue
		}
		b.WriteString("${")
		s = rest
	}
	return b.String()
}

// lookupVar resolves a reference body; ok is false when the text is no
// valid variable reference (and stays literal).
func (r *Runtime) lookupVar(name string) (string, bool) {
	if name == "" {
		return "", false
	}
	if name[0] >= '0' && name[0] <= '9' {
		n, err := strconv.Atoi(name)
		if err != nil {
			return "", false
		}
		if n < len(r.matchVals) {
			return r.matchVals[n], true
		}
		return "", true
	}
	parts := strings.Split(name, ".")
	for _, p := range parts {
		if p == "" || !isIdentStart(p[0]) {
			return "", false
		}
		for i := 0; i < len(p); i++ {
			if !isIdentChar(p[i]) {
				return "", false
			}
		}
	}
	if len(parts) > 1 {
		return r.namespaceVar(parts)
	}
	return r.vars.get(strings.ToLower(name)), true
}

func (r *Runtime) namespaceVar(parts []string) (string, bool) {
	if strings.EqualFold(parts[0], "global") && len(parts) == 2 && r.script.required["include"] {
		return r.global[strings.ToLower(parts[1])], true
	}
	if strings.EqualFold(parts[0], "env") && len(parts) >= 2 && r.script.required["vnd.dovecot.environment"] {
		v, _ := r.environment(strings.ToLower(strings.Join(parts[1:], ".")))
		return v, true
	}
	for _, x := range r.opts.Extra {
		if x.Lookup == nil || !r.script.required[x.Name] {
			continue
		}
		for _, ns := range x.Namespaces {
			if strings.EqualFold(ns, parts[0]) {
				return x.Lookup(strings.ToLower(ns), strings.ToLower(strings.Join(parts[1:], "."))), true
			}
		}
	}
	return "", true
}

// truncateUTF8 cuts s to at most n bytes without splitting a character.
func truncateUTF8(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n]
}

// varStore holds the variables of one script scope plus the globals.
type varStore struct {
	enabled bool
	local   map[string]string
	global  map[string]string
	globals map[string]bool // names declared global in this scope
}

func (v *varStore) get(name string) string {
	if v.globals[name] {
		return v.global[name]
	}
	return v.local[name]
}

func (v *varStore) set(name, val string) {
	if v.globals[name] {
		v.global[name] = val
		return
	}
	v.local[name] = val
}
