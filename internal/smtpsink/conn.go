package smtpsink

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"net"
	"strings"
	"time"
)

// errTooLong is returned when a command line exceeds MaxLineBytes.
var errTooLong = errors.New("smtpsink: line too long")

// conn is one SMTP session.
type conn struct {
	s    *Sink
	c    net.Conn
	r    *bufio.Reader
	w    *bufio.Writer
	helo string
	from *string // nil before MAIL
	to   []string
}

func newConn(s *Sink, c net.Conn) *conn {
	return &conn{
		s: s,
		c: c,
		r: bufio.NewReaderSize(c, s.opts.MaxLineBytes),
		w: bufio.NewWriter(c),
	}
}

func (c *conn) reply(code int, text string) {
	fmt.Fprintf(c.w, "%d %s\r\n", code, text)
	// Flush only when the client has nothing more pipelined, so a
	// pipelined batch gets its replies in one write.
	if c.r.Buffered() == 0 {
		c.w.Flush()
	}
}

// forced answers with a reply set by Fail or a Hook and reports whether it
// did.
func (c *conn) forced(stage Stage, arg string) bool {
	r, ok := c.s.decide(stage, arg)
	if !ok {
		return false
	}
	c.reply(r.code, r.text)
	return true
}

func (c *conn) serve() {
	defer c.c.Close()
	defer c.w.Flush()
	if r, ok := c.s.decide(StageConnect, ""); ok && r.code >= 400 {
		c.reply(r.code, r.text)
		return
	}
	c.reply(220, c.s.opts.Hostname+" ESMTP smtpsink")
	for {
		c.c.SetReadDeadline(time.Now().Add(c.s.opts.Timeout))
		line, err := c.readLine()
		if errors.Is(err, errTooLong) {
			c.reply(500, "5.5.2 line too long")
			continue
		}
		if err != nil {
			return
		}
		if !c.command(line) {
			return
		}
	}
}

// readLine reads one CRLF (or LF) terminated line of at most MaxLineBytes
// and returns it without the line ending. An overlong line is skipped.
func (c *conn) readLine() (string, error) {
	b, err := c.r.ReadSlice('\n')
	if errors.Is(err, bufio.ErrBufferFull) {
		for errors.Is(err, bufio.ErrBufferFull) {
			_, err = c.r.ReadSlice('\n')
		}
		if err != nil {
			return "", err
		}
		return "", errTooLong
	}
	if err != nil {
		return "", err
	}
	return strings.TrimRight(string(b), "\r\n"), nil
}

// command handles one command line; false means hang up.
func (c *conn) command(line string) bool {
	verb, arg, _ := strings.Cut(line, " ")
	switch strings.ToUpper(verb) {
	case "EHLO", "HELO":
		c.hello(strings.ToUpper(verb) == "EHLO", strings.TrimSpace(arg))
	case "MAIL":
		c.mail(arg)
	case "RCPT":
		c.rcpt(arg)
	case "DATA":
		return c.data()
	case "RSET":
		c.from, c.to = nil, nil
		c.reply(250, "2.0.0 Ok")
	case "NOOP":
		c.reply(250, "2.0.0 Ok")
	case "VRFY":
		c.reply(252, "2.0.0 Cannot VRFY")
	case "QUIT":
		c.reply(221, "2.0.0 Bye")
		return false
	default:
		c.reply(502, "5.5.2 Command not implemented")
	}
	return true
}

func (c *conn) hello(ehlo bool, name string) {
	if name == "" {
		c.reply(501, "5.5.4 Syntax: EHLO hostname")
		return
	}
	if c.forced(StageHelo, name) {
		return
	}
	c.helo, c.from, c.to = name, nil, nil
	if !ehlo {
		c.reply(250, c.s.opts.Hostname)
		return
	}
	fmt.Fprintf(c.w, "250-%s\r\n250-PIPELINING\r\n250-SIZE %d\r\n250-8BITMIME\r\n250-ENHANCEDSTATUSCODES\r\n",
		c.s.opts.Hostname, c.s.opts.MaxMessageBytes)
	c.reply(250, "SMTPUTF8")
}

// parsePath extracts the address from "FROM:<a@b> PARAMS" or "TO:<a@b>".
func parsePath(arg, prefix string) (string, bool) {
	if len(arg) < len(prefix) || !strings.EqualFold(arg[:len(prefix)], prefix) {
		return "", false
	}
	rest := strings.TrimLeft(arg[len(prefix):], " ")
	if !strings.HasPrefix(rest, "<") {
		return "", false
	}
	end := strings.IndexByte(rest, '>')
	if end < 0 {
		return "", false
	}
	return rest[1:end], true
}

func (c *conn) mail(arg string) {
	if c.helo == "" {
		c.reply(503, "5.5.1 Error: send HELO/EHLO first")
		return
	}
	if c.from != nil {
		c.reply(503, "5.5.1 Error: nested MAIL command")
		return
	}
	addr, ok := parsePath(arg, "FROM:")
	if !ok {
		c.reply(501, "5.5.4 Syntax: MAIL FROM:<address>")
		return
	}
	if c.forced(StageMail, addr) {
		return
	}
	c.from = &addr
	c.reply(250, "2.1.0 Ok")
}

func (c *conn) rcpt(arg string) {
	if c.from == nil {
		c.reply(503, "5.5.1 Error: need MAIL command")
		return
	}
	addr, ok := parsePath(arg, "TO:")
	if !ok || addr == "" {
		c.reply(501, "5.5.4 Syntax: RCPT TO:<address>")
		return
	}
	if c.forced(StageRcpt, addr) {
		return
	}
	c.to = append(c.to, addr)
	c.reply(250, "2.1.5 Ok")
}

// data runs the DATA command; false means hang up.
func (c *conn) data() bool {
	if c.from == nil || len(c.to) == 0 {
		c.reply(503, "5.5.1 Error: need RCPT command")
		return true
	}
	if c.forced(StageData, "") {
		return true
	}
	c.reply(354, "End data with <CR><LF>.<CR><LF>")
	c.w.Flush()
	body, err := readData(c.r, c.s.opts.MaxMessageBytes, func() {
		c.c.SetReadDeadline(time.Now().Add(c.s.opts.Timeout))
	})
	from, to := *c.from, c.to
	c.from, c.to = nil, nil
	switch {
	case errors.Is(err, errTooBig):
		c.reply(552, "5.3.4 Message too big")
		return true
	case err != nil:
		return false
	}
	if c.forced(StageMessage, string(body)) {
		return true
	}
	c.s.record(Message{Helo: c.helo, From: from, To: to, Data: body, Received: time.Now()})
	c.reply(250, "2.0.0 Ok: queued")
	return true
}

var errTooBig = errors.New("smtpsink: message too big")

// readData reads dot-stuffed message data up to the "." line and returns
// it unstuffed. Lines may be of any length; the total is bounded by max (an
// overlong message is read to its end, then errTooBig is returned, so the
// session stays in sync). tick is called per line to extend deadlines.
func readData(r *bufio.Reader, max int64, tick func()) ([]byte, error) {
	var buf bytes.Buffer
	tooBig := false
	atLineStart := true
	for {
		tick()
		frag, err := r.ReadSlice('\n')
		if err != nil && !errors.Is(err, bufio.ErrBufferFull) {
			return nil, err
		}
		complete := err == nil
		if atLineStart && len(frag) > 0 && frag[0] == '.' {
			if complete && (string(frag) == ".\r\n" || string(frag) == ".\n") {
				if tooBig {
					return nil, errTooBig
				}
				return buf.Bytes(), nil
			}
			frag = frag[1:]
		}
		atLineStart = complete
		if !tooBig && int64(buf.Len()+len(frag)) > max {
			tooBig = true
			buf.Reset()
		}
		if !tooBig {
			buf.Write(frag)
		}
	}
}
