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

// Error joins the diagnostics, leaving out the final summary entry.
func (e *CompileError) Error() string {
	var msgs []string
	for i, x := range e.Errors {
		if i > 0 && i == len(e.Errors)-1 && (x.Msg == "validation failed" || x.Msg == "parse failed") {
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

type parser struct {
	lx       *lexer
	tok      token
	maxDepth int
}

func parse(src string, maxDepth int) ([]*astNode, error) {
	p := &parser{lx: newLexer(src), maxDepth: maxDepth}
	if err := p.next(); err != nil {
		return nil, err
	}
	cmds, err := p.commands(0)
	if err != nil {
		return nil, err
	}
	if p.tok.kind != tokEOF {
		return nil, p.unexpected("command")
	}
	return cmds, nil
}

func (p *parser) next() error {
	t, err := p.lx.next()
	p.tok = t
	return err
}

func (p *parser) unexpected(want string) error {
	got := p.tok.kind.String()
	if p.tok.kind == tokIdent {
		got = "identifier '" + p.tok.text + "'"
	}
	return &Error{Pos: p.tok.pos, Msg: fmt.Sprintf("expected %s, but found %s", want, got)}
}

func (p *parser) commands(depth int) ([]*astNode, error) {
	var out []*astNode
	for p.tok.kind == tokIdent {
		c, err := p.command(depth)
		if err != nil {
			return nil, err
		}
		out = append(out, c)
	}
	return out, nil
}

func (p *parser) command(depth int) (*astNode, error) {
	n := &astNode{pos: p.tok.pos, name: strings.ToLower(p.tok.text)}
	if err := p.next(); err != nil {
		return nil, err
	}
	if err := p.arguments(n, 0); err != nil {
		return nil, err
	}
	switch p.tok.kind {
	case tokSemi:
		return n, p.next()
	case tokLBrace:
		if depth+1 > p.maxDepth {
			return nil, &Error{Pos: p.tok.pos, Msg: fmt.Sprintf("cannot nest command blocks deeper than %d levels", p.maxDepth)}
		}
		if err := p.next(); err != nil {
			return nil, err
		}
		blk, err := p.commands(depth + 1)
		if err != nil {
			return nil, err
		}
		if p.tok.kind != tokRBrace {
			return nil, p.unexpected("'}' or command")
		}
		n.block, n.hasBlock = blk, true
		return n, p.next()
	}
	return nil, p.unexpected("';' or '{'")
}

// arguments reads *argument [test / test-list].
func (p *parser) arguments(n *astNode, depth int) error {
	for {
		a, err := p.argument()
		if err != nil {
			return err
		}
		if a == nil {
			break
		}
		n.args = append(n.args, a)
	}
	switch p.tok.kind {
	case tokIdent:
		t, err := p.test(depth + 1)
		if err != nil {
			return err
		}
		n.tests = []*astNode{t}
	case tokLParen:
		n.testList = true
		if err := p.next(); err != nil {
			return err
		}
		for {
			if p.tok.kind != tokIdent {
				return p.unexpected("test")
			}
			t, err := p.test(depth + 1)
			if err != nil {
				return err
			}
			n.tests = append(n.tests, t)
			if p.tok.kind == tokRParen {
				return p.next()
			}
			if p.tok.kind != tokComma {
				return p.unexpected("',' or ')'")
			}
			if err := p.next(); err != nil {
				return err
			}
		}
	}
	return nil
}

func (p *parser) test(depth int) (*astNode, error) {
	if depth > p.maxDepth {
		return nil, &Error{Pos: p.tok.pos, Msg: fmt.Sprintf("cannot nest tests deeper than %d levels", p.maxDepth)}
	}
	n := &astNode{pos: p.tok.pos, name: strings.ToLower(p.tok.text)}
	if err := p.next(); err != nil {
		return nil, err
	}
	return n, p.arguments(n, depth)
}

// argument returns nil when the current token starts no argument.
func (p *parser) argument() (*astArg, error) {
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
		return a, p.stringList(a)
	default:
		return nil, nil
	}
	return a, p.next()
}

func (p *parser) stringList(a *astArg) error {
	for {
		if err := p.next(); err != nil {
			return err
		}
		if p.tok.kind != tokString {
			return p.unexpected("string")
		}
		a.strs = append(a.strs, p.tok.text)
		if err := p.next(); err != nil {
			return err
		}
		if p.tok.kind == tokRBracket {
			return p.next()
		}
		if p.tok.kind != tokComma {
			return p.unexpected("',' or ']'")
		}
	}
}
