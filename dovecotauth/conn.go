package dovecotauth

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"runtime/debug"
	"strconv"
	"strings"
	"sync"
	"time"
)

// clientConn is one auth-client connection (one per Postfix smtpd process).
type clientConn struct {
	s      *Server
	nc     net.Conn
	r      *bufio.Reader
	ctx    context.Context
	cancel context.CancelFunc
	wmu    sync.Mutex
	tmu    sync.Mutex // serialises Trace writes
	mu     sync.Mutex
	reqs   map[uint32]*request
	gotVer bool
	gotPID bool
	wg     sync.WaitGroup
}

func (s *Server) handleClient(nc net.Conn) {
	ctx, cancel := context.WithCancel(context.Background())
	c := &clientConn{s: s, nc: nc, r: bufio.NewReaderSize(nc, 4096), ctx: ctx, cancel: cancel,
		reqs: map[uint32]*request{}}
	defer func() {
		cancel()
		nc.Close()
		c.wg.Wait()
	}()
	go func() {
		select {
		case <-s.shutdown:
			c.closeWhenIdle()
		case <-ctx.Done():
		}
	}()
	if err := c.write(c.handshake()); err != nil {
		return
	}
	if err := c.loop(); err != nil && !errors.Is(err, io.EOF) && !errors.Is(err, net.ErrClosed) {
		s.opts.Logger.Info("auth client connection closed", slog.String("remote", remoteName(nc)),
			slog.Any("err", err))
	}
}

// closeWhenIdle is the graceful-shutdown path: wait for requests in flight.
func (c *clientConn) closeWhenIdle() {
	for {
		c.mu.Lock()
		n := len(c.reqs)
		c.mu.Unlock()
		if n == 0 {
			c.nc.Close()
			return
		}
		select {
		case <-c.ctx.Done():
			return
		case <-time.After(20 * time.Millisecond):
		}
	}
}

func (c *clientConn) handshake() []byte {
	var b []byte
	b = append(b, formatLine(cmdVersion, strconv.Itoa(protoMajor), strconv.Itoa(protoMinor))...)
	for _, m := range c.s.mechs {
		f := append([]string{"MECH", m.name}, m.flags...)
		b = append(b, formatLine(f...)...)
	}
	b = append(b, formatLine("SPID", strconv.Itoa(c.s.pid))...)
	b = append(b, formatLine("CUID", strconv.FormatUint(uint64(c.s.connSeq.Add(1)), 10))...)
	b = append(b, formatLine("COOKIE", newCookie())...)
	return append(b, formatLine("DONE")...)
}

func (c *clientConn) loop() error {
	for {
		line, err := readLine(c.r, c.nc, c.s.opts.MaxLineLength, c.s.opts.IdleTimeout)
		if err != nil {
			return err
		}
		c.trace("C", line)
		if err := c.dispatch(line); err != nil {
			return err
		}
	}
}

// readLine reads one LF-terminated line of at most max bytes.
func readLine(r *bufio.Reader, nc net.Conn, max int, idle time.Duration) (string, error) {
	nc.SetReadDeadline(time.Now().Add(idle))
	var buf []byte
	for {
		frag, err := r.ReadSlice('\n')
		buf = append(buf, frag...)
		if len(buf) > max+1 {
			return "", fmt.Errorf("line longer than %d bytes", max)
		}
		if err == nil {
			break
		}
		if !errors.Is(err, bufio.ErrBufferFull) {
			return "", err
		}
	}
	return strings.TrimSuffix(string(buf[:len(buf)-1]), "\r"), nil
}

func (c *clientConn) dispatch(line string) error {
	f := splitLine(line)
	switch f[0] {
	case cmdVersion:
		if len(f) < 3 || f[1] != strconv.Itoa(protoMajor) {
			return fmt.Errorf("%w: client version %q", errSyntax, line)
		}
		c.gotVer = true
		return nil
	case cmdCPID:
		if !c.gotVer || len(f) < 2 {
			return fmt.Errorf("%w: CPID before VERSION", errSyntax)
		}
		c.gotPID = true
		return nil
	case cmdAuth:
		if !c.gotPID {
			return fmt.Errorf("%w: AUTH before handshake", errSyntax)
		}
		return c.startAuth(f[1:])
	case cmdCont:
		return c.cont(f[1:])
	}
	return fmt.Errorf("%w: unknown command %.20q", errSyntax, f[0])
}

func (c *clientConn) startAuth(f []string) error {
	cmd, err := parseAuth(f)
	if err != nil {
		return err
	}
	mech := c.s.findMech(cmd.mech)
	if mech == nil {
		return fmt.Errorf("%w: unsupported mechanism %.30q", errSyntax, cmd.mech)
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if _, dup := c.reqs[cmd.id]; dup || len(c.reqs) >= c.s.opts.MaxInFlight {
		return fmt.Errorf("%w: duplicate id or too many requests", errSyntax)
	}
	r := newRequest(c, cmd, mech)
	c.reqs[cmd.id] = r
	c.wg.Add(1)
	go r.run()
	return nil
}

func (c *clientConn) cont(f []string) error {
	if len(f) < 2 {
		return errSyntax
	}
	id, err := parseID(f[0])
	if err != nil {
		return err
	}
	c.mu.Lock()
	r := c.reqs[id]
	c.mu.Unlock()
	if r == nil {
		// The request may have just finished (e.g. aborted); Dovecot
		// ignores such a CONT too.
		return nil
	}
	select {
	case r.contCh <- f[1]:
		return nil
	default:
		return fmt.Errorf("%w: CONT while not waiting", errSyntax)
	}
}

func (c *clientConn) done(id uint32) {
	c.release(id)
	c.wg.Done()
}

// release frees id's in-flight slot; done calls it too (idempotent).
func (c *clientConn) release(id uint32) {
	c.mu.Lock()
	delete(c.reqs, id)
	c.mu.Unlock()
}

// write sends bytes under the write lock with a deadline.
func (c *clientConn) write(b []byte) error {
	c.wmu.Lock()
	defer c.wmu.Unlock()
	c.nc.SetWriteDeadline(time.Now().Add(c.s.opts.WriteTimeout))
	_, err := c.nc.Write(b)
	if err == nil {
		c.trace("S", strings.TrimSuffix(string(b), "\n"))
	}
	return err
}

// trace writes a redacted protocol line.
func (c *clientConn) trace(dir, line string) {
	if c.s.opts.Trace == nil {
		return
	}
	c.tmu.Lock()
	defer c.tmu.Unlock()
	fmt.Fprintf(c.s.opts.Trace, "%s: %s\n", dir, redact(line))
}

// redact hides initial responses and continuation payloads.
func redact(line string) string {
	f := splitLine(line)
	switch {
	case f[0] == cmdCont && len(f) >= 3:
		f[2] = "***"
	case f[0] == cmdAuth:
		for i, p := range f {
			if strings.HasPrefix(p, "resp=") {
				f[i] = "resp=***"
			}
		}
	}
	return strings.Join(f, "\t")
}

func remoteName(nc net.Conn) string {
	if a := nc.RemoteAddr(); a != nil {
		return a.String()
	}
	return ""
}

// recoverRequest turns a panic in request handling into a closed connection
// (Postfix: 454), logs the stack and counts it.
func (c *clientConn) recoverRequest() {
	if v := recover(); v != nil {
		c.s.metrics.panics.Inc()
		c.s.opts.Logger.Error("panic in auth request", slog.Any("panic", v),
			slog.String("stack", string(debug.Stack())))
		c.nc.Close()
	}
}
