package sieve

import (
	"fmt"
	"strings"
)

// Script is a compiled script, safe for concurrent runs.
type Script struct {
	name     string
	id       string
	opts     Options
	cmds     []*Node
	required map[string]bool
	includes map[string]*Script // key: location + ":" + name
	globals  []string           // variables declared global (include)
}

// Name returns the script name given in Options.
func (s *Script) Name() string { return s.name }

// Requires reports whether the script requires the capability.
func (s *Script) Requires(ext string) bool { return s.required[ext] }

// Compiler carries the state of one compile; spec Check functions use it.
type Compiler struct {
	opts     *Options
	reg      *registry
	required map[string]bool
	errs     []*Error
	name     string
	script   *Script
	loops    int                // foreverypart nesting
	stack    map[string]*Script // include ids being compiled (cycles reuse them)
	depth    int                // include depth
	count    *int               // includes compiled so far, shared across the tree
	reported map[string]bool
}

// Compile compiles a script. A failed compile returns a *CompileError
// listing every problem found.
func Compile(src []byte, opts Options) (*Script, error) {
	o := opts.withDefaults()
	n := 0
	return compile(src, &o, opts.Name, opts.Name, map[string]*Script{}, 0, &n)
}

func compile(src []byte, o *Options, name, id string, stack map[string]*Script, depth int, count *int) (*Script, error) {
	if len(src) > o.MaxScriptSize {
		return nil, &CompileError{Errors: []*Error{{Pos: Pos{1, 1}, Script: name,
			Msg: fmt.Sprintf("script is too large (max %d bytes)", o.MaxScriptSize)}}}
	}
	ast, perrs := parse(string(src), o.MaxNesting)
	if perrs != nil {
		for _, e := range perrs {
			e.Script = name
		}
		// Like Pigeonhole, a failed parse ends with a summary error.
		last := Pos{1, 1}
		if len(perrs) > 0 {
			last = perrs[len(perrs)-1].Pos
		}
		return nil, &CompileError{Errors: append(perrs, &Error{Pos: last, Script: name, Msg: "parse failed"})}
	}
	c := &Compiler{opts: o, reg: newRegistry(o), required: map[string]bool{}, name: name,
		stack: stack, depth: depth, count: count, reported: map[string]bool{}}
	c.script = &Script{name: name, id: id, opts: *o, required: c.required, includes: map[string]*Script{}}
	stack[id] = c.script
	defer delete(stack, id)
	cmds := c.block(ast, true)
	if len(c.errs) > 0 {
		last := c.errs[len(c.errs)-1].Pos
		c.errs = append(c.errs, &Error{Pos: last, Script: name, Msg: "validation failed"})
		return nil, &CompileError{Errors: c.errs}
	}
	c.script.cmds = cmds
	return c.script, nil
}

func newRegistry(o *Options) *registry {
	reg := &registry{cmds: map[string]*Spec{}, tests: map[string]*Spec{}}
	for _, s := range builtinSpecs() {
		reg.add(s)
	}
	for _, x := range o.Extra {
		for _, s := range x.Specs {
			reg.add(s)
		}
	}
	return reg
}

// Errorf records a compile error at pos.
func (c *Compiler) Errorf(pos Pos, format string, args ...any) {
	c.errs = append(c.errs, &Error{Pos: pos, Script: c.name, Msg: fmt.Sprintf(format, args...)})
}

// Required reports whether the script required the capability so far.
func (c *Compiler) Required(ext string) bool { return c.required[ext] }

// Options returns the options of this compile.
func (c *Compiler) Options() *Options { return c.opts }

func (c *Compiler) block(ast []*astNode, top bool) []*Node {
	var out []*Node
	prev := ""
	seenOther := false
	for _, a := range ast {
		if a.name == "require" {
			if !top || seenOther {
				c.Errorf(a.pos, "the require command can only be placed at top level at the beginning of the file")
				continue
			}
			c.require(a)
			continue
		}
		seenOther = true
		if (a.name == "elsif" || a.name == "else") && prev != "if" && prev != "elsif" {
			c.Errorf(a.pos, "the %s command must follow an if or elseif command", a.name)
		}
		prev = a.name
		if n := c.command(a); n != nil {
			out = append(out, n)
		}
	}
	return out
}

func (c *Compiler) require(a *astNode) {
	if len(a.args) != 1 || a.args[0].kind != argStrings || len(a.tests) > 0 || a.hasBlock {
		c.Errorf(a.pos, "the require command expects a string list argument (capabilities)")
		return
	}
	for _, ext := range a.args[0].strs {
		if !c.opts.enabled(ext) {
			c.Errorf(a.pos, "require command: unknown Sieve capability '%s'", ext)
			continue
		}
		c.required[ext] = true
		switch ext {
		case "spamtestplus":
			c.required["spamtest"] = true
		case "vacation-seconds":
			c.required["vacation"] = true
		}
		if ext == "foreverypart" || ext == "extracttext" {
			if ext == "extracttext" && !c.required["foreverypart"] {
				c.Errorf(a.pos, "the extracttext extension cannot be used without the foreverypart extension")
			}
		}
	}
}

func (c *Compiler) lookup(a *astNode, test bool) *Spec {
	tbl, other, kind := c.reg.cmds, c.reg.tests, "command"
	if test {
		tbl, other, kind = c.reg.tests, c.reg.cmds, "test"
	}
	s := tbl[a.name]
	if s != nil && (s.Ext == "" || c.required[s.Ext] || (s.Ext == "ereject" && c.required["reject"] && false)) {
		return s
	}
	if s == nil {
		if o := other[a.name]; o != nil {
			c.Errorf(a.pos, "'%s' is not a %s", a.name, kind)
			return nil
		}
	}
	key := kind + a.name
	if !c.reported[key] {
		c.reported[key] = true
		c.Errorf(a.pos, "unknown %s '%s' (only reported once at first occurrence)", kind, a.name)
	} else {
		c.errs = append(c.errs, &Error{Pos: a.pos, Script: c.name, Msg: "unknown " + kind})
	}
	return nil
}

func (c *Compiler) command(a *astNode) *Node {
	s := c.lookup(a, false)
	if s == nil {
		return nil
	}
	before := len(c.errs)
	n := c.node(a, s)
	switch {
	case s.Tests == 0 && len(a.tests) > 0:
		c.Errorf(a.pos, "the %s command accepts no tests", s.Name)
	case s.Tests == 1 && (len(a.tests) != 1 || a.testList):
		c.Errorf(a.pos, "the %s command requires one test", s.Name)
	case s.Tests == 2 && !a.testList:
		c.Errorf(a.pos, "the %s command requires a test list", s.Name)
	}
	c.onePerNode(before)
	for _, t := range a.tests {
		if tn := c.test(t); tn != nil {
			n.Tests = append(n.Tests, tn)
		}
	}
	if s.Block == 1 && !a.hasBlock {
		c.Errorf(a.pos, "the %s command requires a command block", s.Name)
	} else if s.Block == 0 && a.hasBlock {
		c.Errorf(a.pos, "the %s command does not accept a command block", s.Name)
	}
	if s.Name == "foreverypart" {
		c.loops++
		if c.loops > maxLoopNesting {
			c.Errorf(a.pos, "the nesting of foreverypart loops exceeds the limit (%d levels)", maxLoopNesting)
		}
	}
	restore, skip := c.ihave(n)
	if !skip {
		n.Block = c.block(a.block, false)
	}
	restore()
	if s.Name == "foreverypart" {
		c.loops--
	}
	if s.Check != nil && n.ok() {
		s.Check(c, n)
	}
	return n
}

func (c *Compiler) test(a *astNode) *Node {
	s := c.lookup(a, true)
	if s == nil {
		return nil
	}
	before := len(c.errs)
	n := c.node(a, s)
	switch {
	case s.Tests == 0 && len(a.tests) > 0:
		c.Errorf(a.pos, "the %s test accepts no sub-tests", s.Name)
	case s.Tests == 1 && (len(a.tests) != 1 || a.testList):
		c.Errorf(a.pos, "the %s test requires one sub-test", s.Name)
	case s.Tests == 2 && !a.testList:
		c.Errorf(a.pos, "the %s test requires a test list", s.Name)
	}
	c.onePerNode(before)
	for _, t := range a.tests {
		if tn := c.test(t); tn != nil {
			n.Tests = append(n.Tests, tn)
		}
	}
	if a.hasBlock {
		c.Errorf(a.pos, "tests cannot have a block")
	}
	if s.Check != nil && n.ok() {
		s.Check(c, n)
	}
	return n
}

// ihave makes the capabilities tested by "if ihave [...]" usable inside
// the block (RFC 5463 section 4); the returned func undoes it.
// When a capability is missing the block can never run and is not
// compiled at all (skip), so unknown commands in it are no error.
func (c *Compiler) ihave(n *Node) (restore func(), skip bool) {
	if len(n.Tests) != 1 || n.Tests[0].Spec.Name != "ihave" || len(n.Tests[0].Args) != 1 {
		return func() {}, false
	}
	var added []string
	for _, ext := range n.Tests[0].Args[0].Strs {
		if c.required[ext] {
			continue
		}
		if !ihaveAllowed(c.opts, ext) {
			skip = true
		} else {
			c.required[ext] = true
			added = append(added, ext)
		}
	}
	return func() {
		for _, ext := range added {
			delete(c.required, ext)
		}
	}, skip
}

// onePerNode keeps only the first argument error of a command or test, as
// Pigeonhole stops validating a command at its first bad argument.
func (c *Compiler) onePerNode(before int) {
	if len(c.errs) > before+1 {
		c.errs = c.errs[:before+1]
	}
}

// ok is false when argument checking already failed for the node.
func (n *Node) ok() bool { return n.data != errMarker }

var errMarker = &struct{}{}

// node checks tagged and positional arguments against the spec.
func (c *Compiler) node(a *astNode, s *Spec) *Node {
	n := &Node{Spec: s, Pos: a.pos, Tags: map[string]*Value{}}
	what := s.Name + " command"
	if s.IsTest {
		what = s.Name + " test"
	}
	before := len(c.errs)
	groups := map[string]string{}
	args := a.args
	for i := 0; i < len(args); i++ {
		arg := args[i]
		if arg.kind != argTag {
			v := &Value{Pos: arg.pos, Num: arg.num, Strs: c.decodeStrs(arg.pos, arg.strs), Type: TNumber}
			if arg.kind == argStrings {
				v.Type = TString
				if arg.isList {
					v.Type = TStringList
				}
			}
			n.Args = append(n.Args, v)
			continue
		}
		td := findTag(s.Tags, arg.tag)
		if td == nil || (td.Ext != "" && !c.required[td.Ext]) {
			c.Errorf(arg.pos, "unknown tagged argument ':%s' for the %s", arg.tag, what)
			continue
		}
		if _, dup := n.Tags[td.Name]; dup {
			c.Errorf(arg.pos, "encountered duplicate tag ':%s' for the %s", td.Name, what)
		}
		if td.Group != "" {
			if g, ok := groups[td.Group]; ok && g != td.Name {
				c.Errorf(arg.pos, "%s: tag ':%s' conflicts with ':%s'", what, td.Name, g)
			}
			groups[td.Group] = td.Name
		}
		v := &Value{Pos: arg.pos}
		if td.Param != TNone {
			if i+1 >= len(args) || !typeOK(args[i+1], td.Param) {
				c.Errorf(arg.pos, "the :%s tag for the %s requires a %s argument", td.Name, what, td.Param)
				continue
			}
			i++
			v = &Value{Pos: args[i].pos, Type: td.Param, Num: args[i].num, Strs: c.decodeStrs(args[i].pos, args[i].strs)}
		}
		n.Tags[td.Name] = v
	}
	c.positional(n, s, what)
	if len(c.errs) > before {
		n.data = errMarker
	}
	return n
}

func (c *Compiler) positional(n *Node, s *Spec, what string) {
	min := len(s.Args) - s.OptArgs
	if len(n.Args) < min || len(n.Args) > len(s.Args) {
		c.Errorf(n.Pos, "the %s expects %d positional arguments, but %d were found", what, len(s.Args), len(n.Args))
		return
	}
	for i, v := range n.Args {
		want := s.Args[i]
		switch {
		case want == TNumber && v.Type != TNumber,
			want != TNumber && v.Type == TNumber,
			want == TString && v.Type == TStringList && len(v.Strs) != 1:
			c.Errorf(v.Pos, "the %s expects a %s as argument %d, but a %s was found", what, want, i+1, v.Type)
		}
	}
}

func typeOK(a *astArg, t ValType) bool {
	switch t {
	case TNumber:
		return a.kind == argNumber
	case TString:
		return a.kind == argStrings && len(a.strs) == 1
	case TStringList:
		return a.kind == argStrings
	}
	return false
}

func findTag(tags []TagDef, name string) *TagDef {
	for i := range tags {
		if tags[i].Name == name {
			return &tags[i]
		}
	}
	return nil
}

// Str returns the single string of a value (the first of a list).
func (v *Value) Str() string {
	if v == nil || len(v.Strs) == 0 {
		return ""
	}
	return v.Strs[0]
}

// ConstString reports whether s holds no variable reference, so it can be
// checked at compile time.
func (c *Compiler) ConstString(s string) bool {
	return !c.required["variables"] || !strings.Contains(s, "${")
}

func (c *Compiler) decodeStrs(pos Pos, ss []string) []string {
	if c.required["variables"] {
		for _, s := range ss {
			c.checkNamespaces(pos, s)
		}
	}
	if !c.required["encoded-character"] {
		return ss
	}
	out := make([]string, len(ss))
	for i, s := range ss {
		out[i] = decodeEncodedChars(s)
	}
	return out
}

// checkNamespaces reports ${ns.name} references to variable namespaces no
// required extension provides (RFC 5229 section 3).
func (c *Compiler) checkNamespaces(pos Pos, s string) {
	for {
		i := strings.Index(s, "${")
		if i < 0 {
			return
		}
		s = s[i+2:]
		end := strings.IndexByte(s, '}')
		if end < 0 {
			return
		}
		ref := s[:end]
		ns, _, dotted := strings.Cut(ref, ".")
		if dotted && validVarName(ns) && validVarName(strings.ReplaceAll(ref, ".", "_")) {
			ns = strings.ToLower(ns)
			known := (ns == "global" && c.required["include"]) || (ns == "env" && c.required["vnd.dovecot.environment"])
			for _, x := range c.opts.Extra {
				for _, n := range x.Namespaces {
					known = known || (c.required[x.Name] && strings.EqualFold(n, ns))
				}
			}
			if !known {
				c.Errorf(pos, "unknown variable namespace '%s' in '${%s}'", ns, ref)
			}
		}
		s = s[end+1:]
	}
}
