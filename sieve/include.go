package sieve

import (
	"errors"
	"strings"
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
	key    string
	script *Script // nil when :optional and missing
}

func validScriptName(s string) bool {
	return s != "" && !strings.ContainsAny(s, "/\x00\r\n") && len(s) <= 256 && s != "." && s != ".."
}

func checkInclude(c *Compiler, n *Node) {
	name := n.Args[0].Str()
	if !c.ConstString(name) {
		c.Errorf(n.Args[0].Pos, "the include command requires a constant string for its value argument")
		return
	}
	if !validScriptName(name) {
		c.Errorf(n.Args[0].Pos, "include: invalid script name '%s'", name)
		return
	}
	if c.opts.Include == nil {
		c.Errorf(n.Pos, "include: no script location configured")
		return
	}
	if c.depth+1 > c.opts.MaxIncludeDepth {
		c.Errorf(n.Pos, "cannot nest includes deeper than %d levels", c.opts.MaxIncludeDepth)
		return
	}
	c.includeScript(n, name, n.Tag("global"))
}

// includeScript resolves and compiles one included script.
func (c *Compiler) includeScript(n *Node, name string, global bool) {
	src, id, err := c.opts.Include.Include(name, global)
	key := location(global) + ":" + name
	if errors.Is(err, ErrNotFound) && n.Tag("optional") {
		n.data = &includeData{key: key}
		return
	}
	if err != nil {
		c.Errorf(n.Args[0].Pos, "included %s script '%s' does not exist", location(global), name)
		return
	}
	if id == "" {
		id = key
	}
	if s := c.stack[id]; s != nil {
		// A cycle is an error unless the include closing it is :once
		// (Pigeonhole); the run-time guard still refuses re-entry.
		if !n.Tag("once") {
			c.Errorf(n.Pos, "circular include of script '%s'", name)
			return
		}
		n.data = &includeData{key: key, script: s}
		return
	}
	if s, ok := c.script.includes[key]; ok {
		n.data = &includeData{key: key, script: s}
		return
	}
	*c.count++
	if *c.count > c.opts.MaxIncludes {
		c.Errorf(n.Pos, "too many includes (max %d)", c.opts.MaxIncludes)
		return
	}
	s, err := compile(src, c.opts, name, id, c.stack, c.depth+1, c.count)
	if err != nil {
		var ce *CompileError
		if errors.As(err, &ce) {
			c.errs = append(c.errs, ce.Errors...)
		}
		c.Errorf(n.Pos, "failed to compile included script '%s'", name)
		return
	}
	c.script.includes[key] = s
	n.data = &includeData{key: key, script: s}
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
		c.Errorf(n.Pos, "the global command requires the variables extension")
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
