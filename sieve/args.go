package sieve

// node checks tagged and positional arguments against the spec, the way
// Pigeonhole does: first every tag must be known, then the leading tags
// are read with their parameters, then only positional arguments may
// follow. It stops at the first problem (ok false).
func (c *Compiler) node(a *astNode, s *Spec) (*Node, bool) {
	n := &Node{Spec: s, Pos: a.pos, Tags: map[string]*Value{}}
	what := s.Name + " " + kindName(s)
	for _, arg := range a.args {
		if arg.kind != argTag {
			continue
		}
		if td := findTag(s.Tags, arg.tag); td == nil || !c.hasExt(td.Ext) {
			if td != nil && td.Name == "percent" {
				c.Errorf(arg.pos, "the %s only accepts the :percent argument when the spamtestplus extension is active", what)
				return n, false
			}
			key := s.Name + ":" + arg.tag
			if !c.reported[key] {
				c.reported[key] = true
				c.Errorf(arg.pos, "unknown tagged argument ':%s' for the %s (reported only once at first occurrence)", arg.tag, what)
			}
			return n, false
		}
	}
	i, ok := c.tags(n, a.args, what)
	if !ok {
		return n, false
	}
	for _, arg := range a.args[i:] {
		if arg.kind == argTag {
			c.Errorf(arg.pos, "encountered an unexpected tagged argument ':%s' while validating positional arguments for the %s", arg.tag, what)
			return n, false
		}
		v := &Value{Pos: arg.pos, Num: arg.num, Strs: c.decodeStrs(arg.pos, arg.strs), Type: TNumber}
		if arg.kind == argStrings {
			v.Type = TString
			if arg.isList {
				v.Type = TStringList
			}
		}
		n.Args = append(n.Args, v)
	}
	return n, c.positional(n, s, what)
}

// tags reads the leading tags and their parameters; it returns the index
// of the first positional argument.
func (c *Compiler) tags(n *Node, args []*astArg, what string) (int, bool) {
	groups := map[string]string{}
	i := 0
	for ; i < len(args) && args[i].kind == argTag; i++ {
		arg := args[i]
		td := findTag(n.Spec.Tags, arg.tag)
		_, dup := n.Tags[td.Name]
		if g, seen := groups[td.Group]; dup || (td.Group != "" && seen && g != td.Name) {
			c.Errorf(arg.pos, "%s", tagConflict(td, g, dup, what))
			return i, false
		}
		if td.Group != "" {
			groups[td.Group] = td.Name
		}
		v := &Value{Pos: arg.pos}
		if td.Param != TNone {
			if i+1 >= len(args) && (td.Name == "value" || td.Name == "count") {
				c.Errorf(arg.pos, "the :%s match-type requires a constant string argument being one of \"gt\", \"ge\", \"lt\", \"le\", \"eq\" or \"ne\", but none was found", td.Name)
				return i, false
			}
			if i+1 >= len(args) {
				c.Errorf(arg.pos, "the :%s tag for the %s requires %s as parameter, but no parameters were found", td.Name, what, argTypeName(td.Param))
				return i, false
			}
			p := args[i+1]
			if !typeOK(p, td.Param) {
				c.Errorf(p.pos, "the :%s tag for the %s requires %s as parameter, but %s was found", td.Name, what, argTypeName(td.Param), astArgName(p))
				return i, false
			}
			i++
			v = &Value{Pos: p.pos, Type: td.Param, Num: p.num, Strs: c.decodeStrs(p.pos, p.strs)}
		}
		n.Tags[td.Name] = v
	}
	return i, true
}

// positional checks the number and types of the positional arguments.
func (c *Compiler) positional(n *Node, s *Spec, what string) bool {
	min := len(s.Args) - s.OptArgs
	if len(n.Args) < min || len(n.Args) > len(s.Args) {
		switch {
		case s.OptArgs > 0 && min == 1 && len(n.Args) == 0:
			c.Errorf(n.Pos, "the %s expects at least one positional argument, but none was found", what)
		case s.OptArgs == 0:
			c.Errorf(n.Pos, "the %s requires %d positional argument(s), but %d is/are specified", what, len(s.Args), len(n.Args))
		default:
			c.Errorf(n.Pos, "the %s requires %d to %d positional argument(s), but %d is/are specified", what, min, len(s.Args), len(n.Args))
		}
		return false
	}
	for i, v := range n.Args {
		want := s.Args[i]
		switch {
		case want == TNumber && v.Type != TNumber,
			want != TNumber && v.Type == TNumber,
			want == TString && v.Type == TStringList:
			name := ""
			names := s.ArgNames
			if names == nil {
				names = argNames[s.Name]
			}
			if i < len(names) {
				name = " (" + names[i] + ")"
			}
			c.Errorf(v.Pos, "the %s expects %s as argument %d%s, but %s was found", what, argTypeName(want), i+1, name, argTypeName(v.Type))
			return false
		}
	}
	return true
}

// argNames are Pigeonhole's names of positional arguments, for specs that
// do not set ArgNames.
var argNames = map[string][]string{
	"fileinto": {"folder"}, "redirect": {"address"}, "reject": {"reason"}, "ereject": {"reason"},
	"body": {"key list"}, "exists": {"header names"}, "size": {"limit"},
	"date": {"header name", "date part", "key list"}, "currentdate": {"date part", "key list"},
	"addheader": {"field name", "value"}, "deleteheader": {"field name", "value patterns"},
	"extracttext": {"varname"}, "environment": {"name", "key list"}, "ihave": {"capabilities"},
	"spamtest": {"value"}, "virustest": {"value"}, "mailboxexists": {"mailbox-names"},
	"notify": {"method"}, "vacation": {"reason"}, "set": {"name", "value"},
	"string": {"source", "key list"},
}
