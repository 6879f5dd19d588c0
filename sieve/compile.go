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
	globals  []string // variables declared global (include)
}

// Name returns the script name given in Options.
func (s *Script) Name() string { return s.name }

// Requires reports whether the script requires the capability.
func (s *Script) Requires(ext string) bool { return s.required[ext] }

// Compiler carries the state of one compile; spec Check functions use it.
type Compiler struct {
	opts           *Options
	reg            *registry
	required       map[string]bool
	errs           []*Error
	name           string
	script         *Script
	extracttextPos Pos      // where extracttext was required
	loopNames      []string // names of the enclosing foreverypart loops
	tree           *compileTree
	depth          int     // include depth
	includes       []*Node // include commands, compiled after validation
	reported       map[string]bool
	vars           map[string]bool // variables declared in the local scope
	varsFull       bool            // the scope overflowed (reported once)
}

// Compile compiles a script. A failed compile returns a *CompileError
// listing every problem found.
func Compile(src []byte, opts Options) (*Script, error) {
	o := opts.withDefaults()
	t := &compileTree{stack: map[string]*Script{}, done: map[string]*Script{}}
	s, errs, st := compile(src, &o, opts.Name, opts.Name, t, 0)
	if st == stageOK {
		return s, nil
	}
	// Like Pigeonhole, a failed compile ends with a summary error.
	last := Pos{1, 1}
	if len(errs) > 0 {
		last = errs[len(errs)-1].Pos
	}
	errs = append(errs, &Error{Pos: last, Script: opts.Name, Msg: st.String() + " failed"})
	return nil, &CompileError{Errors: errs}
}

// stage is the compile stage that failed. Like Pigeonhole, a script is
// parsed, then validated, then its includes are compiled ("code
// generation"); each stage runs only when the previous one succeeded.
type stage int

const (
	stageOK stage = iota
	stageParse
	stageValidate
	stageGenerate
)

func (s stage) String() string {
	return [...]string{"", "parse", "validation", "code generation"}[s]
}

// compileTree is shared by a script and everything it includes.
type compileTree struct {
	stack map[string]*Script // include ids being compiled (cycles reuse them)
	done  map[string]*Script // included scripts compiled so far, by location:name
	count int                // includes compiled so far
}

func compile(src []byte, o *Options, name, id string, t *compileTree, depth int) (*Script, []*Error, stage) {
	if len(src) > o.MaxScriptSize {
		return nil, []*Error{{Pos: Pos{1, 1}, Script: name,
			Msg: fmt.Sprintf("script is too large (max %d bytes)", o.MaxScriptSize)}}, stageParse
	}
	ast, perrs := parse(string(src), o.MaxNesting)
	if perrs != nil {
		for _, e := range perrs {
			e.Script = name
		}
		return nil, perrs, stageParse
	}
	c := &Compiler{opts: o, reg: newRegistry(o), required: map[string]bool{}, name: name,
		tree: t, depth: depth, reported: map[string]bool{}, vars: map[string]bool{}}
	c.script = &Script{name: name, id: id, opts: *o, required: c.required}
	t.stack[id] = c.script
	defer delete(t.stack, id)
	cmds := c.block(ast, true)
	if len(c.errs) > 0 {
		return nil, c.errs, stageValidate
	}
	for _, n := range c.includes {
		if !c.generateInclude(n) {
			return nil, c.errs, stageGenerate
		}
	}
	c.script.cmds = cmds
	return c.script, nil, stageOK
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

// requiresDone checks the combination of required extensions once the
// require commands at the top are over, as Pigeonhole does; a failure
// there ends validation (fatal).
func (c *Compiler) requiresDone() (fatal bool) {
	if !c.required["extracttext"] {
		return false
	}
	switch {
	case !c.required["variables"]:
		c.Errorf(c.extracttextPos, "extracttext extension cannot be used without variables extension")
	case !c.required["foreverypart"]:
		c.Errorf(c.extracttextPos, "extracttext extension cannot be used without foreverypart extension")
	default:
		return false
	}
	return true
}

// requireSyntax checks the shape of a require command in Pigeonhole's
// order: arguments, sub-tests, block, argument type.
func (c *Compiler) requireSyntax(a *astNode) bool {
	for _, arg := range a.args {
		if arg.kind == argTag {
			c.Errorf(arg.pos, "unknown tagged argument ':%s' for the require command (reported only once at first occurrence)", arg.tag)
			return false
		}
	}
	switch {
	case len(a.args) != 1:
		c.Errorf(a.pos, "the require command requires 1 positional argument(s), but %d is/are specified", len(a.args))
	case len(a.tests) > 0:
		c.Errorf(a.pos, "the require command accepts no sub-tests, but tests are specified")
	case a.hasBlock:
		c.Errorf(a.pos, "the require command does not accept a command block, but one is specified anyway")
	case a.args[0].kind != argStrings:
		c.Errorf(a.args[0].pos, "the require command accepts a single string or string list argument, but a number was found")
	default:
		return true
	}
	return false
}

// coreNames are the commands and tests that need no require.
var coreNames = map[string]string{"if": "command", "elsif": "command", "else": "command",
	"keep": "command", "discard": "command", "redirect": "command", "require": "command",
	"stop": "command", "address": "test", "allof": "test", "anyof": "test", "exists": "test",
	"false": "test", "header": "test", "not": "test", "size": "test", "true": "test"}

func (c *Compiler) require(a *astNode) {
	if !c.requireSyntax(a) {
		return
	}
	for _, ext := range a.args[0].strs {
		if !c.opts.enabled(ext) {
			if kind, ok := coreNames[strings.ToLower(ext)]; ok {
				c.Errorf(a.args[0].pos, "require command: `%s' is not known as a Sieve capability, but it is known as a Sieve %s that is always available", sanitize(ext, 128), kind)
			} else {
				c.Errorf(a.args[0].pos, "require command: unknown Sieve capability `%s'", sanitize(ext, 128))
			}
			continue
		}
		if other, ok := map[string]string{"duplicate": "vnd.dovecot.duplicate",
			"vnd.dovecot.duplicate": "duplicate"}[ext]; ok && c.required[other] {
			c.Errorf(a.pos, "the (deprecated) vnd.dovecot.duplicate extension cannot be used together with the duplicate extension")
			continue
		}
		c.required[ext] = true
		switch ext {
		case "spamtestplus":
			c.required["spamtest"] = true
		case "vacation-seconds":
			c.required["vacation"] = true
		}
		if ext == "extracttext" && c.extracttextPos == (Pos{}) {
			c.extracttextPos = a.pos
		}
	}
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

func typeOK(a *astArg, t ValType) bool {
	switch t {
	case TNumber:
		return a.kind == argNumber
	case TString:
		return a.kind == argStrings && !a.isList
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
			c.checkVarRefs(pos, s)
		}
	}
	if !c.required["encoded-character"] {
		return ss
	}
	out := make([]string, len(ss))
	for i, s := range ss {
		var bad uint64
		var hasBad bool
		out[i], bad, hasBad = decodeEncodedChars(s)
		if hasBad {
			c.Errorf(pos, "invalid unicode character 0x%08x in encoded character substitution", bad)
		}
	}
	return out
}
