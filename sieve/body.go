package sieve

import (
	"bytes"
	"strings"
)

// body test (RFC 5173).

func bodySpecs() []*Spec {
	return []*Spec{{Name: "body", Ext: "body", IsTest: true,
		Tags: tags(matchTags, []TagDef{{Name: "raw", Group: "transform"},
			{Name: "content", Param: TStringList, Group: "transform"}, {Name: "text", Group: "transform"}}),
		Args: []ValType{TStringList}, Check: checkBody, Eval: evalBody}}
}

func checkBody(c *Compiler, n *Node) {
	c.compileMatch(n, 0)
	n.match.noVars = true // RFC 5173: body never sets match variables
	if n.match.typ == "count" || n.match.typ == "value" {
		// Pigeonhole accepts these; the values are the body parts.
		return
	}
}

func evalBody(r *Runtime, n *Node) (bool, error) {
	var vals []string
	switch {
	case n.Tag("raw"):
		if len(r.msg.body) > 0 {
			vals = []string{string(r.msg.body)}
		}
	case n.Tag("content"):
		types := r.Strings(n.TagValue("content"))
		r.msg.tree().walk(func(p *mimePart) {
			if !contentMatches(p, types) {
				return
			}
			switch {
			case p.typ == "multipart" && len(p.children) > 0:
				// RFC 5173 5.2: a multipart's own text is its prologue
				// and epilogue.
				for _, t := range [][]byte{p.preamble, p.epilogue} {
					if len(bytes.TrimSpace(t)) > 0 {
						vals = append(vals, string(t))
					}
				}
			case p.typ == "message" && p.sub == "rfc822" && len(p.children) > 0:
				vals = append(vals, headerText(p.children[0]))
			default:
				vals = append(vals, string(p.decoded()))
			}
		})
	default:
		r.msg.tree().walk(func(p *mimePart) {
			html := p.typ == "application" && p.sub == "xhtml+xml"
			if (p.typ == "text" || html) && len(p.children) == 0 && p.decoded() != nil {
				vals = append(vals, partText(p))
			}
		})
	}
	return r.matchValues(n, vals, n.Args[0].Strs)
}

// contentMatches implements :content type matching: "" is every type,
// "type" every subtype, "type/sub" exactly.
func contentMatches(p *mimePart, types []string) bool {
	for _, t := range types {
		t = strings.ToLower(strings.TrimSpace(t))
		main, sub, hasSub := strings.Cut(t, "/")
		switch {
		case strings.Count(t, "/") > 1:
			continue
		case t == "":
			return true
		case !hasSub && main == p.typ:
			return true
		case hasSub && main == p.typ && sub == p.sub:
			return true
		}
	}
	return false
}

// partText returns the readable text of a text part; HTML loses its tags.
func partText(p *mimePart) string {
	s := string(p.decoded())
	if p.sub == "html" || p.sub == "xhtml+xml" {
		s = stripTags(s)
	}
	return s
}

// stripTags replaces HTML tags by spaces (a cheap text extraction, enough
// for :contains tests on words).
func stripTags(s string) string {
	var b strings.Builder
	b.Grow(len(s))
	in := false
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c == '<':
			in = true
		case c == '>' && in:
			in = false
			b.WriteByte(' ')
		case !in:
			b.WriteByte(c)
		}
	}
	return b.String()
}

// headerText renders a part's header block as received.
func headerText(p *mimePart) string {
	var b strings.Builder
	for _, f := range p.header {
		b.WriteString(f.Raw())
	}
	return b.String()
}
