package spam

import (
	"fmt"
	"strconv"
	"strings"
)

// expr is a parsed meta-rule (or "if") expression. SpamAssassin compiles
// meta rules to Perl expressions over rule hit values, so the evaluator
// follows Perl's numeric semantics: && and || return an operand, not a
// boolean, comparisons and ! return 1 or 0.
type expr interface {
	value(en env) float64
}

// env gives identifiers their values: by name (evalExpr), or by the slot
// bindSlots gave them (slotEnv), which meta rules use for every message.
type env interface {
	ident(identExpr) float64
}

type (
	numExpr   float64
	identExpr struct {
		name string
		slot int32 // -1: not bound
	}
	notExpr struct{ x expr }
	negExpr struct{ x expr }
	binExpr struct {
		op   byte // see binOps
		l, r expr
	}
)

// binOps codes the binary operators in one byte each.
var binOps = map[string]byte{
	"&&": '&', "||": '|', "+": '+', "-": '-', "*": '*', "/": '/',
	">": '>', "<": '<', ">=": 'g', "<=": 'l', "==": '=', "!=": '!',
}

type nameEnv func(string) float64

func (f nameEnv) ident(e identExpr) float64 { return f(e.name) }

// slotEnv holds hit values by slot.
type slotEnv []float64

func (v slotEnv) ident(e identExpr) float64 {
	if e.slot < 0 {
		return 0
	}
	return v[e.slot]
}

// evalExpr evaluates e with identifiers looked up by name.
func evalExpr(e expr, lookup func(string) float64) float64 { return e.value(nameEnv(lookup)) }

func (e numExpr) value(env) float64      { return float64(e) }
func (e identExpr) value(en env) float64 { return en.ident(e) }
func (e notExpr) value(en env) float64   { return b2f(e.x.value(en) == 0) }
func (e negExpr) value(en env) float64   { return -e.x.value(en) }

func (e binExpr) value(en env) float64 {
	l := e.l.value(en)
	switch e.op {
	case '&':
		if l == 0 {
			return l
		}
		return e.r.value(en)
	case '|':
		if l != 0 {
			return l
		}
		return e.r.value(en)
	}
	r := e.r.value(en)
	switch e.op {
	case '+':
		return l + r
	case '-':
		return l - r
	case '*':
		return l * r
	case '/':
		if r == 0 {
			return 0 // Perl would die; SA then treats the rule as not hit
		}
		return l / r
	case '>':
		return b2f(l > r)
	case '<':
		return b2f(l < r)
	case 'g':
		return b2f(l >= r)
	case 'l':
		return b2f(l <= r)
	case '=':
		return b2f(l == r)
	case '!':
		return b2f(l != r)
	}
	return 0
}

// bindSlots returns e with each identifier given its slot (-1 for names
// slot does not know), so that evaluation indexes a slice instead of
// hashing names.
func bindSlots(e expr, slot func(string) int32) expr {
	switch x := e.(type) {
	case identExpr:
		return identExpr{name: x.name, slot: slot(x.name)}
	case notExpr:
		return notExpr{bindSlots(x.x, slot)}
	case negExpr:
		return negExpr{bindSlots(x.x, slot)}
	case binExpr:
		return binExpr{op: x.op, l: bindSlots(x.l, slot), r: bindSlots(x.r, slot)}
	}
	return e
}

func b2f(b bool) float64 {
	if b {
		return 1
	}
	return 0
}

// exprIdents lists the identifiers an expression refers to.
func exprIdents(e expr, out []string) []string {
	switch x := e.(type) {
	case identExpr:
		return append(out, x.name)
	case notExpr:
		return exprIdents(x.x, out)
	case negExpr:
		return exprIdents(x.x, out)
	case binExpr:
		return exprIdents(x.r, exprIdents(x.l, out))
	}
	return out
}

// Perl precedence, loosest first.
var exprLevels = [][]string{
	{"||"}, {"&&"}, {"==", "!="}, {"<", ">", "<=", ">="}, {"+", "-"}, {"*", "/"},
}

type exprParser struct {
	toks []string
	pos  int
}

// parseExpr parses a meta expression. Identifiers are rule names (or, for
// "if" lines, pre-resolved names); numbers may have a fraction.
func parseExpr(s string) (expr, error) {
	toks, err := lexExpr(s)
	if err != nil {
		return nil, err
	}
	if len(toks) == 0 {
		return nil, fmt.Errorf("empty expression")
	}
	p := &exprParser{toks: toks}
	e, err := p.level(0)
	if err != nil {
		return nil, err
	}
	if p.pos != len(p.toks) {
		return nil, fmt.Errorf("unexpected %q", p.toks[p.pos])
	}
	return e, nil
}

func lexExpr(s string) ([]string, error) {
	var toks []string
	for i := 0; i < len(s); {
		c := s[i]
		switch {
		case c == ' ' || c == '\t':
			i++
		case isIdentByte(c):
			j := i
			for j < len(s) && (isIdentByte(s[j]) || s[j] == '.' && isDigitStr(s[i:j])) {
				j++
			}
			toks = append(toks, s[i:j])
			i = j
		case strings.ContainsRune("()+-*/", rune(c)):
			toks = append(toks, s[i:i+1])
			i++
		default:
			j := i
			for j < len(s) && strings.IndexByte("&|!<>=", s[j]) >= 0 && j-i < 2 {
				j++
			}
			op := s[i:j]
			switch op {
			case "&&", "||", "!", "<", ">", "<=", ">=", "==", "!=":
			default:
				if len(op) == 2 && op[0] == '!' { // "!!" or "!(" handled singly
					op = "!"
					j = i + 1
				} else {
					return nil, fmt.Errorf("bad operator at %q", s[i:])
				}
			}
			toks = append(toks, op)
			i = j
		}
	}
	return toks, nil
}

func isIdentByte(c byte) bool {
	return c == '_' || isAlnum(c)
}

func isDigitStr(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return s != ""
}

func (p *exprParser) peek() string {
	if p.pos < len(p.toks) {
		return p.toks[p.pos]
	}
	return ""
}

func (p *exprParser) level(n int) (expr, error) {
	if n == len(exprLevels) {
		return p.unary()
	}
	l, err := p.level(n + 1)
	if err != nil {
		return nil, err
	}
	for {
		op := p.peek()
		found := false
		for _, o := range exprLevels[n] {
			found = found || o == op
		}
		if !found {
			return l, nil
		}
		p.pos++
		r, err := p.level(n + 1)
		if err != nil {
			return nil, err
		}
		l = binExpr{op: binOps[op], l: l, r: r}
	}
}

func (p *exprParser) unary() (expr, error) {
	t := p.peek()
	switch t {
	case "":
		return nil, fmt.Errorf("unexpected end of expression")
	case "!":
		p.pos++
		x, err := p.unary()
		return notExpr{x}, err
	case "-":
		p.pos++
		x, err := p.unary()
		return negExpr{x}, err
	case "(":
		p.pos++
		x, err := p.level(0)
		if err != nil {
			return nil, err
		}
		if p.peek() != ")" {
			return nil, fmt.Errorf("missing )")
		}
		p.pos++
		return x, nil
	}
	p.pos++
	if t[0] >= '0' && t[0] <= '9' {
		v, err := strconv.ParseFloat(t, 64)
		if err != nil {
			return nil, fmt.Errorf("bad number %q", t)
		}
		return numExpr(v), nil
	}
	if !isIdentByte(t[0]) {
		return nil, fmt.Errorf("unexpected %q", t)
	}
	return identExpr{name: t, slot: -1}, nil
}
