package milter

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"runtime/debug"
	"time"
)

// state is where a session is in the protocol.
type state int

const (
	stateOptNeg state = iota // waiting for OPTNEG
	stateConn                // negotiated, outside a transaction
	stateTx                  // between MAIL and end of message/abort
)

func (s state) String() string {
	switch s {
	case stateOptNeg:
		return "optneg"
	case stateConn:
		return "conn"
	case stateTx:
		return "tx"
	}
	return "state?"
}

// protocolError is a violation by the MTA; the connection is closed
// without a reply and gomilter_milter_protocol_errors_total counts it.
type protocolError struct{ err error }

func (e *protocolError) Error() string { return e.err.Error() }
func (e *protocolError) Unwrap() error { return e.err }

func protoErrorf(format string, args ...any) error {
	return &protocolError{fmt.Errorf(format, args...)}
}

// txLog is the per-connection value behind AddLogAttrs and Negotiated.
type txLog struct {
	neg   OptNeg
	attrs []slog.Attr
}

// txState is what the session knows of the current transaction.
type txState struct {
	start       time.Time
	from        string
	rcpts       int
	held        *Response // final decision from a no-reply event, not sent yet
	done        bool      // decision sent; later events skip the Milter
	skipBody    bool
	quarantined bool
	quarReason  *string // Quarantine from a no-reply event, sent with the next reply
}

type session struct {
	srv    *Server
	conn   net.Conn
	r      *bufio.Reader
	w      *bufio.Writer
	milter Milter
	ctx    context.Context
	cancel context.CancelFunc
	log    *slog.Logger
	tl     *txLog

	macros    Macros
	neg       OptNeg
	state     state
	connected bool // CONNECT seen (only one per SMTP session)
	client    string
	tx        txState
}

func newSession(srv *Server, c net.Conn) *session {
	tl := &txLog{}
	ctx, cancel := context.WithCancel(context.WithValue(srv.baseCtx, logAttrsKey{}, tl))
	return &session{
		srv: srv, conn: c, ctx: ctx, cancel: cancel, tl: tl,
		r:   bufio.NewReaderSize(c, 16<<10),
		w:   bufio.NewWriterSize(c, 16<<10),
		log: srv.opts.Logger,
	}
}

// readAhead is how many packets the reader may hold: the one being
// handled, one waiting, one being read.
const readAhead = 3

// inPacket is one read result handed from the reader to the session.
type inPacket struct {
	p   Packet
	buf []byte
	err error
}

func (s *session) run() {
	defer s.cancel()
	s.milter = s.newMilter()
	if s.milter == nil {
		return
	}
	defer func() { s.closeMilter() }()
	// in never fills: every packet in it holds one of the readAhead
	// buffers, so the reader's sends do not block.
	in := make(chan inPacket, readAhead)
	free := make(chan []byte, readAhead)
	for range readAhead {
		free <- nil
	}
	go s.reader(in, free)
	for pk := range in {
		if pk.err != nil {
			s.endErr(pk.err)
			return
		}
		s.trace("<", pk.p.Code, pk.p.Data)
		quit, err := s.handle(pk.p)
		free <- pk.buf // the callbacks are done with the packet's bytes
		if err != nil || quit {
			s.endErr(err)
			return
		}
	}
}

// reader reads packets ahead of the session on its own goroutine, so that
// the MTA hanging up (or a read timeout) cancels the connection's context
// even while a callback is running: the MTA sends nothing while it waits
// for our reply, so the only thing such a read can see is the close.
func (s *session) reader(in chan<- inPacket, free chan []byte) {
	defer close(in)
	for {
		var buf []byte
		select {
		case buf = <-free:
		case <-s.ctx.Done():
			return
		}
		var p Packet
		err := s.conn.SetReadDeadline(time.Now().Add(s.srv.opts.ReadTimeout))
		if err == nil {
			p, buf, err = ReadPacket(s.r, s.srv.opts.MaxPacketSize, buf)
		}
		in <- inPacket{p: p, buf: buf, err: err}
		if err != nil {
			s.cancel() // wake a callback that is still running
			return
		}
		if p.Code == CmdQuit {
			return // nothing follows QUIT
		}
	}
}

// endErr logs why the session ends; EOF and our own shutdown are normal.
func (s *session) endErr(err error) {
	var pe *protocolError
	switch {
	case err == nil, errors.Is(err, io.EOF), s.ctx.Err() != nil && errors.Is(err, net.ErrClosed):
	case errors.As(err, &pe), errors.Is(err, ErrPacketTooLarge), errors.Is(err, ErrEmptyPacket), errors.Is(err, ErrMalformed):
		s.srv.m.protocolErrors.Inc()
		s.log.Warn("milter protocol error, closing connection", "client", s.client, "state", s.state.String(), "err", err)
	case errors.Is(err, os.ErrDeadlineExceeded):
		s.log.Warn("milter connection timed out", "client", s.client, "state", s.state.String())
	default:
		s.log.Info("milter connection ended", "client", s.client, "state", s.state.String(), "err", err)
	}
}

func (s *session) newMilter() (m Milter) {
	defer func() {
		if p := recover(); p != nil {
			s.panicked("new", p)
			m = nil
		}
	}()
	return s.srv.newMilter(s.ctx)
}

func (s *session) closeMilter() {
	if s.state == stateTx {
		s.finishTx("aborted")
	}
	defer func() {
		if p := recover(); p != nil {
			s.panicked("close", p)
		}
	}()
	// The connection's context is cancelled by now when the MTA hung up;
	// Close gets one that keeps its values but not the cancellation, so
	// cleanup can finish.
	s.milter.Close(context.WithoutCancel(s.ctx))
}

func (s *session) panicked(stage string, p any) {
	s.srv.m.panics.Inc()
	s.log.Error("milter callback panicked", "stage", stage, "client", s.client, "panic", fmt.Sprint(p), "stack", string(debug.Stack()))
}

// call runs one Milter callback, turning an error or panic into TempFail
// (logged once here, with the cause; the MTA sees only the tempfail).
func (s *session) call(stage string, f func() (Response, error)) (r Response) {
	defer func() {
		if p := recover(); p != nil {
			s.panicked(stage, p)
			r = TempFail
		}
	}()
	r, err := f()
	if err != nil {
		s.log.Error("milter callback failed, answering tempfail", "stage", stage, "client", s.client, "queue_id", s.macros.Get("i"), "err", err)
		return TempFail
	}
	return r
}

func (s *session) writePacket(code Code, data []byte) error {
	if err := s.conn.SetWriteDeadline(time.Now().Add(s.srv.opts.WriteTimeout)); err != nil {
		return err
	}
	var hdr [5]byte
	n := uint32(len(data) + 1)
	hdr[0], hdr[1], hdr[2], hdr[3], hdr[4] = byte(n>>24), byte(n>>16), byte(n>>8), byte(n), byte(code)
	if _, err := s.w.Write(hdr[:]); err != nil {
		return err
	}
	s.trace(">", code, data)
	_, err := s.w.Write(data)
	return err
}

// trace writes one line per packet to Options.Trace.
func (s *session) trace(dir string, code Code, data []byte) {
	w := s.srv.opts.Trace
	if w == nil {
		return
	}
	shown := data
	if code == CmdBody || code == RespReplBody {
		shown = nil
	} else if len(shown) > 120 {
		shown = shown[:120]
	}
	fmt.Fprintf(w, "%s %s %d %q\n", dir, code, len(data), shown)
}

func (s *session) flush() error {
	if err := s.conn.SetWriteDeadline(time.Now().Add(s.srv.opts.WriteTimeout)); err != nil {
		return err
	}
	return s.w.Flush()
}

// sendResponse writes r (and a held quarantine) and flushes.
func (s *session) sendResponse(r Response) error {
	if q := s.tx.quarReason; q != nil {
		s.tx.quarReason = nil
		if err := s.writePacket(RespQuarantine, EncodeStrings(*q)); err != nil {
			return err
		}
	}
	var err error
	switch r.Code() {
	case RespQuarantine:
		s.tx.quarantined = true
		if err = s.writePacket(RespQuarantine, EncodeStrings(r.text)); err == nil {
			err = s.writePacket(RespContinue, nil)
		}
	case RespReplyCode:
		err = s.writePacket(RespReplyCode, EncodeStrings(r.text))
	default:
		err = s.writePacket(r.Code(), nil)
	}
	if err != nil {
		return err
	}
	return s.flush()
}

// finishTx records the decision of the current transaction once: the
// metrics and the one log line. State changes are the caller's.
func (s *session) finishTx(result string) {
	if s.state != stateTx || s.tx.done {
		return
	}
	s.tx.done = true
	if s.tx.quarantined && result == "accept" {
		result = "quarantine"
	}
	d := time.Since(s.tx.start)
	s.srv.m.messages.WithLabelValues(result).Inc()
	s.srv.m.duration.Observe(d.Seconds())
	attrs := []slog.Attr{
		slog.String("queue_id", s.macros.Get("i")), slog.String("client", s.client),
		slog.String("from", s.tx.from), slog.Int("rcpts", s.tx.rcpts),
		slog.String("result", result), slog.Duration("duration", d),
	}
	attrs = append(attrs, s.tl.attrs...)
	s.tl.attrs = nil
	s.log.LogAttrs(s.ctx, slog.LevelInfo, "milter transaction", attrs...)
}
