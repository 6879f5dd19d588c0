package dkim

import (
	"io"
	"strings"
)

// Canon is a DKIM canonicalization algorithm (RFC 6376 section 3.4).
type Canon int

// The two canonicalizations of RFC 6376.
const (
	Simple Canon = iota
	Relaxed
)

func (c Canon) String() string {
	if c == Relaxed {
		return "relaxed"
	}
	return "simple"
}

// parseCanon parses "hdr/body", "hdr" (body = simple) or "" (simple/simple).
func parseCanon(s string) (hdr, body Canon, ok bool) {
	h, b, found := strings.Cut(strings.ToLower(strings.TrimSpace(s)), "/")
	one := func(v string) (Canon, bool) {
		switch v {
		case "simple", "":
			return Simple, true
		case "relaxed":
			return Relaxed, true
		}
		return Simple, false
	}
	hdr, ok1 := one(h)
	body, ok2 := Simple, true
	if found {
		if b == "" {
			return 0, 0, false
		}
		body, ok2 = one(b)
	}
	return hdr, body, ok1 && ok2
}

func isWSP(c byte) bool { return c == ' ' || c == '\t' }

// appendHeader appends the canonical form of one field, CRLF-terminated
// unless noCRLF (the signature field itself is hashed without it).
func appendHeader(dst []byte, c Canon, name, value string, noCRLF bool) []byte {
	if c == Simple {
		dst = append(dst, name...)
		dst = append(dst, ':')
		dst = append(dst, value...)
	} else {
		dst = appendRelaxedHeader(dst, name, value)
	}
	if !noCRLF {
		dst = append(dst, '\r', '\n')
	}
	return dst
}

// appendRelaxedHeader: lower-case name without WSP, value with every run
// of white space (SP, HT, and also CR, LF, VT, FF as OpenDKIM's isspace()
// test has it, so a bare CR counts as a space) collapsed to one SP, leading
// and trailing white space removed (RFC 6376 3.4.2).
func appendRelaxedHeader(dst []byte, name, value string) []byte {
	for i := 0; i < len(name); i++ {
		c := name[i]
		if isSpace(c) {
			continue
		}
		if 'A' <= c && c <= 'Z' {
			c += 'a' - 'A'
		}
		dst = append(dst, c)
	}
	dst = append(dst, ':')
	space, started := false, false
	for i := 0; i < len(value); i++ {
		c := value[i]
		if isSpace(c) {
			space = true
			continue
		}
		if space && started {
			dst = append(dst, ' ')
		}
		space, started = false, true
		dst = append(dst, c)
	}
	return dst
}

// isSpace is C's isspace() in the "C" locale.
func isSpace(c byte) bool { return c == ' ' || ('\t' <= c && c <= '\r') }

// bodyCanon canonicalizes a body the way OpenDKIM 2.11's libopendkim does
// (dkim-canon.c), which differs from go-msgauth v0.7.0 on bare CR bytes:
//   - simple: a line made only of CRs before its CRLF counts as an empty line
//     (so it is dropped at the end of the body, or becomes CRLF elsewhere);
//   - relaxed: a lone CR followed by anything but LF is deleted, a CR
//     followed by another CR stays as content.
//
// Bare LF (never sent by Postfix, which hands milters CRLF lines) is treated
// as a line end, as OpenDKIM's FixCRLF and go-msgauth do. Output goes to w
// (a hash) through a small buffer; memory use is constant.
type bodyCanon struct {
	w         io.Writer
	canon     Canon
	out       []byte // pending output, flushed to w when large
	line      []byte // relaxed: current word; simple: current line
	blanks    int    // empty lines seen but not yet written
	blankline bool   // at the start of a line with nothing but CRs yet
	state     int    // relaxed state machine, see writeRelaxed
	prevCR    bool   // last byte was CR (for LF fixing)
	wrote     int64  // bytes produced so far
	limit     int64  // l= limit; -1 for none
}

func newBodyCanon(w io.Writer, c Canon, limit int64) *bodyCanon {
	return &bodyCanon{w: w, canon: c, blankline: true, limit: limit,
		out: make([]byte, 0, 4096)}
}

func (b *bodyCanon) emit(p []byte) {
	if b.limit >= 0 {
		left := b.limit - b.wrote
		if left <= 0 {
			return
		}
		if int64(len(p)) > left {
			p = p[:left]
		}
	}
	b.wrote += int64(len(p))
	b.out = append(b.out, p...)
	if len(b.out) >= 4096 {
		b.w.Write(b.out)
		b.out = b.out[:0]
	}
}

var (
	crlf = []byte("\r\n")
	lf   = []byte("\n")
	sp   = []byte(" ")
)

func (b *bodyCanon) flushBlanks() {
	for ; b.blanks > 0; b.blanks-- {
		b.emit(crlf)
	}
}

// Write never fails; it returns len(p).
func (b *bodyCanon) Write(p []byte) (int, error) {
	for _, c := range p {
		if c == '\n' && !b.prevCR {
			// Bare LF: act as if CRLF was seen.
			b.step('\r')
		}
		b.prevCR = c == '\r'
		b.step(c)
	}
	return len(p), nil
}

func (b *bodyCanon) step(c byte) {
	if b.canon == Simple {
		b.stepSimple(c)
	} else {
		b.stepRelaxed(c)
	}
}

// stepSimple keeps the current line (with its CRs) until its CRLF.
func (b *bodyCanon) stepSimple(c byte) {
	if c == '\n' && len(b.line) > 0 && b.line[len(b.line)-1] == '\r' {
		if b.blankline {
			b.blanks++
		} else {
			b.emit(b.line)
			b.emit(lf)
		}
		b.line = b.line[:0]
		b.blankline = true
		return
	}
	if c != '\r' && b.blankline {
		b.flushBlanks()
		b.blankline = false
	}
	b.line = append(b.line, c)
	if !b.blankline && len(b.line) >= 4096 && c != '\r' {
		b.emit(b.line)
		b.line = b.line[:0]
	}
}

// stepRelaxed is OpenDKIM's four-state machine: 0 line start, 1 in WSP,
// 2 after CR, 3 in a word. b.line holds the word being built.
func (b *bodyCanon) stepRelaxed(c byte) {
	switch b.state {
	case 0, 3:
		switch {
		case isWSP(c):
			b.flushWord()
			b.state = 1
		case c == '\r':
			b.state = 2
		default:
			b.blankline = false
			b.line = append(b.line, c)
			b.state = 3
		}
	case 1:
		switch {
		case isWSP(c):
		case c == '\r':
			b.state = 2
		default:
			b.flushBlanks()
			b.emit(sp)
			b.blankline = false
			b.line = append(b.line, c)
			b.state = 3
		}
	case 2:
		b.afterCR(c)
	}
}

func (b *bodyCanon) flushWord() {
	if len(b.line) > 0 {
		b.flushBlanks()
		b.emit(b.line)
		b.line = b.line[:0]
	}
}

func (b *bodyCanon) afterCR(c byte) {
	switch {
	case c == '\n':
		if b.blankline {
			b.blanks++
		} else {
			b.flushBlanks()
			b.emit(b.line)
			b.emit(crlf)
			b.line = b.line[:0]
			b.blankline = true
		}
		b.state = 0
	case c == '\r':
		b.blankline = false
		b.line = append(b.line, '\r')
	case isWSP(c):
		b.flushBlanks()
		b.emit(b.line)
		b.line = b.line[:0]
		b.state = 1
	default:
		// The lone CR itself is dropped, as OpenDKIM does.
		b.blankline = false
		b.line = append(b.line, c)
		b.state = 3
	}
}

// Close finishes the body: a last line without CRLF gets one (RFC 6376),
// an empty simple body becomes CRLF.
func (b *bodyCanon) Close() {
	// blankline is false exactly when an unterminated line has content
	// (part of it may already have been written).
	if !b.blankline {
		line := b.line
		if b.canon == Simple && len(line) > 0 && line[len(line)-1] == '\r' {
			line = line[:len(line)-1]
		}
		b.flushBlanks()
		b.emit(line)
		b.emit(crlf)
	}
	if b.canon == Simple && b.wrote == 0 {
		b.emit(crlf)
	}
	b.line = b.line[:0]
	if len(b.out) > 0 {
		b.w.Write(b.out)
		b.out = b.out[:0]
	}
}
