package sieve

import (
	"strconv"
	"strings"
	"unicode/utf8"
)

// Variable name limits of Pigeonhole (ext-variables-limits.h).
const (
	maxVarNameLen    = 64
	maxNameElements  = 10
	maxMatchVarIndex = 32
)

// varElem is one dot-separated element of a variable name: an identifier
// or, as the only element, a match variable number (num >= 0).
type varElem struct {
	ident string
	num   int
}

// parseVarName reads a variable name (RFC 5229 section 3: identifier or
// num-variable, namespaces separated by dots) at the start of s. It
// returns the elements and the number of bytes used, or ok false.
func parseVarName(s string) (elems []varElem, used int, ok bool) {
	p := 0
	for p < len(s) {
		if len(elems) >= maxNameElements {
			return nil, 0, false
		}
		switch c := s[p]; {
		case isIdentStart(c):
			start := p
			for p++; p < len(s) && isIdentChar(s[p]); p++ {
				if p-start >= maxVarNameLen {
					return nil, 0, false
				}
			}
			elems = append(elems, varElem{ident: s[start:p], num: -1})
		case c >= '0' && c <= '9':
			start := p
			for p < len(s) && s[p] >= '0' && s[p] <= '9' {
				p++
			}
			n, err := strconv.Atoi(s[start:p])
			if err != nil || n > 1<<31-1 {
				return nil, 0, false
			}
			elems = append(elems, varElem{num: n})
			if len(elems) == 1 {
				return elems, p, true // a match variable has no namespace
			}
		default:
			return nil, 0, false
		}
		if p >= len(s) || s[p] != '.' {
			break
		}
		if p++; p >= len(s) {
			return nil, 0, false
		}
	}
	return elems, p, len(elems) > 0
}

// VarName checks a variable name given as an argument (set, extracttext,
// the imap4flags variable list); assignment forbids match variables. It
// declares the variable in the script's scope.
func (c *Compiler) VarName(pos Pos, name string, assignment bool) bool {
	elems, used, ok := parseVarName(name)
	if !ok || used != len(name) {
		c.Errorf(pos, "invalid variable name '%s'", sanitize(name, 80))
		return false
	}
	return c.varRef(pos, elems, assignment)
}

func (c *Compiler) varRef(pos Pos, elems []varElem, assignment bool) bool {
	switch {
	case len(elems) > 1:
		if !c.knownNamespace(elems[0].ident) {
			c.Errorf(pos, "referring to variable in unknown namespace '%s'", elems[0].ident)
			return false
		}
		return c.globalVar(pos, elems)
	case elems[0].num >= 0 && assignment:
		c.Errorf(pos, "cannot assign to match variable")
		return false
	case elems[0].num > maxMatchVarIndex:
		c.Errorf(pos, "match value index %d out of range (max: %d)", elems[0].num, maxMatchVarIndex)
		return false
	case elems[0].num < 0:
		return c.declareVar(pos, strings.ToLower(elems[0].ident))
	}
	return true
}

// declareVar adds a variable to the local scope; exceeding the scope size
// is reported once, as Pigeonhole does.
func (c *Compiler) declareVar(pos Pos, name string) bool {
	if c.vars[name] {
		return true
	}
	if len(c.vars) >= c.opts.MaxVariables {
		if !c.varsFull {
			c.varsFull = true
			c.Errorf(pos, "(implicit) declaration of new variable '%s' exceeds the limit (max variables: %d)", name, c.opts.MaxVariables)
			return false
		}
		return true
	}
	c.vars[name] = true
	return true
}

// globalVar checks a name in the include extension's global namespace:
// exactly one identifier after "global.".
func (c *Compiler) globalVar(pos Pos, elems []varElem) bool {
	if !strings.EqualFold(elems[0].ident, "global") || !c.required["include"] {
		return true
	}
	switch {
	case len(elems) != 2:
		c.Errorf(pos, "invalid variable name within global namespace: encountered sub-namespace")
	case elems[1].num >= 0:
		c.Errorf(pos, "invalid variable name within global namespace: encountered numeric variable name")
	default:
		return true
	}
	return false
}

func (c *Compiler) knownNamespace(ns string) bool {
	ns = strings.ToLower(ns)
	if (ns == "global" && c.required["include"]) || (ns == "env" && c.required["vnd.dovecot.environment"]) {
		return true
	}
	for _, x := range c.opts.Extra {
		for _, n := range x.Namespaces {
			if c.required[x.Name] && strings.EqualFold(n, ns) {
				return true
			}
		}
	}
	return false
}

// checkVarRefs checks the ${...} references in a string argument: match
// variable indexes, namespaces, and declares the variables named.
func (c *Compiler) checkVarRefs(pos Pos, s string) {
	for {
		i := strings.Index(s, "${")
		if i < 0 {
			return
		}
		s = s[i+2:]
		elems, used, ok := parseVarName(s)
		if !ok {
			continue
		}
		if used < len(s) && s[used] == '}' {
			c.varRef(pos, elems, false)
			used++
		}
		s = s[used:]
	}
}

// sanitize makes s safe for a message the way Pigeonhole's str_sanitize
// does: control characters and invalid UTF-8 become '?', and a string
// longer than max bytes is cut, the cut marked with "...".
func sanitize(s string, max int) string {
	var b strings.Builder
	for i := 0; i < len(s); {
		r, n := utf8.DecodeRuneInString(s[i:])
		if r < 0x20 || (r == utf8.RuneError && n == 1) {
			b.WriteByte('?')
		} else {
			b.WriteString(s[i : i+n])
		}
		i += n
	}
	if s = b.String(); len(s) <= max {
		return s
	}
	return truncateUTF8(s, max-3) + "..."
}
