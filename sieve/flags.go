package sieve

import (
	"strings"
)

// imap4flags (RFC 5232): the internal flag variable lives in
// Runtime.flags; named variables hold space-separated flag lists.

func flagSpecs() []*Spec {
	mk := func(name string) *Spec {
		return &Spec{Name: name, Ext: "imap4flags", Args: []ValType{TStringList, TStringList},
			OptArgs: 1, Check: checkFlagVar, Run: runFlagCmd}
	}
	return []*Spec{mk("setflag"), mk("addflag"), mk("removeflag"),
		{Name: "hasflag", Ext: "imap4flags", IsTest: true, Tags: tags(matchTags),
			Args: []ValType{TStringList, TStringList}, OptArgs: 1, Check: checkHasflag, Eval: evalHasflag}}
}

func checkFlagVar(c *Compiler, n *Node) {
	if len(n.Args) == 2 {
		if !c.required["variables"] {
			c.Errorf(n.Pos, "the %s command: variable argument requires the variables extension", n.Spec.Name)
		}
		for _, s := range n.Args[0].Strs {
			c.VarName(n.Args[0].Pos, s, true)
		}
		if n.Spec.IsTest == false && len(n.Args[0].Strs) != 1 {
			c.Errorf(n.Args[0].Pos, "the %s command expects a single variable name", n.Spec.Name)
		}
	}
}

func checkHasflag(c *Compiler, n *Node) {
	checkFlagVar(c, n)
	c.compileMatch(n, len(n.Args)-1)
}

var systemFlags = map[string]string{"\\seen": "\\Seen", "\\answered": "\\Answered",
	"\\flagged": "\\Flagged", "\\deleted": "\\Deleted", "\\draft": "\\Draft"}

// parseFlagList splits strings into flags, drops duplicates (case
// insensitively) and invalid system flags.
func parseFlagList(ss []string) []string {
	var out []string
	for _, s := range ss {
		for _, f := range strings.Fields(s) {
			if strings.HasPrefix(f, "\\") {
				if _, ok := systemFlags[strings.ToLower(f)]; !ok {
					continue
				}
			}
			if !containsFold(out, f) {
				out = append(out, f)
			}
		}
	}
	return out
}

func (r *Runtime) getFlags(n *Node) []string {
	if len(n.Args) == 2 {
		var all []string
		for _, name := range n.Args[0].Strs {
			all = append(all, r.vars.get(strings.ToLower(name)))
		}
		return parseFlagList(all)
	}
	return r.flags
}

func runFlagCmd(r *Runtime, n *Node) error {
	list := parseFlagList(r.Strings(n.Args[len(n.Args)-1]))
	cur := append([]string(nil), r.getFlags(n)...)
	switch n.Spec.Name {
	case "setflag":
		cur = list
	case "addflag":
		for _, f := range list {
			if !containsFold(cur, f) {
				cur = append(cur, f)
			}
		}
	case "removeflag":
		var keep []string
		for _, f := range cur {
			if !containsFold(list, f) {
				keep = append(keep, f)
			}
		}
		cur = keep
	}
	if len(n.Args) == 2 {
		return r.SetVar(n.Pos, strings.ToLower(n.Args[0].Str()), strings.Join(cur, " "))
	}
	r.flags = cur
	return nil
}

func evalHasflag(r *Runtime, n *Node) (bool, error) {
	flags := r.getFlags(n)
	keys := n.Args[len(n.Args)-1].Strs
	if n.match.typ == "count" {
		return r.matchValues(n, flags, keys)
	}
	var split []string
	for _, k := range keys {
		split = append(split, strings.Fields(r.expand(k))...)
	}
	return r.matchValues(n, flags, split)
}

// Flags returns the internal imap4flags variable.
func (r *Runtime) Flags() []string { return r.flags }
