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
)

var tokNames = [...]string{"end of script", "identifier", "tag", "number", "string",
	"'['", "']'", "','", "'('", "')'", "'{'", "'}'", "';'"}

func (k tokKind) String() string { return tokNames[k] }

var singleTok = [256]tokKind{'[': tokLBracket, ']': tokRBracket, ',': tokComma,
	'(': tokLParen, ')': tokRParen, '{': tokLBrace, '}': tokRBrace, ';': tokSemi}

type token struct {
	kind tokKind
	pos  Pos
	text string // identifier or tag name (without ':'), string value
	num  uint64
}

// lexer splits a script into tokens (RFC 5228 section 2 and 8.1).
type lexer struct {
	src  string
	off  int
	line int
	col  int
}

func newLexer(src string) *lexer { return &lexer{src: src, line: 1, col: 1} }

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

func (l *lexer) errorf(p Pos, format string, args ...any) error {
	return &Error{Pos: p, Msg: fmt.Sprintf(format, args...)}
}

// skipSpace skips white space and both comment styles.
func (l *lexer) skipSpace() error {
	for l.off < len(l.src) {
		c := l.src[l.off]
		switch {
		case c == ' ' || c == '\t' || c == '\r' || c == '\n':
			l.advance(1)
		case c == '#':
			for l.off < len(l.src) && l.src[l.off] != '\n' {
				l.advance(1)
			}
		case c == '/' && strings.HasPrefix(l.src[l.off:], "/*"):
			p := l.pos()
			end := strings.Index(l.src[l.off+2:], "*/")
			if end < 0 {
				return l.errorf(p, "end of file before end of bracket comment ('/* ... */') started at line %d", p.Line)
			}
			l.advance(end + 4)
		default:
			return nil
		}
	}
	return nil
}

func isIdentStart(c byte) bool {
	return c == '_' || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')
}

func isIdentChar(c byte) bool { return isIdentStart(c) || (c >= '0' && c <= '9') }

// next returns the next token.
func (l *lexer) next() (token, error) {
	if err := l.skipSpace(); err != nil {
		return token{}, err
	}
	p := l.pos()
	if l.off >= len(l.src) {
		return token{kind: tokEOF, pos: p}, nil
	}
	c := l.src[l.off]
	if k := singleTok[c]; k != tokEOF {
		l.advance(1)
		return token{kind: k, pos: p}, nil
	}
	switch {
	case c == '"':
		return l.quoted(p)
	case c == ':':
		l.advance(1)
		if l.off >= len(l.src) || !isIdentStart(l.src[l.off]) {
			return token{}, l.errorf(p, "tag without name")
		}
		return token{kind: tokTag, pos: p, text: l.ident()}, nil
	case c >= '0' && c <= '9':
		return l.number(p)
	case isIdentStart(c):
		id := l.ident()
		if strings.EqualFold(id, "text") && l.off < len(l.src) && l.src[l.off] == ':' {
			l.advance(1)
			return l.multiline(p)
		}
		return token{kind: tokIdent, pos: p, text: id}, nil
	}
	if c >= 0x20 && c < 0x7f {
		return token{}, l.errorf(p, "unexpected character '%c'", c)
	}
	return token{}, l.errorf(p, "unexpected character 0x%02x", c)
}

func (l *lexer) ident() string {
	start := l.off
	for l.off < len(l.src) && isIdentChar(l.src[l.off]) {
		l.advance(1)
	}
	return l.src[start:l.off]
}

func (l *lexer) number(p Pos) (token, error) {
	var n uint64
	overflow := false
	for l.off < len(l.src) && l.src[l.off] >= '0' && l.src[l.off] <= '9' {
		d := uint64(l.src[l.off] - '0')
		if n > (1<<63-1-d)/10 {
			overflow = true
		}
		n = n*10 + d
		l.advance(1)
	}
	if l.off < len(l.src) {
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
			if n > (1<<63-1)>>shift {
				overflow = true
			}
			n <<= shift
			l.advance(1)
		}
	}
	if l.off < len(l.src) && isIdentStart(l.src[l.off]) {
		return token{}, l.errorf(p, "invalid number: identifier characters after digits")
	}
	if overflow {
		return token{}, l.errorf(p, "number is too large")
	}
	return token{kind: tokNumber, pos: p, num: n}, nil
}

func (l *lexer) quoted(p Pos) (token, error) {
	l.advance(1)
	var b strings.Builder
	for {
		if l.off >= len(l.src) {
			return token{}, l.errorf(p, "end of file before end of quoted string")
		}
		c := l.src[l.off]
		switch c {
		case '"':
			l.advance(1)
			return token{kind: tokString, pos: p, text: b.String()}, nil
		case '\\':
			if l.off+1 < len(l.src) {
				b.WriteByte(l.src[l.off+1])
			}
			l.advance(2)
		case '\r':
			// A bare CR is kept out: line ends in strings are CRLF.
			l.advance(1)
			if l.off < len(l.src) && l.src[l.off] == '\n' {
				b.WriteString("\r\n")
				l.advance(1)
			}
		case '\n':
			b.WriteString("\r\n")
			l.advance(1)
		default:
			b.WriteByte(c)
			l.advance(1)
		}
	}
}

// multiline reads a text: string: after "text:" only white space or a
// hash comment may follow on the line; the string ends at a line holding a
// single dot, and leading dots are unstuffed.
func (l *lexer) multiline(p Pos) (token, error) {
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
	if l.off >= len(l.src) || l.src[l.off] != '\n' {
		return token{}, l.errorf(p, "invalid character after 'text:' in multiline string")
	}
	l.advance(1)
	var b strings.Builder
	for {
		if l.off >= len(l.src) {
			return token{}, l.errorf(p, "end of file before end of multi-line string")
		}
		end := strings.IndexByte(l.src[l.off:], '\n')
		last := end < 0
		if last {
			end = len(l.src) - l.off
		}
		line := strings.TrimSuffix(l.src[l.off:l.off+end], "\r")
		if line == "." {
			l.advance(end + 1)
			return token{kind: tokString, pos: p, text: b.String()}, nil
		}
		if last {
			return token{}, l.errorf(p, "end of file before end of multi-line string")
		}
		if strings.HasPrefix(line, "..") {
			line = line[1:]
		}
		b.WriteString(line)
		b.WriteString("\r\n")
		l.advance(end + 1)
	}
}
