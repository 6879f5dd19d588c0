package sieve

import (
	"mime"
	"strings"

	"github.com/gomilter/gomilter/internal/mailmsg"
)

// addheader and deleteheader (RFC 5293).

func editheaderSpecs() []*Spec {
	return []*Spec{
		{Name: "addheader", Ext: "editheader", Tags: []TagDef{{Name: "last"}},
			Args: []ValType{TString, TString}, Check: checkAddheader, Run: runAddheader},
		{Name: "deleteheader", Ext: "editheader", Tags: tags(matchTags, []TagDef{
			{Name: "index", Param: TNumber}, {Name: "last"}}),
			Args: []ValType{TString, TStringList}, OptArgs: 1, Check: checkDeleteheader, Run: runDeleteheader},
	}
}

func checkAddheader(c *Compiler, n *Node) {
	name := n.Args[0].Str()
	if c.ConstString(name) && !validFieldName(name) {
		c.Errorf(n.Args[0].Pos, "addheader command: specified field name `%s' is invalid", name)
	}
	val := n.Args[1].Str()
	if c.ConstString(val) && !validHeaderValue(val) {
		c.Errorf(n.Args[1].Pos, "addheader command: specified value `%s' is invalid (contains NUL character)", sanitize(beforeNUL(val), 80))
	}
	if c.ConstString(val) && c.ConstString(name) && len(name)+len(val)+2 > c.opts.EditheaderMaxHeaderSize {
		c.Errorf(n.Args[1].Pos, "the addheader command: specified header field '%s' is too large (max %d bytes)", name, c.opts.EditheaderMaxHeaderSize)
	}
}

func checkDeleteheader(c *Compiler, n *Node) {
	name := n.Args[0].Str()
	if c.ConstString(name) && !validFieldName(name) {
		c.Errorf(n.Args[0].Pos, "deleteheader command:specified field name `%s' is invalid", name)
	}
	if n.Tag("last") && !n.Tag("index") {
		c.Errorf(n.Pos, "the :last tag for the deleteheader command cannot be specified without the :index tag")
	}
	if v := n.TagValue("index"); v != nil && v.Num == 0 {
		c.Errorf(v.Pos, "the :index tag for the deleteheader command cannot be zero")
	}
	c.compileMatch(n, 1)
}

// validHeaderValue refuses NUL; line breaks are turned into folding.
func validHeaderValue(v string) bool { return !strings.ContainsRune(v, 0) }

// beforeNUL is the part of v a C string would show.
func beforeNUL(v string) string {
	if i := strings.IndexByte(v, 0); i >= 0 {
		return v[:i]
	}
	return v
}

// foldValue makes every line break a fold (CRLF + white space) and drops
// trailing line breaks.
func foldValue(v string) string {
	v = strings.TrimRight(strings.ReplaceAll(v, "\r\n", "\n"), "\n")
	lines := strings.Split(v, "\n")
	for i := 1; i < len(lines); i++ {
		if lines[i] == "" || (lines[i][0] != ' ' && lines[i][0] != '\t') {
			lines[i] = "\t" + lines[i]
		}
	}
	return strings.Join(lines, "\r\n")
}

func (r *Runtime) headerProtected(name string, deleting bool) bool {
	// Pigeonhole's fixed rules: Subject is always editable, the redirect
	// loop marker never, and trace fields may be added but not deleted.
	switch strings.ToLower(name) {
	case "subject":
		return false
	case "x-sieve-redirected-from":
		return true
	case "received", "auto-submitted":
		if deleting {
			return true
		}
	}
	list := append([]string(nil), r.opts.EditheaderProtected...)
	if deleting {
		list = append(list, r.opts.EditheaderForbidDelete...)
	} else {
		list = append(list, r.opts.EditheaderForbidAdd...)
	}
	for _, p := range list {
		if strings.EqualFold(p, name) {
			return true
		}
	}
	return false
}

func runAddheader(r *Runtime, n *Node) error {
	name := r.String(n.Args[0])
	val := r.String(n.Args[1])
	if !validFieldName(name) {
		return r.errorf(n.Pos, "addheader action: specified field name '%s' is invalid", name)
	}
	if !validHeaderValue(val) {
		return r.errorf(n.Pos, "addheader action: specified value `%s' is invalid (contains NUL character)", sanitize(beforeNUL(val), 80))
	}
	if r.headerProtected(name, false) {
		return nil // Pigeonhole ignores the edit with a warning
	}
	if len(name)+len(val)+2 > r.opts.EditheaderMaxHeaderSize {
		return r.errorf(n.Pos, "addheader action: header field '%s' is too large", name)
	}
	f := mailmsg.Field{Name: name, Value: " " + encodeHeaderValue(foldValue(val))}
	h := make([]mailmsg.Field, 0, len(r.msg.header)+1)
	if n.Tag("last") {
		h = append(append(h, r.msg.header...), f)
	} else {
		h = append(append(h, f), r.msg.header...)
	}
	r.setHeader(h)
	return nil
}

func encodeHeaderValue(v string) string {
	for i := 0; i < len(v); i++ {
		if v[i] >= 0x80 {
			return mime.QEncoding.Encode("utf-8", v)
		}
	}
	return v
}

func (r *Runtime) setHeader(h []mailmsg.Field) {
	r.msg = &msgState{header: h, body: r.msg.body}
	if r.part != nil {
		r.part = nil // the MIME tree is rebuilt from the edited header
	}
}

func runDeleteheader(r *Runtime, n *Node) error {
	name := r.String(n.Args[0])
	if !validFieldName(name) {
		return r.errorf(n.Pos, "deleteheader action: specified field name '%s' is invalid", name)
	}
	if r.headerProtected(name, true) {
		return nil
	}
	var positions []int
	for i, f := range r.msg.header {
		if strings.EqualFold(f.Name, name) {
			positions = append(positions, i)
		}
	}
	if v := n.TagValue("index"); v != nil {
		if v.Num > uint64(len(positions)) {
			return nil // also keeps the int conversions below in range
		}
		i := int(v.Num) - 1
		if n.Tag("last") {
			i = len(positions) - int(v.Num)
		}
		if i < 0 || i >= len(positions) {
			return nil
		}
		positions = positions[i : i+1]
	}
	drop := map[int]bool{}
	for _, i := range positions {
		if len(n.Args) == 2 {
			ok, err := r.matchValues(n, []string{decodeHeader(r.msg.header[i].Value)}, n.Args[1].Strs)
			if err != nil {
				return err
			}
			if !ok {
				continue
			}
		}
		drop[i] = true
	}
	if len(drop) == 0 {
		return nil
	}
	h := make([]mailmsg.Field, 0, len(r.msg.header))
	for i, f := range r.msg.header {
		if !drop[i] {
			h = append(h, f)
		}
	}
	r.setHeader(h)
	return nil
}
