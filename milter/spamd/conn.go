package spamd

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"runtime/debug"
	"strconv"
	"strings"
	"time"
)

// serveConn answers the one request a spamd connection carries.
func (s *Server) serveConn(nc net.Conn) {
	var cmd Command = "?"
	start := time.Now()
	defer func() {
		if r := recover(); r != nil {
			s.m.panics.Inc()
			s.log.Error("spamd: panic serving request", "command", string(cmd), "panic", fmt.Sprint(r), "stack", string(debug.Stack()))
			s.reply(nc, cmd, start, errorResponse(&Error{Code: ExTempFail, Text: "internal error"}))
		}
	}()
	nc.SetReadDeadline(time.Now().Add(s.opts.ReadTimeout))
	req, err := ReadRequest(newReader(nc), s.opts.Limits)
	if err != nil {
		var pe *Error
		if errors.As(err, &pe) {
			s.log.Info("spamd: bad request", "remote", nc.RemoteAddr().String(), "error", pe.Text)
			s.reply(nc, cmd, start, errorResponse(pe))
			drain(nc, min(time.Second, s.opts.ReadTimeout))
		}
		return // I/O errors: the client is gone, nothing to answer
	}
	cmd = req.Command
	s.tracef("C: %s SPAMC/%s user=%q length=%d", req.Command, req.Version, req.User, len(req.Body))
	if req.Command == CmdSkip || !s.setBusy(nc) {
		return
	}
	ctx, cancel := context.WithTimeout(s.baseCtx, s.opts.ScanTimeout)
	defer cancel()
	resp, err := s.handle(ctx, req)
	if err != nil {
		resp = s.failure(req, err)
	}
	s.reply(nc, cmd, start, resp)
}

func (s *Server) handle(ctx context.Context, req *Request) (*Response, error) {
	switch req.Command {
	case CmdPing:
		return &Response{Code: ExOK, Text: "PONG", Version: "1.5", NoLength: true}, nil
	case CmdTell:
		return s.tell(ctx, req)
	}
	v, err := s.sc.Score(ctx, req.Body, req.User)
	if err != nil {
		return nil, err
	}
	if v.IsSpam {
		s.m.verdicts.WithLabelValues("spam").Inc()
	} else {
		s.m.verdicts.WithLabelValues("ham").Inc()
	}
	return scoreResponse(req, &v), nil
}

// scoreResponse builds the reply of the scoring commands from a verdict.
func scoreResponse(req *Request, v *Verdict) *Response {
	r := &Response{Code: ExOK, Text: "EX_OK", Headers: []header{spamHeader(v.IsSpam, v.Score, v.Required)}}
	switch req.Command {
	case CmdCheck:
		r.NoLength = true
	case CmdSymbols:
		r.Body = []byte(strings.Join(v.Rules, ","))
	case CmdReport:
		r.Body = []byte(v.Report)
	case CmdReportIfSpam:
		if v.IsSpam {
			r.Body = []byte(v.Report)
		}
	case CmdProcess:
		r.Body = rewritten(req.Body, v)
	case CmdHeaders:
		r.Body = headerBlock(rewritten(req.Body, v))
	}
	return r
}

// tell learns or forgets the message in the local database. "remote"
// (collaborative reporting services) is not supported and silently not
// done, so the client sees it missing from DidSet/DidRemove.
func (s *Server) tell(ctx context.Context, req *Request) (*Response, error) {
	if !s.opts.AllowTell || s.opts.Learner == nil {
		return nil, &Error{Code: ExUnavailable, Text: "TELL commands are not enabled"}
	}
	r := &Response{Code: ExOK, Text: "EX_OK"}
	if contains(req.Set, "local") {
		ok, err := s.opts.Learner.Learn(ctx, req.Body, req.User, req.MessageClass == "spam")
		if err != nil {
			return nil, err
		}
		if ok {
			r.Headers = append(r.Headers, header{"DidSet", "local"})
		}
	}
	if contains(req.Remove, "local") {
		ok, err := s.opts.Learner.Forget(ctx, req.Body, req.User)
		if err != nil {
			return nil, err
		}
		if ok {
			r.Headers = append(r.Headers, header{"DidRemove", "local"})
		}
	}
	return r, nil
}

// drain reads and drops what the client still sends after an early error
// reply, for a short bounded while, so that closing the socket does not
// reset the connection before the client has read the reply.
func drain(nc net.Conn, wait time.Duration) {
	if cw, ok := nc.(interface{ CloseWrite() error }); ok {
		cw.CloseWrite()
	}
	nc.SetReadDeadline(time.Now().Add(wait))
	io.Copy(io.Discard, io.LimitReader(nc, 1<<20))
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// failure maps a Scorer/Learner error to the reply: an *Error as chosen,
// anything else EX_TEMPFAIL with a generic text (details only logged).
func (s *Server) failure(req *Request, err error) *Response {
	var pe *Error
	if errors.As(err, &pe) {
		s.log.Info("spamd: request refused", "command", string(req.Command), "code", pe.Code, "error", err)
		return errorResponse(pe)
	}
	code, text := ExTempFail, "temporary failure"
	if errors.Is(err, context.DeadlineExceeded) {
		code, text = ExTimeout, "scan timed out"
	}
	s.log.Error("spamd: request failed", "command", string(req.Command), "user", req.User, "reply", code, "error", err)
	return errorResponse(&Error{Code: code, Text: text})
}

func (s *Server) reply(nc net.Conn, cmd Command, start time.Time, r *Response) {
	nc.SetWriteDeadline(time.Now().Add(s.opts.WriteTimeout))
	if _, err := nc.Write(r.encode()); err != nil {
		s.log.Info("spamd: writing reply", "remote", nc.RemoteAddr().String(), "error", err)
	}
	s.tracef("S: SPAMD/%s %d %s", r.version(), r.Code, r.Text)
	label := string(cmd)
	if !knownCommand(label) {
		label = "invalid"
	}
	s.m.requests.WithLabelValues(label, strconv.Itoa(r.Code)).Inc()
	s.m.duration.WithLabelValues(label).Observe(time.Since(start).Seconds())
}

func (s *Server) tracef(format string, args ...any) {
	if s.opts.Trace == nil {
		return
	}
	s.traceMu.Lock()
	defer s.traceMu.Unlock()
	fmt.Fprintf(s.opts.Trace, format+"\n", args...)
}
