package sieve

import (
	"fmt"
	"strings"
)

// This file checks the syntax tree against the command and test tables in
// the order Pigeonhole's validator does, so a broken script yields the
// same diagnostics: per command first its arguments, then its sub-tests
// and block shape, then the command's own check; then the sub-tests and
// the block are descended into. A command stops at its first bad
// argument, but validation goes on with the rest of the script.

// Compile-time values of a test: Pigeonhole folds true, false, not,
// anyof, allof and ihave, and does not validate a block that can never
// run (so "if false { unknown; }" compiles).
const (
	constNone    = -2 // nothing known yet
	constUnknown = -1
	constFalse   = 0
	constTrue    = 1
)

// ifChain carries the constant state of an if/elsif/else chain.
type ifChain struct {
	prevOK   bool // the previous command is a valid if or elsif
	decided  bool // an earlier branch is constant true
	lastName string
}

func (c *Compiler) block(ast []*astNode, top bool) []*Node {
	var out []*Node
	var chain ifChain
	seenOther := false
	for _, a := range ast {
		if a.name == "require" {
			if !top || seenOther {
				c.Errorf(a.pos, "require commands can only be placed at top level at the beginning of the file")
			} else {
				c.require(a)
			}
			chain = ifChain{}
			continue
		}
		if top && !seenOther && c.requiresDone() {
			c.lookup(a, false) // Pigeonhole still resolves this command
			return out
		}
		seenOther = true
		n := c.command(a, &chain)
		if n != nil {
			out = append(out, n)
		}
	}
	if top && !seenOther {
		c.requiresDone()
	}
	return out
}

// lookup finds the spec of a command (test false) or test; unknown
// identifiers are reported once, later uses fail silently.
func (c *Compiler) lookup(a *astNode, test bool) *Spec {
	tbl, other, kind := c.reg.cmds, c.reg.tests, "command"
	if test {
		tbl, other, kind = c.reg.tests, c.reg.cmds, "test"
	}
	usable := func(s *Spec) bool { return s != nil && c.hasExt(s.Ext) }
	if s := tbl[a.name]; usable(s) {
		return s
	}
	if o := other[a.name]; usable(o) {
		okind := "test"
		if test {
			okind = "command"
		}
		c.Errorf(a.pos, "attempted to use %s '%s' as %s", okind, a.name, kind)
		return nil
	}
	if !c.reported["\x00"+a.name] {
		c.reported["\x00"+a.name] = true
		c.Errorf(a.pos, "unknown %s '%s' (only reported once at first occurrence)", kind, a.name)
	}
	return nil
}

// hasExt reports whether a spec's extension is required; "a|b" accepts
// either (a command shared by an extension and its deprecated alias).
func (c *Compiler) hasExt(ext string) bool {
	if ext == "" {
		return true
	}
	for _, e := range strings.Split(ext, "|") {
		if c.required[e] {
			return true
		}
	}
	return false
}

func isCond(name string) bool { return name == "if" || name == "elsif" || name == "else" }

// command validates one command and descends into its tests and block.
func (c *Compiler) command(a *astNode, chain *ifChain) *Node {
	s := c.lookup(a, false)
	if s == nil {
		*chain = ifChain{}
		return nil
	}
	n, ok := c.node(a, s)
	if !ok {
		c.subtests(a, s)
	} else if !c.subtests(a, s) || !c.blockShape(a, s) {
		ok = false
	} else {
		ok = c.check(n, chain)
	}
	skip := false // an earlier branch of the chain always runs
	if s.Name == "if" {
		chain.decided = false
	} else if isCond(s.Name) {
		skip = chain.decided
	}
	val := constUnknown
	if s.Tests > 0 && !skip {
		var tok bool
		n.Tests, val, tok = c.testList(a, s)
		ok = ok && tok
	}
	if skip {
		val = constFalse
	}
	if isCond(s.Name) {
		chain.prevOK = s.Name != "else"
		chain.decided = chain.decided || (ok && val == constTrue)
		if s.Name == "else" {
			chain.decided = false
		}
	} else {
		*chain = ifChain{}
	}
	if ok && val == constFalse {
		return n // the block can never run: Pigeonhole does not validate it
	}
	if s.Block == 1 {
		c.commandBlock(a, n)
	}
	return n
}

// check runs the placement rule of elsif/else and the spec's own check.
func (c *Compiler) check(n *Node, chain *ifChain) bool {
	before := len(c.errs)
	if (n.Spec.Name == "elsif" || n.Spec.Name == "else") && !chain.prevOK {
		c.Errorf(n.Pos, "the %s command must follow an if or elseif command", n.Spec.Name)
		return false
	}
	if n.Spec.Check != nil {
		n.Spec.Check(c, n)
	}
	return len(c.errs) == before
}

func (c *Compiler) commandBlock(a *astNode, n *Node) {
	if n.Spec.Name == "foreverypart" {
		c.loopNames = append(c.loopNames, n.TagValue("name").Str())
		defer func() { c.loopNames = c.loopNames[:len(c.loopNames)-1] }()
		if len(c.loopNames) > maxLoopNesting {
			c.Errorf(a.pos, "the nested foreverypart loop exceeds the nesting limit (<= %d levels)", maxLoopNesting)
		}
	}
	restore, skip := c.ihave(n)
	defer restore()
	if !skip {
		n.Block = c.block(a.block, false)
	}
}

// test validates one test; it returns the node, its compile-time value
// and whether it (and its sub-tests) are valid.
func (c *Compiler) test(a *astNode) (*Node, int, bool) {
	s := c.lookup(a, true)
	if s == nil {
		return nil, constUnknown, false
	}
	n, ok := c.node(a, s)
	if !ok {
		c.subtests(a, s)
	} else if !c.subtests(a, s) {
		ok = false
	} else if s.Check != nil {
		before := len(c.errs)
		s.Check(c, n)
		ok = len(c.errs) == before
	}
	if s.Tests > 0 {
		tests, val, tok := c.testList(a, s)
		n.Tests = tests
		return n, val, ok && tok
	}
	if !ok {
		return n, constUnknown, false
	}
	return n, leafConst(c, n), true
}

func leafConst(c *Compiler, n *Node) int {
	switch n.Spec.Name {
	case "true":
		return constTrue
	case "false":
		return constFalse
	case "ihave":
		if len(n.Args) == 1 {
			for _, ext := range n.Args[0].Strs {
				if !c.required[ext] && !ihaveAllowed(c.opts, ext) {
					return constFalse
				}
			}
		}
	}
	return constUnknown
}

// testList validates the sub-tests of a command or test and folds their
// constant values; once the value is decided the rest is not validated.
func (c *Compiler) testList(a *astNode, s *Spec) ([]*Node, int, bool) {
	var out []*Node
	val, ok := constNone, true
	for _, t := range a.tests {
		tn, v, tok := c.test(t)
		if tn != nil {
			out = append(out, tn)
		}
		if !tok || !ok {
			ok = false
			continue
		}
		var stop bool
		val, stop = foldConst(s.Name, val, v)
		if stop {
			break
		}
	}
	return out, val, ok
}

// foldConst combines the value so far with the next sub-test's value.
func foldConst(name string, cur, next int) (int, bool) {
	switch name {
	case "anyof", "allof":
		decisive := constTrue
		if name == "allof" {
			decisive = constFalse
		}
		if next == decisive {
			return next, true
		}
		if cur != constUnknown {
			cur = next
		}
		return cur, false
	case "not":
		if next < 0 {
			return constUnknown, false
		}
		return 1 - next, false
	case "if", "elsif":
		return next, false
	}
	return constUnknown, false
}

// subtests checks the number of sub-tests against the spec.
func (c *Compiler) subtests(a *astNode, s *Spec) bool {
	what := kindName(s)
	n := len(a.tests)
	switch {
	case s.Tests == 0 && n > 0:
		c.noSubtests(a, s)
	case s.Tests == 1 && n == 0:
		c.Errorf(a.pos, "the %s %s requires one sub-test, but none is specified", s.Name, what)
	case s.Tests == 1 && (n > 1 || a.testList):
		c.Errorf(a.pos, "the %s %s requires one sub-test, but a list of tests is specified", s.Name, what)
	case s.Tests == 2 && n == 0:
		c.Errorf(a.pos, "the %s %s requires a list of sub-tests, but none is specified", s.Name, what)
	case s.Tests == 2 && n == 1 && !a.testList:
		c.Errorf(a.pos, "the %s %s requires a list of sub-tests, but a single test is specified", s.Name, what)
	default:
		return true
	}
	return false
}

// noSubtests explains a test where none belongs: usually a forgotten
// semicolon, or a tag written without its colon.
func (c *Compiler) noSubtests(a *astNode, s *Spec) {
	what := kindName(s)
	name := a.tests[0].name
	if t := c.reg.tests[name]; t != nil && c.hasExt(t.Ext) {
		c.Errorf(a.pos, "the %s %s accepts no sub-tests, but tests are specified", s.Name, what)
		return
	}
	cmd := c.reg.cmds[name]
	if cmd == nil || !c.hasExt(cmd.Ext) {
		if td := findTag(s.Tags, name); td != nil && c.hasExt(td.Ext) {
			c.Errorf(a.pos, "missing colon ':' before ':%s' tag in %s %s", name, s.Name, what)
			return
		}
	}
	c.Errorf(a.pos, "missing semicolon ';' after %s %s", s.Name, what)
}

func (c *Compiler) blockShape(a *astNode, s *Spec) bool {
	switch {
	case s.IsTest:
		return true
	case s.Block == 1 && !a.hasBlock:
		c.Errorf(a.pos, "the %s command requires a command block, but it is missing", s.Name)
	case s.Block == 0 && a.hasBlock:
		c.Errorf(a.pos, "the %s command does not accept a command block, but one is specified anyway", s.Name)
	default:
		return true
	}
	return false
}

func kindName(s *Spec) string {
	if s.IsTest {
		return "test"
	}
	return "command"
}

// argTypeName names an argument type as Pigeonhole's messages do.
func argTypeName(t ValType) string {
	switch t {
	case TString:
		return "a string"
	case TStringList:
		return "a string list"
	case TNumber:
		return "a number"
	}
	return "nothing"
}

func astArgName(a *astArg) string {
	switch {
	case a.kind == argTag:
		return "a tag"
	case a.kind == argNumber:
		return "a number"
	case a.isList:
		return "a string list"
	}
	return "a string"
}

// groupNames are Pigeonhole's names for tag classes in duplicate errors.
var groupNames = map[string]string{"match": "MATCH-TYPE", "addresspart": "ADDRESS-PART"}

// tagConflict words a repeated tag, or two tags of one group, the way
// Pigeonhole does for that group.
func tagConflict(td *TagDef, other string, dup bool, what string) string {
	switch {
	case td.Group == "size":
		return "exactly one of the ':under' or ':over' tags must be specified for the size test, but more were found"
	case dup:
	case td.Group == "mimeopt":
		return fmt.Sprintf("the :type, :subtype, :contenttype, and :param arguments for the %s are mutually exclusive, but more than one was specified", what)
	case td.Group == "id":
		id := td.Name
		if id == "header" {
			id = other
		}
		return fmt.Sprintf("conflicting :header and :%s arguments specified for the %s", id, what)
	}
	return fmt.Sprintf("encountered duplicate %s for the %s", dupDesc(td, td.Name), what)
}

func dupDesc(td *TagDef, used string) string {
	if g, ok := groupNames[td.Group]; ok {
		return fmt.Sprintf("%s argument (:%s)", g, used)
	}
	return fmt.Sprintf(":%s argument", used)
}
