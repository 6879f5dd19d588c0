package policy

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"runtime/debug"
	"sync"
	"time"
)

// conn is one Postfix connection: a loop of read request, call handler,
// write reply.
type conn struct {
	s  *Server
	nc net.Conn

	mu   sync.Mutex
	busy bool // between a complete request and its reply
}

// closeIfIdle closes the connection unless a request is being answered;
// called by Shutdown with s.mu held.
func (c *conn) closeIfIdle() {
	c.mu.Lock()
	defer c.mu.Unlock()
	if !c.busy {
		c.nc.Close()
	}
}

func (c *conn) setBusy(b bool) (closing bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.busy = b
	return c.s.isClosing()
}

func (c *conn) serve() {
	defer c.nc.Close()
	var src io.Reader = c.nc
	if c.s.opts.Trace != nil {
		src = &traceReader{r: c.nc, s: c.s}
	}
	br := NewReader(&deadlineReader{c: c, r: src}, c.s.opts.Limits)
	for {
		c.nc.SetReadDeadline(time.Now().Add(c.s.opts.IdleTimeout))
		req, err := ReadRequest(br, c.s.opts.Limits)
		if err != nil {
			c.readFailed(err)
			return
		}
		if c.setBusy(true) {
			return // shutting down: Postfix retries elsewhere or later
		}
		a := c.answer(req)
		c.nc.SetWriteDeadline(time.Now().Add(c.s.opts.ReadTimeout))
		var buf bytes.Buffer
		WriteAction(&buf, a)
		c.s.trace("S: ", buf.Bytes())
		_, werr := c.nc.Write(buf.Bytes())
		if c.setBusy(false) || werr != nil {
			return
		}
	}
}

// readFailed logs why the connection ends. A clean EOF or idle timeout is
// normal; a malformed request is logged and answered by closing.
func (c *conn) readFailed(err error) {
	remote := c.nc.RemoteAddr().String()
	var se *SyntaxError
	switch {
	case errors.Is(err, io.EOF), c.s.isClosing():
	case errors.As(err, &se):
		c.s.m.malformed.Inc()
		c.s.log.Warn("policy: malformed request, closing without reply", "remote", remote, "err", err)
	case errors.Is(err, os.ErrDeadlineExceeded):
		c.s.log.Debug("policy: idle connection closed", "remote", remote)
	default:
		c.s.log.Info("policy: read failed", "remote", remote, "err", err)
	}
}

// answer calls the handler with a deadline, recovering panics, and maps
// errors to replies.
func (c *conn) answer(req *Request) (a Action) {
	start := time.Now()
	ctx, cancel := context.WithTimeout(c.s.baseCtx, c.s.opts.HandlerTimeout)
	defer cancel()
	result := ""
	defer func() {
		if r := recover(); r != nil {
			c.s.m.panics.Inc()
			c.s.log.Error("policy: handler panic", "panic", fmt.Sprint(r), "stack", string(debug.Stack()))
			a, result = GenericDefer, "error"
		}
		c.s.m.requests.WithLabelValues(result).Inc()
		c.s.m.duration.Observe(time.Since(start).Seconds())
	}()
	a, err := c.s.h.Check(ctx, req)
	if err != nil {
		a = replyFor(err)
		c.s.log.Error("policy: handler failed", "remote", c.nc.RemoteAddr().String(),
			"state", req.ProtocolState, "queue_id", req.QueueID, "reply", string(a), "err", err)
		result = "error"
		return a
	}
	if a == "" {
		a = Dunno
	}
	result = a.Verb()
	return a
}

// deadlineReader extends the read deadline to ReadTimeout once a request
// has started, so the idle timeout applies only between requests.
type deadlineReader struct {
	c *conn
	r io.Reader
}

func (d *deadlineReader) Read(p []byte) (int, error) {
	n, err := d.r.Read(p)
	if n > 0 {
		d.c.nc.SetReadDeadline(time.Now().Add(d.c.s.opts.ReadTimeout))
	}
	return n, err
}

type traceReader struct {
	r io.Reader
	s *Server
}

func (t *traceReader) Read(p []byte) (int, error) {
	n, err := t.r.Read(p)
	if n > 0 {
		t.s.trace("C: ", p[:n])
	}
	return n, err
}
