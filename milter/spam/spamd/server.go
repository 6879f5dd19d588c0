// Package spamd serves the spamc/spamd protocol (SPAMC/1.5 requests,
// SPAMD/1.1 replies, as documented in SpamAssassin's spamd/PROTOCOL) on
// top of the gomilter spam engine, so existing spamc clients and
// spamass-milter setups keep working.
//
// Supported verbs: CHECK, SYMBOLS, REPORT, REPORT_IFSPAM, PROCESS,
// HEADERS, PING, SKIP and TELL (Message-class: spam|ham with Set: local).
// Compression and per-user configuration are not supported.
package spamd

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"runtime/debug"
	"strings"
	"sync"
	"time"

	"github.com/gomilter/gomilter/milter/spam"
)

// Options configures a Server. Zero values get safe defaults.
type Options struct {
	Logger      *slog.Logger  // nil: discard
	Timeout     time.Duration // per connection, default 60s
	MaxMessage  int64         // bytes, default 10 MiB
	MaxLine     int           // request and header lines, default 8 KiB
	AllowTell   bool          // accept TELL (learning); default off
	MaxInFlight int           // concurrent connections, default 32
}

// Server answers spamc requests.
type Server struct {
	eng  *spam.Engine
	opts Options
	log  *slog.Logger

	mu     sync.Mutex
	lns    map[net.Listener]bool
	conns  map[net.Conn]bool
	closed bool
	wg     sync.WaitGroup
	sem    chan struct{}
}

// ErrServerClosed is returned by Serve after Shutdown or Close.
var ErrServerClosed = errors.New("spamd: server closed")

// NewServer validates opts and returns a server for eng.
func NewServer(eng *spam.Engine, opts Options) (*Server, error) {
	if eng == nil {
		return nil, errors.New("spamd: nil engine")
	}
	if opts.Timeout <= 0 {
		opts.Timeout = 60 * time.Second
	}
	if opts.MaxMessage <= 0 {
		opts.MaxMessage = 10 << 20
	}
	if opts.MaxLine <= 0 {
		opts.MaxLine = 8 << 10
	}
	if opts.MaxInFlight <= 0 {
		opts.MaxInFlight = 32
	}
	log := opts.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Server{eng: eng, opts: opts, log: log, lns: map[net.Listener]bool{},
		conns: map[net.Conn]bool{}, sem: make(chan struct{}, opts.MaxInFlight)}, nil
}

// Serve accepts connections until Shutdown or Close.
func (s *Server) Serve(l net.Listener) error {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return ErrServerClosed
	}
	s.lns[l] = true
	s.mu.Unlock()
	for {
		c, err := l.Accept()
		if err != nil {
			s.mu.Lock()
			closed := s.closed
			s.mu.Unlock()
			if closed {
				return ErrServerClosed
			}
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() {
				time.Sleep(10 * time.Millisecond)
				continue
			}
			return err
		}
		s.sem <- struct{}{}
		if !s.track(c, true) {
			<-s.sem
			c.Close()
			return ErrServerClosed
		}
		s.wg.Add(1)
		go s.serveConn(c)
	}
}

func (s *Server) track(c net.Conn, add bool) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if add {
		if s.closed {
			return false
		}
		s.conns[c] = true
		return true
	}
	delete(s.conns, c)
	return true
}

// Shutdown stops accepting and waits for connections in progress.
func (s *Server) Shutdown(ctx context.Context) error {
	s.closeListeners()
	done := make(chan struct{})
	go func() { s.wg.Wait(); close(done) }()
	select {
	case <-done:
		return nil
	case <-ctx.Done():
		s.Close()
		return ctx.Err()
	}
}

// Close stops the server and drops open connections.
func (s *Server) Close() error {
	s.closeListeners()
	s.mu.Lock()
	for c := range s.conns {
		c.Close()
	}
	s.mu.Unlock()
	return nil
}

func (s *Server) closeListeners() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.closed = true
	for l := range s.lns {
		l.Close()
	}
}

func (s *Server) serveConn(c net.Conn) {
	defer s.wg.Done()
	defer func() { <-s.sem }()
	defer s.track(c, false)
	defer c.Close()
	c.SetDeadline(time.Now().Add(s.opts.Timeout))
	ctx, cancel := context.WithTimeout(context.Background(), s.opts.Timeout)
	defer cancel()
	resp := s.handle(ctx, c)
	if resp != nil {
		resp.WriteTo(c)
	}
}

// handle reads one request and builds the reply; panics become
// EX_SOFTWARE and are logged with their stack.
func (s *Server) handle(ctx context.Context, c net.Conn) (resp *Response) {
	defer func() {
		if p := recover(); p != nil {
			s.log.Error("spamd: panic", "panic", p, "stack", string(debug.Stack()))
			resp = &Response{Code: ExSoftware, Status: "internal error"}
		}
	}()
	req, err := ReadRequest(bufio.NewReaderSize(c, 4096), s.opts.MaxLine, s.opts.MaxMessage)
	if err != nil {
		var pe *ProtocolError
		if errors.As(err, &pe) {
			s.log.Info("spamd: bad request", "peer", c.RemoteAddr().String(), "err", pe.Msg)
			return &Response{Code: pe.Code, Status: pe.Msg}
		}
		s.log.Info("spamd: read failed", "peer", c.RemoteAddr().String(), "err", err)
		return nil
	}
	return s.answer(ctx, req)
}

func (s *Server) answer(ctx context.Context, req *Request) *Response {
	switch req.Method {
	case MethodPing:
		return &Response{Code: ExOK, Status: "PONG"}
	case MethodSkip:
		return nil
	case MethodTell:
		return s.tell(ctx, req)
	}
	res := s.eng.CheckBytes(ctx, nil, req.Body)
	if res.Err != nil {
		s.log.Error("spamd: check failed", "err", res.Err)
		return &Response{Code: ExSoftware, Status: "internal error"}
	}
	spamHdr := fmt.Sprintf("Spam: %s ; %.1f / %.1f", map[bool]string{true: "True", false: "False"}[res.IsSpam], res.Score, res.Required)
	resp := &Response{Code: ExOK, Status: "EX_OK", Headers: []string{spamHdr}}
	switch req.Method {
	case MethodSymbols:
		resp.Body = []byte(strings.Join(res.Rules, ","))
	case MethodReport, MethodReportIfSpam:
		if req.Method == MethodReport || res.IsSpam {
			resp.Body = []byte(report(res))
		}
	case MethodProcess:
		resp.Body = res.Rewrite(req.Body)
	case MethodHeaders:
		out := res.Rewrite(req.Body)
		if i := strings.Index(string(out), "\r\n\r\n"); i >= 0 {
			out = out[:i+4]
		} else if i := strings.Index(string(out), "\n\n"); i >= 0 {
			out = out[:i+2]
		}
		resp.Body = out
	}
	return resp
}

func (s *Server) tell(ctx context.Context, req *Request) *Response {
	if !s.opts.AllowTell {
		return &Response{Code: ExNoPerm, Status: "TELL commands are not enabled"}
	}
	class := strings.ToLower(req.Headers["message-class"])
	if class != "spam" && class != "ham" || !strings.Contains(strings.ToLower(req.Headers["set"]), "local") {
		return &Response{Code: ExProtocol, Status: "TELL needs Message-class: spam|ham and Set: local"}
	}
	if _, err := s.eng.Learn(ctx, req.Body, class == "spam"); err != nil {
		s.log.Error("spamd: learn failed", "err", err)
		return &Response{Code: ExTempFail, Status: "learning failed"}
	}
	return &Response{Code: ExOK, Status: "EX_OK", Headers: []string{"DidSet: local"}}
}

// report is a compact version of SA's report template body.
func report(res *spam.Result) string {
	var b strings.Builder
	fmt.Fprintf(&b, "Content analysis details:   (%.1f points, %.1f required)\n\n", res.Score, res.Required)
	b.WriteString(" pts rule name              description\n")
	b.WriteString("---- ---------------------- --------------------------------------------------\n")
	for _, r := range res.Rules {
		fmt.Fprintf(&b, "%4.1f %-22s\n", res.Scores[r], r)
	}
	return b.String()
}
