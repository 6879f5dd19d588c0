package milter

import (
	"context"
	"errors"
	"github.com/gomilter/gomilter/internal/netsrv"
	"io"
	"log/slog"
	"net"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// ErrServerClosed is returned by Serve after Shutdown or Close.
var ErrServerClosed = errors.New("milter: server closed")

// Defaults for Options fields left zero.
const (
	// DefaultReadTimeout exceeds Postfix's milter_content_timeout (300s),
	// so the MTA gives up first and we never cut a live session.
	DefaultReadTimeout  = 330 * time.Second
	DefaultWriteTimeout = 30 * time.Second
	// DefaultMaxPacketSize holds a 1 MiB payload plus header; Postfix body
	// chunks are at most 65535 bytes, so only headers and macros come near.
	DefaultMaxPacketSize = 1<<20 + 64
	// DefaultActions is what our pipeline needs: add/insert headers,
	// change/delete headers, replace the body (spam wrapped as
	// SpamAssassin's report_safe does), quarantine.
	DefaultActions = ActAddHeader | ActChangeHeader | ActChangeBody | ActQuarantine
	// DefaultNoReply lists the events answered without a round trip.
	DefaultNoReply = ProtoNRHeader | ProtoNREOH | ProtoNRBody | ProtoNRUnknown | ProtoNRData
)

// Options configure a Server. Zero values mean the documented defaults.
type Options struct {
	// Logger receives one line per transaction and one per error; nil
	// discards.
	Logger *slog.Logger
	// Registerer gets the gomilter_milter_* metrics; nil registers nothing.
	Registerer prometheus.Registerer
	// ReadTimeout bounds the wait for each packet (DefaultReadTimeout).
	ReadTimeout time.Duration
	// WriteTimeout bounds each reply write (DefaultWriteTimeout).
	WriteTimeout time.Duration
	// MaxPacketSize bounds one packet's length field (DefaultMaxPacketSize).
	MaxPacketSize int
	// Actions are the modification actions requested in OPTNEG
	// (DefaultActions), reduced to what the MTA offers.
	Actions OptAction
	// NoReply are the SMFIP_NR_* events the milter never answers
	// (DefaultNoReply), reduced to what the MTA offers. See Milter for
	// what happens to a final response from such an event; decisions of
	// CONNECT, HELO and RCPT cannot be held for later and are dropped
	// (with a warning) when those events are made no-reply.
	NoReply OptProtocol
	// ReplyAlways turns NoReply off: every event is answered.
	ReplyAlways bool
	// NoEvents are SMFIP_NO* events not to be sent at all, in addition
	// to UNKNOWN which is never wanted (e.g. ProtoNoBody for a milter
	// that only reads headers).
	NoEvents OptProtocol
	// Trace, when set, gets one line per packet in each direction: the
	// command or reply name, its length and (except body data) the start
	// of its payload. For debugging only: it shows addresses and headers.
	Trace io.Writer
	// SymLists, when set and the MTA offers SETSYMLIST, replaces the
	// MTA's macro list of each stage given (Postfix 3.7 keeps its default
	// lists for stages left out). Values are space-separated names, e.g.
	// "{auth_authen} i".
	SymLists map[Stage]string
}

func (o *Options) setDefaults() error {
	if o.Logger == nil {
		o.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	if o.ReadTimeout == 0 {
		o.ReadTimeout = DefaultReadTimeout
	}
	if o.WriteTimeout == 0 {
		o.WriteTimeout = DefaultWriteTimeout
	}
	if o.MaxPacketSize == 0 {
		o.MaxPacketSize = DefaultMaxPacketSize
	}
	if o.Actions == 0 {
		o.Actions = DefaultActions
	}
	if o.NoReply == 0 {
		o.NoReply = DefaultNoReply
	}
	if o.ReplyAlways {
		o.NoReply = 0
	}
	switch {
	case o.ReadTimeout < 0 || o.WriteTimeout < 0:
		return errors.New("milter: negative timeout")
	case o.MaxPacketSize < MaxBodyChunk+1:
		return errors.New("milter: MaxPacketSize below 65536 cannot carry a body chunk")
	case o.NoReply&^ProtoNRAll != 0:
		return errors.New("milter: NoReply holds bits that are not SMFIP_NR_*")
	case o.Actions&^(ActSetSymList<<1-1) != 0:
		return errors.New("milter: unknown action bits")
	}
	return nil
}

// shutdownGrace is how long Shutdown waits, after its deadline closed the
// connections, for the sessions' goroutines to return.
const shutdownGrace = 2 * time.Second

// Server accepts MTA connections and runs one session, with its own
// Milter, per connection.
type Server struct {
	newMilter func(ctx context.Context) Milter
	opts      Options
	m         *metrics

	baseCtx context.Context
	cancel  context.CancelFunc

	mu        sync.Mutex
	listeners map[net.Listener]struct{}
	conns     map[net.Conn]struct{}
	closing   bool
	wg        sync.WaitGroup // one per session
}

// NewServer checks opts and registers the metrics. newMilter is called
// once per connection with the connection's context.
func NewServer(newMilter func(ctx context.Context) Milter, opts Options) (*Server, error) {
	if newMilter == nil {
		return nil, errors.New("milter: NewServer needs a newMilter function")
	}
	if err := opts.setDefaults(); err != nil {
		return nil, err
	}
	m, err := newMetrics(opts.Registerer)
	if err != nil {
		return nil, err
	}
	ctx, cancel := context.WithCancel(context.Background())
	return &Server{
		newMilter: newMilter, opts: opts, m: m, baseCtx: ctx, cancel: cancel,
		listeners: map[net.Listener]struct{}{}, conns: map[net.Conn]struct{}{},
	}, nil
}

// Serve accepts connections on l until Shutdown or Close, which make it
// return ErrServerClosed. l is closed when Serve returns.
func (s *Server) Serve(l net.Listener) error {
	if !s.track(l, true) {
		l.Close()
		return ErrServerClosed
	}
	defer s.track(l, false)
	defer l.Close()
	err := netsrv.Accept(l, s.isClosing, func(c net.Conn) {
		if !s.addConn(c) {
			c.Close() // closing: the loop ends at the next Accept
			return
		}
		go s.serveConn(c)
	})
	if err == nil {
		return ErrServerClosed
	}
	return err
}

// ServeConn runs one session on an already-accepted connection and
// returns when it ends; handy for tests and for socket activation.
func (s *Server) ServeConn(c net.Conn) {
	if !s.addConn(c) {
		c.Close()
		return
	}
	s.serveConn(c)
}

func (s *Server) serveConn(c net.Conn) {
	defer s.wg.Done()
	defer s.removeConn(c)
	s.m.connections.Inc()
	s.m.active.Inc()
	defer s.m.active.Dec()
	newSession(s, c).run()
}

func (s *Server) track(l net.Listener, add bool) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if add {
		if s.closing {
			return false
		}
		s.listeners[l] = struct{}{}
	} else {
		delete(s.listeners, l)
	}
	return true
}

func (s *Server) addConn(c net.Conn) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closing {
		return false
	}
	s.conns[c] = struct{}{}
	s.wg.Add(1)
	return true
}

func (s *Server) removeConn(c net.Conn) {
	c.Close()
	s.mu.Lock()
	delete(s.conns, c)
	s.mu.Unlock()
}

func (s *Server) isClosing() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.closing
}

// stopAccepting marks the server closing and closes the listeners.
func (s *Server) stopAccepting() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.closing = true
	for l := range s.listeners {
		l.Close()
	}
}

// Shutdown stops accepting and waits for open sessions to end by
// themselves (the MTA sends QUIT when its SMTP session ends). When ctx is
// done first, the remaining connections are closed (their contexts
// cancelled) and ctx's error is returned.
func (s *Server) Shutdown(ctx context.Context) error {
	s.stopAccepting()
	done := make(chan struct{})
	go func() { s.wg.Wait(); close(done) }()
	select {
	case <-done:
		s.cancel()
		return nil
	case <-ctx.Done():
		s.Close()
		// Closed connections end their sessions at once unless a callback
		// ignores its context; do not let such a callback hang shutdown.
		select {
		case <-done:
		case <-time.After(shutdownGrace):
			s.opts.Logger.Warn("milter shutdown: sessions still running after close (a callback ignores its context)")
		}
		return ctx.Err()
	}
}

// Close stops accepting, cancels every session's context and closes
// every connection at once.
func (s *Server) Close() error {
	s.stopAccepting()
	s.cancel()
	s.mu.Lock()
	for c := range s.conns {
		c.Close()
	}
	s.mu.Unlock()
	return nil
}
