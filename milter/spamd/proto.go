package spamd

import (
	"bufio"
	"bytes"
	"compress/zlib"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
)

// Command is a request verb.
type Command string

// The commands of protocol 1.5.
const (
	CmdCheck        Command = "CHECK"
	CmdSymbols      Command = "SYMBOLS"
	CmdReport       Command = "REPORT"
	CmdReportIfSpam Command = "REPORT_IFSPAM"
	CmdProcess      Command = "PROCESS"
	CmdHeaders      Command = "HEADERS"
	CmdPing         Command = "PING"
	CmdTell         Command = "TELL"
	CmdSkip         Command = "SKIP"
)

func (c Command) hasBody() bool { return c != CmdPing && c != CmdSkip }

func knownCommand(s string) bool {
	switch Command(s) {
	case CmdCheck, CmdSymbols, CmdReport, CmdReportIfSpam, CmdProcess, CmdHeaders, CmdPing, CmdTell, CmdSkip:
		return true
	}
	return false
}

// Request is one decoded request.
type Request struct {
	Command Command
	Version string // "1.5" from "SPAMC/1.5"
	User    string
	// MessageClass ("spam" or "ham"), Set and Remove ("local", "remote")
	// are TELL's headers.
	MessageClass string
	Set, Remove  []string
	// Body is the message, decompressed.
	Body []byte
}

// Limits bound what is read from a client.
type Limits struct {
	// MaxMessageSize is the largest message accepted (default 512000
	// bytes, spamc's own default -s limit); larger gets EX_DATAERR.
	MaxMessageSize int
	// MaxHeaderLines bounds the request header lines (default 32).
	MaxHeaderLines int
}

const (
	// DefaultMaxMessageSize is spamc's default max size (500 KB).
	DefaultMaxMessageSize = 500 * 1024
	// DefaultMaxHeaderLines is far above the 5 headers spamc sends.
	DefaultMaxHeaderLines = 32
	// maxLine is the longest request line or header line; the reader's
	// buffer has this size.
	maxLine = 1024
)

func (l Limits) withDefaults() Limits {
	if l.MaxMessageSize <= 0 {
		l.MaxMessageSize = DefaultMaxMessageSize
	}
	if l.MaxHeaderLines <= 0 {
		l.MaxHeaderLines = DefaultMaxHeaderLines
	}
	return l
}

// newReader returns the buffered reader ReadRequest needs.
func newReader(r io.Reader) *bufio.Reader { return bufio.NewReaderSize(r, maxLine) }

// ReadRequest decodes one request from br (whose buffer should be at least
// 1024 bytes: longer lines are rejected). Errors are *Error values except
// for I/O errors of the connection.
func ReadRequest(br *bufio.Reader, lim Limits) (*Request, error) {
	lim = lim.withDefaults()
	line, err := readLine(br)
	if err != nil {
		return nil, err
	}
	verb, proto, ok := strings.Cut(line, " ")
	if !ok || !strings.HasPrefix(proto, "SPAMC/") {
		return nil, protoErr("bad request line")
	}
	if !knownCommand(verb) {
		return nil, protoErr("bad method")
	}
	req := &Request{Command: Command(verb), Version: strings.TrimPrefix(proto, "SPAMC/")}
	if !validVersion(req.Version) {
		return nil, protoErr("bad protocol version")
	}
	h, err := readHeaders(br, lim)
	if err != nil {
		return nil, err
	}
	if err := req.applyHeaders(h); err != nil {
		return nil, err
	}
	if req.Command.hasBody() {
		if req.Body, err = readBody(br, h, lim); err != nil {
			return nil, err
		}
	}
	return req, nil
}

func validVersion(v string) bool {
	major, minor, ok := strings.Cut(v, ".")
	if !ok || major != "1" || minor == "" || len(minor) > 2 {
		return false
	}
	_, err := strconv.Atoi(minor)
	return err == nil
}

// readLine reads one CRLF- or LF-terminated line of at most maxLine bytes.
func readLine(br *bufio.Reader) (string, error) {
	b, err := br.ReadSlice('\n')
	if errors.Is(err, bufio.ErrBufferFull) {
		return "", protoErr("line too long")
	}
	if err != nil {
		if errors.Is(err, io.EOF) && len(b) > 0 {
			return "", protoErr("truncated request")
		}
		return "", err
	}
	return string(bytes.TrimRight(b, "\r\n")), nil
}

type header struct{ name, value string }

func readHeaders(br *bufio.Reader, lim Limits) ([]header, error) {
	var hs []header
	for {
		line, err := readLine(br)
		if errors.Is(err, io.EOF) {
			return hs, nil // PING and SKIP may end right after the headers
		}
		if err != nil {
			return nil, err
		}
		if line == "" {
			return hs, nil
		}
		if len(hs) >= lim.MaxHeaderLines {
			return nil, protoErr("too many header lines")
		}
		name, val, ok := strings.Cut(line, ":")
		if !ok || name == "" || strings.ContainsAny(name, " \t") {
			return nil, protoErr("bad header line")
		}
		hs = append(hs, header{strings.ToLower(name), strings.TrimSpace(val)})
	}
}

func (r *Request) applyHeaders(hs []header) error {
	for _, h := range hs {
		switch h.name {
		case "user":
			r.User = h.value
		case "message-class":
			r.MessageClass = strings.ToLower(h.value)
		case "set":
			r.Set = splitList(h.value)
		case "remove":
			r.Remove = splitList(h.value)
		}
	}
	if r.Command == CmdTell {
		return r.checkTell()
	}
	return nil
}

func (r *Request) checkTell() error {
	if len(r.Set) == 0 && len(r.Remove) == 0 {
		return protoErr("TELL needs Set or Remove")
	}
	if len(r.Set) > 0 && r.MessageClass != "spam" && r.MessageClass != "ham" {
		return protoErr("bad Message-class")
	}
	for _, s := range r.Set {
		for _, rm := range r.Remove {
			if s == rm {
				return protoErr("cannot Set and Remove the same location")
			}
		}
	}
	return nil
}

func splitList(v string) []string {
	var out []string
	for _, p := range strings.Split(v, ",") {
		if p = strings.ToLower(strings.TrimSpace(p)); p != "" {
			out = append(out, p)
		}
	}
	return out
}

// readBody reads Content-length bytes (or to EOF without the header, as
// protocol 1.0 clients do) and inflates a zlib body.
func readBody(br *bufio.Reader, hs []header, lim Limits) ([]byte, error) {
	n, compressed := -1, false
	for _, h := range hs {
		switch h.name {
		case "content-length":
			v, err := strconv.Atoi(h.value)
			if err != nil || v < 0 {
				return nil, protoErr("bad Content-length")
			}
			n = v
		case "compress":
			if !strings.EqualFold(h.value, "zlib") {
				return nil, protoErr("unsupported Compress")
			}
			compressed = true
		}
	}
	body, err := readN(br, n, lim.MaxMessageSize)
	if err != nil || !compressed {
		return body, err
	}
	zr, err := zlib.NewReader(bytes.NewReader(body))
	if err != nil {
		return nil, protoErr("bad zlib data")
	}
	defer zr.Close()
	out, err := io.ReadAll(io.LimitReader(zr, int64(lim.MaxMessageSize)+1))
	if err != nil {
		return nil, protoErr("bad zlib data")
	}
	if len(out) > lim.MaxMessageSize {
		return nil, tooBig()
	}
	return out, nil
}

func tooBig() *Error { return &Error{Code: ExDataErr, Text: "message too big"} }

func readN(br *bufio.Reader, n, max int) ([]byte, error) {
	if n > max {
		return nil, tooBig()
	}
	if n >= 0 {
		body := make([]byte, n)
		if _, err := io.ReadFull(br, body); err != nil {
			return nil, fmt.Errorf("reading body: %w", err)
		}
		return body, nil
	}
	body, err := io.ReadAll(io.LimitReader(br, int64(max)+1))
	if err != nil {
		return nil, fmt.Errorf("reading body: %w", err)
	}
	if len(body) > max {
		return nil, tooBig()
	}
	return body, nil
}

// Response is a reply before encoding.
type Response struct {
	Code    int
	Text    string // "EX_OK", "PONG" or an error text
	Version string // "1.1" normally, "1.5" for PONG
	Headers []header
	Body    []byte
	// NoLength omits Content-length (CHECK replies carry none).
	NoLength bool
}

func (r *Response) version() string {
	if r.Version == "" {
		return "1.1"
	}
	return r.Version
}

// encode returns the response's wire form.
func (r *Response) encode() []byte {
	var b bytes.Buffer
	fmt.Fprintf(&b, "SPAMD/%s %d %s\r\n", r.version(), r.Code, r.Text)
	for _, h := range r.Headers {
		fmt.Fprintf(&b, "%s: %s\r\n", h.name, h.value)
	}
	if !r.NoLength {
		fmt.Fprintf(&b, "Content-length: %d\r\n", len(r.Body))
	}
	b.WriteString("\r\n")
	b.Write(r.Body)
	return b.Bytes()
}

// spamHeader formats "Spam: True ; 7.3 / 5.0".
func spamHeader(isSpam bool, score, required float64) header {
	word := "False"
	if isSpam {
		word = "True"
	}
	return header{"Spam", fmt.Sprintf("%s ; %.1f / %.1f", word, score, required)}
}

func errorResponse(e *Error) *Response {
	text := strings.Map(func(r rune) rune {
		if r < ' ' || r == 0x7f {
			return ' '
		}
		return r
	}, e.Text)
	if text == "" {
		text = codeNames[e.Code]
	}
	return &Response{Code: e.Code, Text: text, Version: "1.0", NoLength: true}
}
