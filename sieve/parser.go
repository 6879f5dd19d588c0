package sieve

import (
	"fmt"
	"strings"
)

// Error is one compile or runtime diagnostic with its script position.
type Error struct {
	Pos    Pos
	Script string // script name; empty for the main script
	Msg    string
}

// Error formats the diagnostic with its script and position.
func (e *Error) Error() string {
	if e.Script != "" {
		return fmt.Sprintf("%s: line %d:%d: %s", e.Script, e.Pos.Line, e.Pos.Col, e.Msg)
	}
	return fmt.Sprintf("line %d:%d: %s", e.Pos.Line, e.Pos.Col, e.Msg)
}

// CompileError collects every diagnostic of a failed compile.
type CompileError struct {
	Errors []*Error
}

// summaries are the final entries of a failed compile.
var summaries = map[string]bool{"parse failed": true, "validation failed": true, "code generation failed": true}

// Error joins the diagnostics, leaving out the final summary entry.
func (e *CompileError) Error() string {
	var msgs []string
	for i, x := range e.Errors {
		if i > 0 && i == len(e.Errors)-1 && summaries[x.Msg] {
			continue
		}
		msgs = append(msgs, x.Error())
	}
	return strings.Join(msgs, "; ")
}

type argKind int

const (
	argTag argKind = iota
	argNumber
	argStrings
)

// astArg is one argument as written: a tag, a number or a string list.
type astArg struct {
	pos    Pos
	kind   argKind
	tag    string
	num    uint64
	strs   []string
	isList bool // written with brackets
}

func (a *astArg) describe() string {
	switch a.kind {
	case argTag:
		return "tag ':" + a.tag + "'"
	case argNumber:
		return "number"
	}
	if a.isList {
		return "string list"
	}
	return "string"
}

// astNode is a command or a test.
type astNode struct {
	pos      Pos
	name     string
	args     []*astArg
	tests    []*astNode
	testList bool // tests written in parentheses
	block    []*astNode
	hasBlock bool
}

// parser builds the syntax tree (RFC 5228 section 8.2). Like Pigeonhole
// it does not stop at the first error: it skips to the end of the broken
// structure (string list, test list, command or block) and goes on, so
// one compile reports every syntax error.
type parser struct {
	lx       *lexer
	tok      token
	maxDepth int
	errs     []*Error
	failed   bool
}

// Parse states: pOK means the parser is in a defined state; pLost means
// the caller must recover by skipping tokens.
const (
	pLost = 0
	pOK   = 1
)

// maxCommandArgs bounds the arguments of one command or test.
const maxCommandArgs = 32

// parse returns the commands of src, or every syntax error found.
func parse(src string, maxDepth int) ([]*astNode, []*Error) {
	p := &parser{maxDepth: maxDepth}
	p.lx = newLexer(src, &p.errs)
	p.next()
	var root []*astNode
	if p.commands(&root, 0) > 0 && !p.failed && p.tok.kind != tokEOF {
		p.errorf("unexpected %s found at (the presumed) end of file", p.tok.kind)
	}
	if p.failed || len(p.errs) > 0 {
		return nil, p.errs
	}
	return root, nil
}

func (p *parser) next() { p.tok = p.lx.next() }

// errorf records a syntax error at the current token, unless the lexer
// already reported that token.
func (p *parser) errorf(format string, args ...any) {
	p.failed = true
	if p.tok.kind != tokError {
		p.errs = append(p.errs, &Error{Pos: p.tok.pos, Msg: fmt.Sprintf(format, args...)})
	}
}

// commands reads commands into block until a token that starts none.
func (p *parser) commands(block *[]*astNode, depth int) int {
	res := pOK
	for res > 0 && p.tok.kind == tokIdent {
		cmd := &astNode{pos: p.tok.pos, name: strings.ToLower(p.tok.text)}
		*block = append(*block, cmd)
		p.next()
		res = p.arguments(cmd, 0)
		if res > 0 && p.tok.kind != tokSemi && p.tok.kind != tokLBrace {
			p.errorf("expected end of command ';' or the beginning of a compound block '{', but found %s", p.tok.kind)
			res = pLost
		}
		if res == pLost {
			res = p.recover(tokSemi)
		}
		if res <= 0 {
			return res
		}
		if p.tok.kind == tokSemi {
			p.next()
			continue
		}
		res = p.block(cmd, depth)
	}
	return res
}

// block reads a block: '{' commands '}'.
func (p *parser) block(cmd *astNode, depth int) int {
	if depth+1 > p.maxDepth {
		p.errorf("cannot nest command blocks deeper than %d levels", p.maxDepth)
		p.next()
		res := p.recover(tokRBrace)
		if res > 0 {
			p.next()
		}
		return res
	}
	p.next()
	cmd.hasBlock = true
	res := p.commands(&cmd.block, depth+1)
	if res <= 0 {
		if res = p.recover(tokRBrace); res > 0 {
			p.next()
		}
		return res
	}
	if p.tok.kind != tokRBrace {
		p.errorf("expected end of compound block '}', but found %s", p.tok.kind)
		// The '}' found by recovery closes this block in the caller.
		return p.recover(tokRBrace)
	}
	p.next()
	return pOK
}

// arguments reads *argument [test / test-list].
func (p *parser) arguments(n *astNode, depth int) int {
	res := pOK
	for res > 0 {
		a := &astArg{pos: p.tok.pos}
		switch p.tok.kind {
		case tokTag:
			a.kind, a.tag = argTag, strings.ToLower(p.tok.text)
		case tokNumber:
			a.kind, a.num = argNumber, p.tok.num
		case tokString:
			a.kind, a.strs = argStrings, []string{p.tok.text}
		case tokLBracket:
			a.kind, a.isList = argStrings, true
		default:
			return p.tests(n, depth)
		}
		n.args = append(n.args, a)
		if a.isList {
			res = p.stringList(a)
		} else {
			p.next()
		}
		if len(n.args) > maxCommandArgs {
			p.errorf("too many arguments for command '%s'", n.name)
			return pLost
		}
	}
	return res
}

func (p *parser) stringList(a *astArg) int {
	res := pOK
	p.next() // '['
	if p.tok.kind == tokString {
		a.strs = append(a.strs, p.tok.text)
		p.next()
		for p.tok.kind == tokComma {
			p.next()
			if p.tok.kind != tokString {
				p.errorf("expecting string after ',' in string list, but found %s", p.tok.kind)
				res = p.recover(tokRBracket)
				break
			}
			a.strs = append(a.strs, p.tok.text)
			p.next()
		}
	} else {
		p.errorf("expecting string after '[' in string list, but found %s", p.tok.kind)
		res = p.recover(tokRBracket)
	}
	if p.tok.kind == tokRBracket {
		p.next()
		return res
	}
	p.errorf("expecting ',' or end of string list ']', but found %s", p.tok.kind)
	if res = p.recover(tokRBracket); res > 0 {
		p.next()
	}
	return res
}

// tests reads the optional test or parenthesized test list of n.
func (p *parser) tests(n *astNode, depth int) int {
	switch p.tok.kind {
	case tokIdent:
		if depth+1 > p.maxDepth {
			p.errorf("cannot nest tests deeper than %d levels", p.maxDepth)
			return pLost
		}
		return p.test(n, depth)
	case tokLParen:
		p.next()
		if depth+1 > p.maxDepth {
			p.errorf("cannot nest tests deeper than %d levels", p.maxDepth)
			res := p.recover(tokRParen)
			if res > 0 {
				p.next()
			}
			return res
		}
		n.testList = true
		res := p.testList(n, depth)
		if p.tok.kind == tokRParen {
			p.next()
			return res
		}
		p.errorf("expecting ',' or end of test list ')', but found %s", p.tok.kind)
		if res = p.recover(tokRParen); res > 0 {
			p.next()
		}
		return res
	}
	return pOK
}

// test reads one test (identifier arguments) as a sub-test of n.
func (p *parser) test(n *astNode, depth int) int {
	t := &astNode{pos: p.tok.pos, name: strings.ToLower(p.tok.text)}
	n.tests = append(n.tests, t)
	p.next()
	return p.arguments(t, depth+1)
}

// testList reads the tests after '(' up to (not including) ')'.
func (p *parser) testList(n *astNode, depth int) int {
	if p.tok.kind != tokIdent {
		p.errorf("expecting test identifier after '(' in test list, but found %s", p.tok.kind)
		return p.recover(tokRParen)
	}
	if p.test(n, depth) <= 0 {
		return p.recover(tokRParen)
	}
	for p.tok.kind == tokComma {
		p.next()
		if p.tok.kind != tokIdent {
			p.errorf("expecting test identifier after ',' in test list, but found %s", p.tok.kind)
			return p.recover(tokRParen)
		}
		if p.test(n, depth) <= 0 {
			return p.recover(tokRParen)
		}
	}
	return pOK
}

// Recovery priorities: a structure may skip tokens of its own or a lower
// priority, never past the end of an enclosing one.
func tokPriority(k tokKind) int {
	switch k {
	case tokLBrace, tokRBrace:
		return 3
	case tokSemi:
		return 2
	case tokLParen, tokRParen:
		return 1
	case tokLBracket, tokRBracket:
		return 0
	}
	return -1
}

// recover skips tokens until the end token of the broken structure, taking
// nesting of the same structure into account. It returns pOK with the end
// token current; for a command a '{' also counts as its end.
func (p *parser) recover(end tokKind) int {
	begins := [4]tokKind{tokLBracket, tokLParen, -1, tokLBrace}
	prio := tokPriority(end)
	nesting := 1
	for p.tok.kind != tokEOF && tokPriority(p.tok.kind) <= prio {
		if p.tok.kind == begins[prio] {
			nesting++
		} else if p.tok.kind == end {
			if nesting--; nesting == 0 {
				return pOK
			}
		}
		p.next()
	}
	if end == tokSemi && p.tok.kind == tokLBrace {
		return pOK
	}
	return pLost
}
