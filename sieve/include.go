package sieve

import (
	"errors"
	"strings"
	"unicode/utf8"
)

// include, return and global (RFC 6609). Included scripts are compiled
// together with the including one, so a broken include fails the compile.

func includeSpecs() []*Spec {
	return []*Spec{
		{Name: "include", Ext: "include", Tags: []TagDef{{Name: "personal", Group: "location"},
			{Name: "global", Group: "location"}, {Name: "once"}, {Name: "optional"}},
			Args: []ValType{TString}, Check: checkInclude, Run: runInclude},
		{Name: "return", Ext: "include", Run: func(r *Runtime, n *Node) error { return errReturn }},
		{Name: "global", Ext: "include", Args: []ValType{TStringList}, Check: checkGlobal, Run: runGlobal},
	}
}

type includeData struct {
	name   string
	key    string // location:name
	id     string // the resolver's id of the script
	src    []byte // nil when :optional and missing
	script *Script
}

// validScriptName applies Pigeonhole's rules for script names: UTF-8 of
// at most 256 characters, no '/', no control characters, no line or
// paragraph separators.
func validScriptName(s string) bool {
	if s == "" || s == "." || s == ".." || !utf8.ValidString(s) || utf8.RuneCountInString(s) > 256 {
		return false
	}
	for _, r := range s {
		if r <= 0x1f || r == '/' || (r >= 0x7f && r <= 0x9f) || r == 0x2028 || r == 0x2029 {
			return false
		}
	}
	return true
}

// checkInclude resolves the script at validation time; it is compiled
// after the including script validated (generateInclude).
func checkInclude(c *Compiler, n *Node) {
	name := n.Args[0].Str()
	if !c.ConstString(name) {
		c.Errorf(n.Args[0].Pos, "the include command requires a constant string for its value argument")
		return
	}
	if !validScriptName(name) {
		c.Errorf(n.Args[0].Pos, "include: invalid script name '%s'", sanitize(name, 80))
		return
	}
	if c.opts.Include == nil {
		c.Errorf(n.Pos, "include: no script location configured")
		return
	}
	global := n.Tag("global")
	src, id, err := c.opts.Include.Include(name, global)
	d := &includeData{name: name, key: location(global) + ":" + name, id: id}
	if d.id == "" {
		d.id = d.key
	}
	switch {
	case errors.Is(err, ErrNotFound) && n.Tag("optional"):
	case err != nil:
		c.Errorf(n.Args[0].Pos, "included %s script '%s' does not exist", location(global), name)
		return
	default:
		d.src = src
	}
	n.data = d
	c.includes = append(c.includes, n)
}

// generateInclude compiles an included script, as Pigeonhole does during
// code generation: limits and cycles are checked here, and a failed
// include names the stage of the included script that failed.
func (c *Compiler) generateInclude(n *Node) bool {
	d := n.data.(*includeData)
	if d.src == nil {
		return true
	}
	if len(c.errs) > 0 {
		return false // no more includes once something failed
	}
	if c.depth >= c.opts.MaxIncludeDepth {
		c.Errorf(n.Pos, "cannot nest includes deeper than %d levels", c.opts.MaxIncludeDepth)
		return false
	}
	if s := c.tree.stack[d.id]; s != nil {
		// A cycle is an error unless the include closing it is :once
		// (Pigeonhole); the run-time guard still refuses re-entry.
		if !n.Tag("once") {
			c.Errorf(n.Pos, "circular include")
			return false
		}
		d.script = s
		return true
	}
	if s, ok := c.tree.done[d.key]; ok {
		d.script = s
		return true
	}
	if c.tree.count >= c.opts.MaxIncludes {
		c.Errorf(n.Pos, "failed to include script '%s': no more than %d includes allowed", sanitize(d.name, 80), c.opts.MaxIncludes)
		return false
	}
	c.tree.count++
	s, errs, st := compile(d.src, c.opts, d.name, d.id, c.tree, c.depth+1)
	c.errs = append(c.errs, errs...)
	if st != stageOK {
		verb := map[stage]string{stageParse: "parse", stageValidate: "validate", stageGenerate: "generate code for"}[st]
		c.Errorf(n.Pos, "failed to %s included script '%s'", verb, sanitize(d.name, 80))
		return false
	}
	c.tree.done[d.key] = s
	d.script = s
	return true
}

func location(global bool) string {
	if global {
		return "global"
	}
	return "personal"
}

func runInclude(r *Runtime, n *Node) error {
	d := n.data.(*includeData)
	if d.script == nil {
		return nil
	}
	if n.Tag("once") && r.once[d.script.id] {
		return nil
	}
	r.once[d.script.id] = true
	if r.active[d.script.id] {
		return r.errorf(n.Pos, "circular include of script '%s'", d.script.name)
	}
	r.active[d.script.id] = true
	defer delete(r.active, d.script.id)
	if r.incDepth+1 > r.opts.MaxIncludeDepth {
		return r.errorf(n.Pos, "include nesting too deep (max %d)", r.opts.MaxIncludeDepth)
	}
	r.nincludes++
	if r.nincludes > 10000 {
		return r.errorf(n.Pos, "too many include executions")
	}
	saved, savedVars, savedMatch := r.script, r.vars, r.matchVals
	r.script, r.vars, r.matchVals = d.script, r.newScope(d.script), nil
	r.incDepth++
	err := r.ExecBlock(d.script.cmds)
	r.incDepth--
	r.script, r.vars, r.matchVals = saved, savedVars, savedMatch
	if errors.Is(err, errReturn) {
		return nil
	}
	return err
}

func checkGlobal(c *Compiler, n *Node) {
	if !c.required["variables"] {
		c.Errorf(n.Pos, "global command requires that variables extension is active")
	}
	for _, s := range n.Args[0].Strs {
		if !validVarName(s) {
			c.Errorf(n.Args[0].Pos, "invalid variable name '%s'", s)
		}
	}
}

func runGlobal(r *Runtime, n *Node) error {
	for _, s := range n.Args[0].Strs {
		name := strings.ToLower(s)
		if !r.vars.globals[name] {
			r.vars.globals[name] = true
			if v, ok := r.vars.local[name]; ok {
				delete(r.vars.local, name)
				if _, exists := r.global[name]; !exists {
					r.global[name] = v
				}
			}
		}
	}
	return nil
}
