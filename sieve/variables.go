package sieve

import (
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"
)

// set modifiers with their precedence (RFC 5229 section 4.1, RFC 5435
// :encodeurl, draft regex :quoteregex).
var setModifiers = []struct {
	tag  TagDef
	prec int
}{
	{TagDef{Name: "lower", Group: "p40"}, 40},
	{TagDef{Name: "upper", Group: "p40"}, 40},
	{TagDef{Name: "lowerfirst", Group: "p30"}, 30},
	{TagDef{Name: "upperfirst", Group: "p30"}, 30},
	{TagDef{Name: "quotewildcard", Group: "p20"}, 20},
	{TagDef{Name: "quoteregex", Group: "p20", Ext: "regex"}, 20},
	{TagDef{Name: "encodeurl", Group: "p15", Ext: "enotify"}, 15},
	{TagDef{Name: "length", Group: "p10"}, 10},
}

func variablesSpecs() []*Spec {
	var mods []TagDef
	for _, m := range setModifiers {
		mods = append(mods, m.tag)
	}
	return []*Spec{
		{Name: "set", Ext: "variables", Tags: mods, Args: []ValType{TString, TString},
			Check: checkSet, Run: runSet},
		{Name: "string", Ext: "variables", IsTest: true, Tags: tags(matchTags),
			Args: []ValType{TStringList, TStringList}, Check: func(c *Compiler, n *Node) { c.compileMatch(n, 1) },
			Eval: evalString},
	}
}

func validVarName(s string) bool {
	if s == "" || !isIdentStart(s[0]) {
		return false
	}
	for i := 0; i < len(s); i++ {
		if !isIdentChar(s[i]) {
			return false
		}
	}
	return true
}

type setData struct{ mods []string }

func checkSet(c *Compiler, n *Node) {
	c.VarName(n.Args[0].Pos, n.Args[0].Str(), true)
	var mods []string
	for _, m := range setModifiers {
		if n.Tag(m.tag.Name) {
			mods = append(mods, m.tag.Name) // already in precedence order
		}
	}
	n.data = &setData{mods: mods}
}

func runSet(r *Runtime, n *Node) error {
	val := r.String(n.Args[1])
	for _, m := range n.data.(*setData).mods {
		if m == "encodeurl" {
			// Cut at whole characters, never inside an escape.
			val = encodeURLMax(val, r.opts.MaxVariableSize)
			continue
		}
		val = applyModifier(m, val)
	}
	return r.SetVar(n.Pos, strings.ToLower(n.Args[0].Str()), val)
}

// SetVar assigns a variable, enforcing the size limits.
func (r *Runtime) SetVar(p Pos, name, val string) error {
	if g, ok := strings.CutPrefix(name, "global."); ok {
		r.global[g] = truncateUTF8(val, r.opts.MaxVariableSize)
		return nil
	}
	if _, exists := r.vars.local[name]; !exists && !r.vars.globals[name] && len(r.vars.local) >= r.opts.MaxVariables {
		return r.errorf(p, "too many variables (max %d)", r.opts.MaxVariables)
	}
	r.vars.set(name, truncateUTF8(val, r.opts.MaxVariableSize))
	return nil
}

func applyModifier(m, v string) string {
	switch m {
	case "lower":
		return asciiLower(v)
	case "upper":
		return strings.Map(func(c rune) rune {
			if c >= 'a' && c <= 'z' {
				return c - 32
			}
			return c
		}, v)
	case "lowerfirst", "upperfirst":
		c, size := utf8.DecodeRuneInString(v)
		if size == 0 {
			return v
		}
		if m == "lowerfirst" {
			return string(unicode.ToLower(c)) + v[size:]
		}
		return string(unicode.ToUpper(c)) + v[size:]
	case "quotewildcard":
		return quoteChars(v, `*?\`)
	case "quoteregex":
		return quoteChars(v, `\^$.[]|()?*+{}`)
	case "encodeurl":
		return encodeURL(v)
	case "length":
		return strconv.Itoa(utf8.RuneCountInString(v))
	}
	return v
}

func quoteChars(v, special string) string {
	var b strings.Builder
	for i := 0; i < len(v); i++ {
		if strings.IndexByte(special, v[i]) >= 0 {
			b.WriteByte('\\')
		}
		b.WriteByte(v[i])
	}
	return b.String()
}

// encodeURLMax encodes whole characters while the result fits in max bytes.
func encodeURLMax(v string, max int) string {
	var b strings.Builder
	for i := 0; i < len(v); {
		_, size := utf8.DecodeRuneInString(v[i:])
		e := encodeURL(v[i : i+size])
		if b.Len()+len(e) > max {
			break
		}
		b.WriteString(e)
		i += size
	}
	return b.String()
}

// encodeURL percent-encodes all but RFC 3986 unreserved characters.
func encodeURL(v string) string {
	const hex = "0123456789ABCDEF"
	var b strings.Builder
	for i := 0; i < len(v); i++ {
		c := v[i]
		if (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
			c == '-' || c == '.' || c == '_' || c == '~' {
			b.WriteByte(c)
			continue
		}
		b.WriteByte('%')
		b.WriteByte(hex[c>>4])
		b.WriteByte(hex[c&15])
	}
	return b.String()
}

func evalString(r *Runtime, n *Node) (bool, error) {
	src := r.Strings(n.Args[0])
	if n.match.typ == "count" {
		var nonEmpty []string
		for _, s := range src {
			if s != "" {
				nonEmpty = append(nonEmpty, s)
			}
		}
		src = nonEmpty
	}
	return r.matchValues(n, src, n.Args[1].Strs)
}
