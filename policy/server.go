package policy

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
var ErrServerClosed = errors.New("policy: server closed")

// Default timeouts.
const (
	// DefaultIdleTimeout outlasts Postfix's own connection reuse
	// (smtpd_policy_service_max_ttl = 1000 s).
	DefaultIdleTimeout = 1000 * time.Second
	// DefaultHandlerTimeout stays under smtpd_policy_service_timeout
	// (100 s), so Postfix gets a reply rather than a timeout.
	DefaultHandlerTimeout = 60 * time.Second
	// DefaultReadTimeout bounds reading the rest of a request once its
	// first byte arrived, and writing the reply.
	DefaultReadTimeout = 10 * time.Second
	// DefaultMaxConnections bounds concurrent connections.
	DefaultMaxConnections = 1000
)

// Options configures a Server. Zero values take the defaults.
type Options struct {
	Limits
	// IdleTimeout closes a connection with no request for this long.
	IdleTimeout time.Duration
	// ReadTimeout bounds a request after its first line, and each reply.
	ReadTimeout time.Duration
	// HandlerTimeout bounds one Handler call (its ctx deadline).
	HandlerTimeout time.Duration
	// MaxConnections: further connections are closed at once.
	MaxConnections int
	// Logger receives errors and malformed-request reports; nil discards.
	Logger *slog.Logger
	// Registerer receives the gomilter_policy_* metrics; nil registers none.
	Registerer prometheus.Registerer
	// Trace, if set, receives every request line ("C: ") and reply ("S: ").
	Trace io.Writer
}

// Server serves the policy protocol on listeners.
type Server struct {
	h       Handler
	opts    Options
	log     *slog.Logger
	m       *metrics
	baseCtx context.Context
	cancel  context.CancelFunc

	mu        sync.Mutex
	listeners map[net.Listener]struct{}
	conns     map[*conn]struct{}
	closing   bool
	wg        sync.WaitGroup
	traceMu   sync.Mutex
}

// NewServer validates opts and returns a Server calling h.
func NewServer(h Handler, opts Options) (*Server, error) {
	if h == nil {
		return nil, errors.New("policy: nil Handler")
	}
	if opts.IdleTimeout < 0 || opts.ReadTimeout < 0 || opts.HandlerTimeout < 0 || opts.MaxConnections < 0 {
		return nil, errors.New("policy: negative timeout or limit")
	}
	opts.Limits = opts.Limits.withDefaults()
	if opts.IdleTimeout == 0 {
		opts.IdleTimeout = DefaultIdleTimeout
	}
	if opts.ReadTimeout == 0 {
		opts.ReadTimeout = DefaultReadTimeout
	}
	if opts.HandlerTimeout == 0 {
		opts.HandlerTimeout = DefaultHandlerTimeout
	}
	if opts.MaxConnections == 0 {
		opts.MaxConnections = DefaultMaxConnections
	}
	log := opts.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	m, err := newMetrics(opts.Registerer)
	if err != nil {
		return nil, err
	}
	ctx, cancel := context.WithCancel(context.Background())
	return &Server{h: h, opts: opts, log: log, m: m, baseCtx: ctx, cancel: cancel,
		listeners: map[net.Listener]struct{}{}, conns: map[*conn]struct{}{}}, nil
}

// Serve accepts connections on l until Shutdown or Close, then returns
// ErrServerClosed.
func (s *Server) Serve(l net.Listener) error {
	s.mu.Lock()
	if s.closing {
		s.mu.Unlock()
		return ErrServerClosed
	}
	s.listeners[l] = struct{}{}
	s.mu.Unlock()
	defer func() {
		s.mu.Lock()
		delete(s.listeners, l)
		s.mu.Unlock()
	}()
	if err := netsrv.Accept(l, s.isClosing, s.startConn); err != nil {
		return err
	}
	return ErrServerClosed
}

func (s *Server) isClosing() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.closing
}

func (s *Server) startConn(nc net.Conn) {
	s.m.connsTotal.Inc()
	s.mu.Lock()
	if s.closing || len(s.conns) >= s.opts.MaxConnections {
		s.mu.Unlock()
		s.log.Warn("policy: connection refused", "remote", nc.RemoteAddr().String(), "reason", "closing or too many connections")
		nc.Close()
		return
	}
	c := &conn{s: s, nc: nc}
	s.conns[c] = struct{}{}
	s.wg.Add(1)
	s.mu.Unlock()
	s.m.connsOpen.Inc()
	go func() {
		defer s.wg.Done()
		defer s.m.connsOpen.Dec()
		defer func() {
			s.mu.Lock()
			delete(s.conns, c)
			s.mu.Unlock()
		}()
		c.serve()
	}()
}

// Shutdown stops accepting, closes idle connections, lets connections that
// are answering a request finish it, and waits for them until ctx ends.
func (s *Server) Shutdown(ctx context.Context) error {
	s.mu.Lock()
	s.closing = true
	for l := range s.listeners {
		l.Close()
	}
	for c := range s.conns {
		c.closeIfIdle()
	}
	s.mu.Unlock()
	done := make(chan struct{})
	go func() {
		s.wg.Wait()
		close(done)
	}()
	select {
	case <-done:
		s.cancel()
		return nil
	case <-ctx.Done():
		s.Close()
		return ctx.Err()
	}
}

// Close stops at once: listeners and connections are closed and handler
// contexts cancelled.
func (s *Server) Close() error {
	s.mu.Lock()
	s.closing = true
	for l := range s.listeners {
		l.Close()
	}
	for c := range s.conns {
		c.nc.Close()
	}
	s.mu.Unlock()
	s.cancel()
	return nil
}

func (s *Server) trace(prefix string, b []byte) {
	if s.opts.Trace == nil {
		return
	}
	s.traceMu.Lock()
	defer s.traceMu.Unlock()
	s.opts.Trace.Write(append([]byte(prefix), b...))
}
