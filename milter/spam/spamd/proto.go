package spamd

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
)

// Exit codes spamd puts in its status line (sysexits.h names).
const (
	ExOK       = 0  // EX_OK
	ExUsage    = 64 // EX_USAGE
	ExDataErr  = 65 // EX_DATAERR
	ExSoftware = 70 // EX_SOFTWARE
	ExTempFail = 75 // EX_TEMPFAIL
	ExProtocol = 76 // EX_PROTOCOL
	ExNoPerm   = 77 // EX_NOPERM
)

// Method is a spamc request verb.
type Method string

// Request verbs of the SPAMC/1.5 protocol.
const (
	MethodCheck        Method = "CHECK"
	MethodSymbols      Method = "SYMBOLS"
	MethodReport       Method = "REPORT"
	MethodReportIfSpam Method = "REPORT_IFSPAM"
	MethodProcess      Method = "PROCESS"
	MethodHeaders      Method = "HEADERS"
	MethodPing         Method = "PING"
	MethodSkip         Method = "SKIP"
	MethodTell         Method = "TELL"
)

var knownMethods = map[Method]bool{
	MethodCheck: true, MethodSymbols: true, MethodReport: true, MethodReportIfSpam: true,
	MethodProcess: true, MethodHeaders: true, MethodPing: true, MethodSkip: true, MethodTell: true,
}

// Request is one decoded spamc request.
type Request struct {
	Method  Method
	Version string            // e.g. "1.5"
	Headers map[string]string // lower-case names
	Body    []byte
}

// ProtocolError is a request the peer got wrong; Code is the exit code
// sent back.
type ProtocolError struct {
	Code int
	Msg  string
}

func (e *ProtocolError) Error() string { return fmt.Sprintf("spamd: %s (%d)", e.Msg, e.Code) }

func protoErr(code int, format string, args ...any) error {
	return &ProtocolError{Code: code, Msg: fmt.Sprintf(format, args...)}
}

// ReadRequest decodes one request, bounding every line and the body.
func ReadRequest(r *bufio.Reader, maxLine int, maxBody int64) (*Request, error) {
	line, err := readLine(r, maxLine)
	if err != nil {
		return nil, err
	}
	method, ver, ok := strings.Cut(line, " ")
	if !ok || !strings.HasPrefix(ver, "SPAMC/") || !knownMethods[Method(method)] {
		return nil, protoErr(ExProtocol, "bad request line")
	}
	req := &Request{Method: Method(method), Version: strings.TrimPrefix(ver, "SPAMC/"), Headers: map[string]string{}}
	for n := 0; ; n++ {
		if n > 64 {
			return nil, protoErr(ExProtocol, "too many headers")
		}
		h, err := readLine(r, maxLine)
		if err != nil {
			return nil, err
		}
		if h == "" {
			break
		}
		k, v, ok := strings.Cut(h, ":")
		if !ok {
			return nil, protoErr(ExProtocol, "bad header line")
		}
		req.Headers[strings.ToLower(strings.TrimSpace(k))] = strings.TrimSpace(v)
	}
	if req.Method == MethodPing {
		return req, nil
	}
	return req, readBody(r, req, maxBody)
}

func readBody(r *bufio.Reader, req *Request, maxBody int64) error {
	cl, ok := req.Headers["content-length"]
	if !ok {
		if req.Method == MethodSkip {
			return nil
		}
		return protoErr(ExProtocol, "missing Content-length")
	}
	n, err := strconv.ParseInt(cl, 10, 64)
	if err != nil || n < 0 {
		return protoErr(ExProtocol, "bad Content-length")
	}
	if n > maxBody {
		return protoErr(ExDataErr, "message too large")
	}
	req.Body = make([]byte, n)
	if _, err := io.ReadFull(r, req.Body); err != nil {
		return err
	}
	return nil
}

var errLineTooLong = errors.New("line too long")

// readLine reads a CRLF- or LF-terminated line of at most max bytes.
func readLine(r *bufio.Reader, max int) (string, error) {
	var b []byte
	for {
		frag, isPrefix, err := r.ReadLine()
		if err != nil {
			return "", err
		}
		b = append(b, frag...)
		if len(b) > max {
			return "", protoErr(ExProtocol, "%v", errLineTooLong)
		}
		if !isPrefix {
			return string(b), nil
		}
	}
}

// Response is what the server sends back.
type Response struct {
	Code    int
	Status  string // EX_OK, PONG, or an error text
	Headers []string
	Body    []byte
}

// WriteTo encodes the response as SPAMD/1.1.
func (r *Response) WriteTo(w io.Writer) (int64, error) {
	var b strings.Builder
	fmt.Fprintf(&b, "SPAMD/1.1 %d %s\r\n", r.Code, r.Status)
	for _, h := range r.Headers {
		b.WriteString(h + "\r\n")
	}
	if r.Body != nil {
		fmt.Fprintf(&b, "Content-length: %d\r\n", len(r.Body))
	}
	b.WriteString("\r\n")
	n, err := io.WriteString(w, b.String())
	if err != nil || r.Body == nil {
		return int64(n), err
	}
	m, err := w.Write(r.Body)
	return int64(n + m), err
}
