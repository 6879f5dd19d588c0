package sieve

import (
	"mime"
	"strings"
	"unicode/utf8"

	"github.com/gomilter/gomilter/internal/mailmsg"
)

// mime, foreverypart and extracttext (RFC 5703).

func mimeSpecs() []*Spec {
	var mods []TagDef
	for _, m := range setModifiers {
		mods = append(mods, m.tag)
	}
	return []*Spec{
		{Name: "foreverypart", Ext: "foreverypart", Tags: []TagDef{{Name: "name", Param: TString}},
			Block: 1, Run: runForeverypart},
		{Name: "break", Ext: "foreverypart", Tags: []TagDef{{Name: "name", Param: TString}},
			Check: checkBreak, Run: func(r *Runtime, n *Node) error {
				return &breakErr{name: r.String(n.TagValue("name"))}
			}},
		{Name: "extracttext", Ext: "extracttext", Tags: append(mods, TagDef{Name: "first", Param: TNumber}),
			Args: []ValType{TString}, Check: checkExtracttext, Run: runExtracttext},
	}
}

// maxLoopNesting is Pigeonhole's limit on nested foreverypart loops, also
// across includes.
const maxLoopNesting = 4

// checkBreak requires an enclosing loop, with the given name if any.
func checkBreak(c *Compiler, n *Node) {
	name := n.TagValue("name")
	if name == nil {
		if len(c.loopNames) == 0 {
			c.Errorf(n.Pos, "the break command is not placed inside a foreverypart loop")
		}
		return
	}
	for _, l := range c.loopNames {
		if l == name.Str() {
			return
		}
	}
	c.Errorf(n.Pos, "the break command is not placed inside a foreverypart loop named `%s'", name.Str())
}

func checkExtracttext(c *Compiler, n *Node) {
	if len(c.loopNames) == 0 {
		c.Errorf(n.Pos, "the extracttext command is not placed inside a foreverypart loop")
	}
	checkSet(c, &Node{Spec: n.Spec, Pos: n.Pos, Tags: n.Tags, Args: []*Value{n.Args[0]}})
	var mods []string
	for _, m := range setModifiers {
		if n.Tag(m.tag.Name) {
			mods = append(mods, m.tag.Name)
		}
	}
	n.data = &setData{mods: mods}
}

func runForeverypart(r *Runtime, n *Node) error {
	// The outermost loop starts at the message itself; a nested loop
	// visits the parts below the current one (RFC 5703 section 3).
	var parts []*mimePart
	if cur := r.part; cur == nil {
		r.msg.tree().walk(func(p *mimePart) { parts = append(parts, p) })
	} else {
		for _, c := range cur.children {
			c.walk(func(p *mimePart) { parts = append(parts, p) })
		}
	}
	if r.loopDepth >= maxLoopNesting {
		return r.errorf(n.Pos, "foreverypart loops nested too deeply")
	}
	name := r.String(n.TagValue("name"))
	saved := r.part
	r.loopDepth++
	defer func() { r.part = saved; r.loopDepth-- }()
	for _, p := range parts {
		r.part = p
		err := r.ExecBlock(n.Block)
		if b, ok := err.(*breakErr); ok {
			if b.name == "" || b.name == name {
				return nil
			}
			return err
		}
		if err != nil {
			return err
		}
	}
	return nil
}

func runExtracttext(r *Runtime, n *Node) error {
	if r.part == nil {
		return nil
	}
	text := ""
	if r.part.typ == "text" {
		text = partText(r.part)
	}
	if f := n.TagValue("first"); f != nil && uint64(utf8.RuneCountInString(text)) > f.Num {
		i, cnt := 0, uint64(0)
		for i = range text {
			if cnt == f.Num {
				break
			}
			cnt++
		}
		text = text[:i]
	}
	for _, m := range n.data.(*setData).mods {
		text = applyModifier(m, text)
	}
	return r.SetVar(n.Pos, strings.ToLower(n.Args[0].Str()), text)
}

// headerLists returns the header blocks a test looks at: the message
// header, or with :mime the current MIME part (and with :anychild every
// part below it).
func (r *Runtime) headerLists(n *Node) [][]mailmsg.Field {
	if !n.Tag("mime") {
		return [][]mailmsg.Field{r.msg.header}
	}
	cur := r.part
	if cur == nil {
		cur = r.msg.tree()
	}
	if !n.Tag("anychild") {
		return [][]mailmsg.Field{cur.header}
	}
	var out [][]mailmsg.Field
	cur.walk(func(p *mimePart) { out = append(out, p.header) })
	return out
}

// mimeHeaderValues applies :type/:subtype/:contenttype/:param to
// Content-Type and Content-Disposition values.
func (r *Runtime) mimeHeaderValues(n *Node, vals []string, name string) []string {
	if !n.Tag("mime") {
		return vals
	}
	opt := ""
	for _, t := range []string{"type", "subtype", "contenttype", "param"} {
		if n.Tag(t) {
			opt = t
		}
	}
	ln := strings.ToLower(name)
	if opt == "" || (ln != "content-type" && ln != "content-disposition") {
		return vals
	}
	var out []string
	for _, v := range vals {
		mt, params, err := mime.ParseMediaType(v)
		if err != nil && mt == "" {
			mt = strings.ToLower(strings.TrimSpace(strings.SplitN(v, ";", 2)[0]))
		}
		typ, sub, _ := strings.Cut(mt, "/")
		switch opt {
		case "type":
			out = append(out, typ)
		case "subtype":
			out = append(out, sub) // "" for Content-Disposition
		case "contenttype":
			out = append(out, mt)
		case "param":
			for _, p := range r.Strings(n.TagValue("param")) {
				if pv, ok := params[strings.ToLower(p)]; ok {
					out = append(out, pv)
				}
			}
		}
	}
	return out
}
