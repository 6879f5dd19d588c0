package policy

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"net/netip"
	"strconv"
	"strings"
)

// Limits bound what one request may contain. Zero fields take the
// defaults below.
type Limits struct {
	MaxLineLength  int // bytes per "name=value" line; default 4096
	MaxAttributes  int // attributes per request; default 100
	MaxRequestSize int // bytes per request; default 64 KiB
}

// Default limits. Postfix 3.7 sends about 30 attributes; only ccert_* and
// policy_context can be long.
const (
	DefaultMaxLineLength  = 4096
	DefaultMaxAttributes  = 100
	DefaultMaxRequestSize = 64 << 10
)

func (l Limits) withDefaults() Limits {
	if l.MaxLineLength <= 0 {
		l.MaxLineLength = DefaultMaxLineLength
	}
	if l.MaxAttributes <= 0 {
		l.MaxAttributes = DefaultMaxAttributes
	}
	if l.MaxRequestSize <= 0 {
		l.MaxRequestSize = DefaultMaxRequestSize
	}
	return l
}

// SyntaxError reports a malformed request. The server closes the
// connection without replying when it sees one.
type SyntaxError struct{ Msg string }

func (e *SyntaxError) Error() string { return "policy: malformed request: " + e.Msg }

func syntaxErr(format string, args ...any) error {
	return &SyntaxError{Msg: fmt.Sprintf(format, args...)}
}

// ReadRequest reads one request from r. It returns io.EOF if the stream
// ends cleanly before a request starts, a *SyntaxError for malformed
// input, or the read error. r should be created with a buffer of at least
// lim.MaxLineLength+1 bytes (NewReader does that); a longer line is an error.
func ReadRequest(r *bufio.Reader, lim Limits) (*Request, error) {
	lim = lim.withDefaults()
	attrs := make(map[string]string, 32)
	size := 0
	for n := 0; ; n++ {
		line, err := r.ReadSlice('\n')
		switch {
		case errors.Is(err, bufio.ErrBufferFull) || len(line) > lim.MaxLineLength+1:
			return nil, syntaxErr("line longer than %d bytes", lim.MaxLineLength)
		case err == io.EOF && n == 0 && len(line) == 0:
			return nil, io.EOF
		case err == io.EOF:
			return nil, io.ErrUnexpectedEOF
		case err != nil:
			return nil, err
		}
		size += len(line)
		if size > lim.MaxRequestSize {
			return nil, syntaxErr("request larger than %d bytes", lim.MaxRequestSize)
		}
		line = bytes.TrimSuffix(bytes.TrimSuffix(line, []byte("\n")), []byte("\r"))
		if len(line) == 0 {
			if len(attrs) == 0 {
				return nil, syntaxErr("empty request")
			}
			return newRequest(attrs)
		}
		if n >= lim.MaxAttributes {
			return nil, syntaxErr("more than %d attributes", lim.MaxAttributes)
		}
		name, value, ok := bytes.Cut(line, []byte("="))
		if !ok || len(name) == 0 {
			return nil, syntaxErr("line without name=value")
		}
		if bytes.IndexByte(line, 0) >= 0 {
			return nil, syntaxErr("NUL byte in attribute %q", name)
		}
		// Duplicate names: the last one wins (SMTPD_POLICY_README allows
		// either choice).
		attrs[string(name)] = string(value)
	}
}

// NewReader returns a buffered reader sized for lim.
func NewReader(rd io.Reader, lim Limits) *bufio.Reader {
	return bufio.NewReaderSize(rd, lim.withDefaults().MaxLineLength+1)
}

// RequestType is the only request type Postfix sends.
const RequestType = "smtpd_access_policy"

func newRequest(attrs map[string]string) (*Request, error) {
	if attrs["request"] != RequestType {
		return nil, syntaxErr("request=%q, want %s", attrs["request"], RequestType)
	}
	req := &Request{Attrs: attrs}
	req.fill()
	return req, nil
}

// atoi parses a decimal attribute; empty or invalid reads as 0, which is
// also how Postfix writes "unknown".
func atoi(s string) int64 {
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil || n < 0 {
		return 0
	}
	return n
}

func parseAddr(s string) netip.Addr {
	a, err := netip.ParseAddr(s)
	if err != nil {
		return netip.Addr{}
	}
	return a.Unmap()
}

// WriteAction writes "action=<a>\n\n". Line breaks and NULs in a are
// replaced by spaces: they would end the reply early.
func WriteAction(w io.Writer, a Action) error {
	s := strings.Map(func(r rune) rune {
		if r == '\n' || r == '\r' || r == 0 {
			return ' '
		}
		return r
	}, string(a))
	_, err := io.WriteString(w, "action="+s+"\n\n")
	return err
}
