package sieve

import (
	"strings"
	"unicode/utf8"
)

// builtinSpecs lists every command and test this package implements.
func builtinSpecs() []*Spec {
	var out []*Spec
	for _, f := range []func() []*Spec{coreSpecs, actionSpecs, variablesSpecs, flagSpecs,
		bodySpecs, dateSpecs, editheaderSpecs, vacationSpecs, includeSpecs, miscSpecs,
		mimeSpecs, notifySpecs} {
		out = append(out, f()...)
	}
	return out
}

func coreSpecs() []*Spec {
	cond := func(name string, tests int) *Spec {
		return &Spec{Name: name, Tests: tests, Block: 1}
	}
	return []*Spec{
		cond("if", 1), cond("elsif", 1), cond("else", 0),
		{Name: "stop", Run: func(r *Runtime, n *Node) error { return errStop }},
		{Name: "true", IsTest: true, Eval: func(r *Runtime, n *Node) (bool, error) { return true, nil }},
		{Name: "false", IsTest: true, Eval: func(r *Runtime, n *Node) (bool, error) { return false, nil }},
		{Name: "not", IsTest: true, Tests: 1, Eval: func(r *Runtime, n *Node) (bool, error) {
			ok, err := r.Eval(n.Tests[0])
			return !ok, err
		}},
		{Name: "allof", IsTest: true, Tests: 2, Eval: evalAllof},
		{Name: "anyof", IsTest: true, Tests: 2, Eval: evalAnyof},
		{Name: "exists", IsTest: true, Tags: tags(mimeTags[:2]), Args: []ValType{TStringList},
			Check: checkMIMETags, Eval: evalExists},
		{Name: "header", IsTest: true, Tags: tags(matchTags, indexTags, mimeTags),
			Args: []ValType{TStringList, TStringList}, ArgNames: []string{"header names", "key list"},
			Check: checkHeader, Eval: evalHeader},
		{Name: "address", IsTest: true, Tags: tags(matchTags, addrPartTags, indexTags, mimeTags[:2]),
			Args: []ValType{TStringList, TStringList}, ArgNames: []string{"header list", "key list"},
			Check: checkAddress, Eval: evalAddress},
		{Name: "envelope", Ext: "envelope", IsTest: true, Tags: tags(matchTags, addrPartTags),
			Args: []ValType{TStringList, TStringList}, ArgNames: []string{"envelope part", "key list"},
			Check: checkEnvelope, Eval: evalEnvelope},
		{Name: "size", IsTest: true, Tags: []TagDef{{Name: "over", Group: "size"}, {Name: "under", Group: "size"}},
			Args: []ValType{TNumber}, Check: checkSize, Eval: evalSize},
	}
}

func evalAllof(r *Runtime, n *Node) (bool, error) {
	for _, t := range n.Tests {
		if ok, err := r.Eval(t); err != nil || !ok {
			return false, err
		}
	}
	return true, nil
}

func evalAnyof(r *Runtime, n *Node) (bool, error) {
	for _, t := range n.Tests {
		if ok, err := r.Eval(t); err != nil || ok {
			return ok, err
		}
	}
	return false, nil
}

func checkIndex(c *Compiler, n *Node) {
	if n.Tag("last") && !n.Tag("index") {
		c.Errorf(n.Pos, "the :last tag for the %s test cannot be specified without the :index tag", n.Spec.Name)
	}
	if v := n.TagValue("index"); v != nil && v.Num == 0 {
		c.Errorf(v.Pos, "the :index tag for the %s test cannot be zero", n.Spec.Name)
	}
}

// checkHeaderNames accepts any name: Pigeonhole only warns about invalid
// field names, and such a test never matches.
func checkHeaderNames(c *Compiler, v *Value, what string) {}

func validFieldName(h string) bool {
	if h == "" {
		return false
	}
	for i := 0; i < len(h); i++ {
		if h[i] <= 32 || h[i] >= 127 || h[i] == ':' {
			return false
		}
	}
	return true
}

func checkMIMETags(c *Compiler, n *Node) {
	if n.Tag("anychild") && !n.Tag("mime") {
		c.Errorf(n.Pos, "the :anychild tag for the %s test cannot be specified without the :mime tag", n.Spec.Name)
	}
	for _, t := range []string{"type", "subtype", "contenttype", "param"} {
		if n.Tag(t) && !n.Tag("mime") {
			c.Errorf(n.Pos, "the :%s tag for the %s test cannot be specified without the :mime tag", t, n.Spec.Name)
		}
	}
	checkHeaderNames(c, n.Args[0], n.Spec.Name)
}

func checkHeader(c *Compiler, n *Node) {
	checkMIMETags(c, n)
	checkIndex(c, n)
	c.compileMatch(n, 1)
}

func evalExists(r *Runtime, n *Node) (bool, error) {
	for _, name := range r.Strings(n.Args[0]) {
		found := false
		for _, h := range r.headerLists(n) {
			if len(fieldValues(h, name, false)) > 0 {
				found = true
			}
		}
		if !found {
			return false, nil
		}
	}
	return true, nil
}

// indexed applies :index/:last to one field's values.
func indexed(n *Node, vals []string) []string {
	v := n.TagValue("index")
	if v == nil {
		return vals
	}
	i := int(v.Num) - 1
	if n.Tag("last") {
		i = len(vals) - int(v.Num)
	}
	if i < 0 || i >= len(vals) || v.Num > uint64(len(vals)) {
		return nil
	}
	return vals[i : i+1]
}

func evalHeader(r *Runtime, n *Node) (bool, error) {
	var vals []string
	for _, name := range r.Strings(n.Args[0]) {
		for _, h := range r.headerLists(n) {
			vals = append(vals, r.mimeHeaderValues(n, indexed(n, fieldValues(h, name, true)), name)...)
		}
	}
	if n.match.typ != "count" && len(vals) == 0 {
		return false, nil
	}
	return r.matchValues(n, vals, n.Args[1].Strs)
}

func checkAddress(c *Compiler, n *Node) {
	checkMIMETags(c, n)
	checkIndex(c, n)
	for _, h := range n.Args[0].Strs {
		if c.ConstString(h) && !addressHeaders[strings.ToLower(h)] {
			c.Errorf(n.Args[0].Pos, "specified header '%s' is not allowed for the address test", h)
		}
	}
	c.compileMatch(n, 1)
}

func evalAddress(r *Runtime, n *Node) (bool, error) {
	part := addrPartTag(n)
	var vals []string
	for _, name := range r.Strings(n.Args[0]) {
		for _, h := range r.headerLists(n) {
			for _, raw := range indexed(n, fieldValues(h, name, false)) {
				addrs, ok := parseAddressList(raw)
				for _, a := range addrs {
					ok = ok && validAddr(a)
				}
				if !ok {
					// An unparsable field only matches as a whole with :all.
					if part == "all" {
						vals = append(vals, raw)
					}
					continue
				}
				for _, a := range addrs {
					if p, ok := addressPart(a, part, r.opts.RecipientDelimiter); ok {
						vals = append(vals, p)
					}
				}
			}
		}
	}
	return r.matchValues(n, vals, n.Args[1].Strs)
}

var envelopeParts = map[string]bool{"from": true, "to": true, "auth": true, "orig_to": true}

func checkEnvelope(c *Compiler, n *Node) {
	for _, p := range n.Args[0].Strs {
		if c.ConstString(p) && !envelopeParts[strings.ToLower(p)] {
			c.Errorf(n.Args[0].Pos, "specified envelope part '%s' is not supported by the envelope test", p)
		}
	}
	c.compileMatch(n, 1)
}

func evalEnvelope(r *Runtime, n *Node) (bool, error) {
	part := addrPartTag(n)
	var vals []string
	for _, ep := range r.Strings(n.Args[0]) {
		var a string
		switch strings.ToLower(ep) {
		case "from":
			a = r.in.Envelope.From
		case "to":
			a = r.in.Envelope.To
			if a == "" {
				continue // no recipient: nothing to match
			}
		case "orig_to":
			a = r.in.Envelope.OrigTo
			if a == "" {
				a = r.in.Envelope.To
			}
			if a == "" {
				continue
			}
		case "auth":
			a = r.in.Envelope.Auth
			if a == "" {
				continue
			}
		default:
			continue
		}
		if a == "" {
			// The null reverse-path is the empty string for every part.
			vals = append(vals, "")
			continue
		}
		if p, ok := addressPart(a, part, r.opts.RecipientDelimiter); ok {
			vals = append(vals, p)
		}
	}
	return r.matchValues(n, vals, n.Args[1].Strs)
}

func checkSize(c *Compiler, n *Node) {
	if !n.Tag("over") && !n.Tag("under") {
		c.Errorf(n.Pos, "the size test requires either the :under or the :over tag to be specified")
	}
}

func evalSize(r *Runtime, n *Node) (bool, error) {
	size := uint64(r.msg.size())
	if n.Tag("over") {
		return size > n.Args[0].Num, nil
	}
	return size < n.Args[0].Num, nil
}

func validMailboxName(s string) bool { return mailboxNameError(s) == "" }

// mailboxNameError says why a folder name is refused: Pigeonhole requires
// UTF-8; empty and overlong names are refused too.
func mailboxNameError(s string) string {
	switch {
	case !utf8.ValidString(s):
		return "invalid utf-8"
	case s == "":
		return "empty name"
	case len(s) > 1024:
		return "name is too long"
	}
	return ""
}
