package sieve

import (
	"fmt"
	"strings"
)

// Pos is a position in a script: 1-based line and column (in bytes).
type Pos struct {
	Line, Col int
}

// String formats the position as line:column.
func (p Pos) String() string { return fmt.Sprintf("%d:%d", p.Line, p.Col) }

type tokKind int

const (
	tokEOF tokKind = iota
	tokIdent
	tokTag
	tokNumber
	tokString
	tokLBracket
	tokRBracket
	tokComma
	tokLParen
	tokRParen
	tokLBrace
	tokRBrace
	tokSemi
	tokColon   // a ':' not starting a tag
	tokSlash   // a '/' not starting a comment
	tokGarbage // characters that start no token
	tokError   // a token the lexer already reported as broken
)

// tokNames are the descriptions Pigeonhole uses in parse errors.
var tokNames = [...]string{"end of file", "identifier", "tag", "number", "string",
	"'['", "']'", "','", "'('", "')'", "'{'", "'}'", "';'", "':'", "'/'",
	"unknown characters", "error token"}

func (k tokKind) String() string { return tokNames[k] }

var singleTok = [256]tokKind{'[': tokLBracket, ']': tokRBracket, ',': tokComma,
	'(': tokLParen, ')': tokRParen, '{': tokLBrace, '}': tokRBrace, ';': tokSemi}

// Lexical limits, as in Pigeonhole (sieve-limits.h).
const (
	maxIdentLen  = 32
	maxStringLen = 1 << 20
)

type token struct {
	kind tokKind
	pos  Pos
	text string // identifier or tag name (without ':'), string value
	num  uint64
}

// lexer splits a script into tokens (RFC 5228 section 2 and 8.1). It never
// stops: a broken token is reported in errs and returned as tokError (or
// tokGarbage), so the parser can recover and find further errors.
type lexer struct {
	src  string
	off  int
	line int
	col  int
	prev tokKind
	errs *[]*Error
}

func newLexer(src string, errs *[]*Error) *lexer {
	return &lexer{src: src, line: 1, col: 1, errs: errs}
}

func (l *lexer) pos() Pos { return Pos{l.line, l.col} }

func (l *lexer) advance(n int) {
	for i := 0; i < n && l.off < len(l.src); i++ {
		if l.src[l.off] == '\n' {
			l.line++
			l.col = 1
		} else {
			l.col++
		}
		l.off++
	}
}

// fail reports a lexical error and returns an error token at p.
func (l *lexer) fail(p Pos, format string, args ...any) token {
	*l.errs = append(*l.errs, &Error{Pos: p, Msg: fmt.Sprintf(format, args...)})
	return token{kind: tokError, pos: p}
}

// skipSpace skips white space and both comment styles; an unterminated
// bracket comment or a NUL in a comment yields an error token.
func (l *lexer) skipSpace() (token, bool) {
	for l.off < len(l.src) {
		c := l.src[l.off]
		switch {
		case c == ' ' || c == '\t' || c == '\r' || c == '\n':
			l.advance(1)
		case c == '#':
			for l.off < len(l.src) && l.src[l.off] != '\n' {
				if l.src[l.off] == 0 {
					p := l.pos()
					l.advance(1)
					return l.fail(p, "encountered NUL character in hash comment"), false
				}
				l.advance(1)
			}
		case c == '/' && strings.HasPrefix(l.src[l.off:], "/*"):
			if t, ok := l.bracketComment(); !ok {
				return t, false
			}
		default:
			return token{}, true
		}
	}
	return token{}, true
}

func (l *lexer) bracketComment() (token, bool) {
	p := l.pos()
	end := strings.Index(l.src[l.off+2:], "*/")
	if nul := strings.IndexByte(l.src[l.off+2:], 0); nul >= 0 && (end < 0 || nul < end) {
		l.advance(2 + nul + 1)
		return l.fail(p, "encountered NUL character in bracket comment"), false
	}
	if end < 0 {
		l.advance(len(l.src))
		return l.fail(p, "end of file before end of bracket comment ('/* ... */') started at line %d", p.Line), false
	}
	l.advance(end + 4)
	return token{}, true
}

func isIdentStart(c byte) bool {
	return c == '_' || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')
}

func isIdentChar(c byte) bool { return isIdentStart(c) || (c >= '0' && c <= '9') }

// next returns the next token.
func (l *lexer) next() token {
	t := l.scan()
	l.prev = t.kind
	return t
}

func (l *lexer) scan() token {
	if t, ok := l.skipSpace(); !ok {
		return t
	}
	p := l.pos()
	if l.off >= len(l.src) {
		return token{kind: tokEOF, pos: p}
	}
	c := l.src[l.off]
	if k := singleTok[c]; k != tokEOF {
		l.advance(1)
		return token{kind: k, pos: p}
	}
	switch {
	case c == '"':
		return l.quoted(p)
	case c == ':':
		l.advance(1)
		if l.off >= len(l.src) || !isIdentStart(l.src[l.off]) {
			return token{kind: tokColon, pos: p}
		}
		return l.identifier(p, tokTag)
	case c == '/':
		l.advance(1)
		return token{kind: tokSlash, pos: p}
	case c >= '0' && c <= '9':
		return l.number(p)
	case isIdentStart(c):
		return l.identifier(p, tokIdent)
	}
	// A run of garbage is reported once, at its first character.
	l.advance(1)
	if l.prev != tokGarbage {
		desc := fmt.Sprintf("0x%02x", c)
		if c > 31 && c < 127 {
			desc = fmt.Sprintf("'%c'", c)
		}
		*l.errs = append(*l.errs, &Error{Pos: p, Msg: "unexpected character(s) starting with " + desc})
	}
	return token{kind: tokGarbage, pos: p}
}

func (l *lexer) identifier(p Pos, kind tokKind) token {
	start := l.off
	for l.off < len(l.src) && isIdentChar(l.src[l.off]) {
		l.advance(1)
	}
	id := l.src[start:l.off]
	if kind == tokIdent && len(id) == 4 && strings.EqualFold(id, "text") && l.off < len(l.src) && l.src[l.off] == ':' {
		l.advance(1)
		return l.multiline(p)
	}
	if len(id) > maxIdentLen {
		if kind == tokTag {
			return l.fail(p, "encountered impossibly long tag identifier ':%s'", sanitize(id, maxIdentLen))
		}
		return l.fail(p, "encountered impossibly long identifier '%s'", sanitize(id, maxIdentLen))
	}
	return token{kind: kind, pos: p, text: id}
}

// number reads digits with an optional K/M/G quantifier; the value must
// fit in 64 bits unsigned (RFC 5228 section 2.4.1 leaves the limit open).
func (l *lexer) number(p Pos) token {
	var n uint64
	overflow := false
	for l.off < len(l.src) && l.src[l.off] >= '0' && l.src[l.off] <= '9' {
		d := uint64(l.src[l.off] - '0')
		if n > (^uint64(0)-d)/10 {
			overflow = true
		}
		n = n*10 + d
		l.advance(1)
	}
	if !overflow && l.off < len(l.src) {
		shift := 0
		switch l.src[l.off] {
		case 'k', 'K':
			shift = 10
		case 'm', 'M':
			shift = 20
		case 'g', 'G':
			shift = 30
		}
		if shift > 0 {
			overflow = n > ^uint64(0)>>shift
			n <<= shift
			l.advance(1)
		}
	}
	if overflow {
		return l.fail(p, "number exceeds integer limits (max %d)", ^uint64(0))
	}
	return token{kind: tokNumber, pos: p, num: n}
}

func (l *lexer) quoted(p Pos) token {
	l.advance(1)
	var b strings.Builder
	for {
		if l.off >= len(l.src) {
			return l.fail(p, "end of file before end of quoted string started at line %d", p.Line)
		}
		c := l.src[l.off]
		if c == '\\' {
			l.advance(1)
			if l.off >= len(l.src) {
				continue
			}
			c = l.src[l.off]
		} else if c == '"' {
			l.advance(1)
			break
		}
		switch c {
		case 0:
			l.advance(1)
			return l.fail(p, "encountered NUL character in quoted string started at line %d", p.Line)
		case '\r':
			if l.off+1 >= len(l.src) || l.src[l.off+1] != '\n' {
				l.advance(1)
				return l.fail(p, "found stray carriage-return (CR) character in quoted string started at line %d", p.Line)
			}
			l.advance(1)
			continue // the LF adds the line end
		case '\n':
			b.WriteString("\r\n")
		default:
			b.WriteByte(c)
		}
		l.advance(1)
	}
	if b.Len() > maxStringLen {
		return l.fail(p, "quoted string started at line %d is too long (longer than %d bytes)", p.Line, maxStringLen)
	}
	return token{kind: tokString, pos: p, text: b.String()}
}

// multiline reads a text: string: after "text:" only white space or a
// hash comment may follow on the line; the string ends at a line holding a
// single dot, and leading dots are unstuffed.
func (l *lexer) multiline(p Pos) token {
	for l.off < len(l.src) && (l.src[l.off] == ' ' || l.src[l.off] == '\t') {
		l.advance(1)
	}
	if l.off < len(l.src) && l.src[l.off] == '#' {
		for l.off < len(l.src) && l.src[l.off] != '\n' {
			l.advance(1)
		}
	}
	if l.off < len(l.src) && l.src[l.off] == '\r' {
		l.advance(1)
	}
	if l.off >= len(l.src) {
		return l.fail(p, "end of file before end of multi-line string")
	}
	if c := l.src[l.off]; c != '\n' {
		desc := fmt.Sprintf("0x%02x", c)
		if c > 31 && c < 127 {
			desc = fmt.Sprintf("'%c'", c)
		}
		return l.fail(p, "invalid character %s after 'text:' in multiline string", desc)
	}
	l.advance(1)
	var b strings.Builder
	for {
		if l.off >= len(l.src) {
			return l.fail(p, "end of file before end of multi-line string")
		}
		end := strings.IndexByte(l.src[l.off:], '\n')
		if end < 0 {
			l.advance(len(l.src))
			return l.fail(p, "end of file before end of multi-line string")
		}
		line := strings.TrimSuffix(l.src[l.off:l.off+end], "\r")
		if strings.IndexByte(line, 0) >= 0 {
			l.advance(end + 1)
			return l.fail(p, "encountered NUL character in quoted string started at line %d", p.Line)
		}
		l.advance(end + 1)
		if line == "." {
			break
		}
		if strings.HasPrefix(line, "..") {
			line = line[1:]
		}
		if b.Len() <= maxStringLen {
			b.WriteString(line)
			b.WriteString("\r\n")
		}
	}
	if b.Len() > maxStringLen {
		return l.fail(p, "multi-line string started at line %d is too long (longer than %d bytes)", p.Line, maxStringLen)
	}
	return token{kind: tokString, pos: p, text: b.String()}
}
