package spamd

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
var ErrServerClosed = errors.New("spamd: server closed")

// Defaults.
const (
	// DefaultReadTimeout bounds reading a whole request; spamc sends it at
	// once, so this only catches stuck clients.
	DefaultReadTimeout = 30 * time.Second
	// DefaultWriteTimeout bounds writing the reply.
	DefaultWriteTimeout = 30 * time.Second
	// DefaultScanTimeout bounds one Scorer or Learner call; spamc's own
	// default timeout (-t) is 600 s.
	DefaultScanTimeout = 120 * time.Second
	// DefaultMaxConnections bounds concurrent connections.
	DefaultMaxConnections = 200
)

// Options configures a Server. Zero values take the defaults.
type Options struct {
	Limits
	ReadTimeout, WriteTimeout, ScanTimeout time.Duration
	MaxConnections                         int
	// Learner handles TELL; nil or AllowTell false answers EX_UNAVAILABLE,
	// as spamd without --allow-tell does.
	Learner   Learner
	AllowTell bool
	// Logger receives errors; nil discards.
	Logger *slog.Logger
	// Registerer receives the gomilter_spamd_* metrics; nil registers none.
	Registerer prometheus.Registerer
	// Trace, if set, receives each request's first line and reply status.
	Trace io.Writer
}

// Server serves the spamd protocol.
type Server struct {
	sc      Scorer
	opts    Options
	log     *slog.Logger
	m       *metrics
	baseCtx context.Context
	cancel  context.CancelFunc

	mu        sync.Mutex
	listeners map[net.Listener]struct{}
	conns     map[net.Conn]bool // true while a request is being handled
	closing   bool
	wg        sync.WaitGroup
	traceMu   sync.Mutex
}

// NewServer validates opts and returns a Server using sc.
func NewServer(sc Scorer, opts Options) (*Server, error) {
	if sc == nil {
		return nil, errors.New("spamd: nil Scorer")
	}
	if opts.ReadTimeout < 0 || opts.WriteTimeout < 0 || opts.ScanTimeout < 0 || opts.MaxConnections < 0 ||
		opts.MaxMessageSize < 0 || opts.MaxHeaderLines < 0 {
		return nil, errors.New("spamd: negative timeout or limit")
	}
	opts.Limits = opts.Limits.withDefaults()
	opts.ReadTimeout = orDefault(opts.ReadTimeout, DefaultReadTimeout)
	opts.WriteTimeout = orDefault(opts.WriteTimeout, DefaultWriteTimeout)
	opts.ScanTimeout = orDefault(opts.ScanTimeout, DefaultScanTimeout)
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
	return &Server{sc: sc, opts: opts, log: log, m: m, baseCtx: ctx, cancel: cancel,
		listeners: map[net.Listener]struct{}{}, conns: map[net.Conn]bool{}}, nil
}

func orDefault(d, def time.Duration) time.Duration {
	if d == 0 {
		return def
	}
	return d
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
		s.log.Warn("spamd: connection refused", "remote", nc.RemoteAddr().String(), "reason", "closing or too many connections")
		nc.Close()
		return
	}
	s.conns[nc] = false
	s.wg.Add(1)
	s.mu.Unlock()
	s.m.connsOpen.Inc()
	go func() {
		defer s.wg.Done()
		defer s.m.connsOpen.Dec()
		defer func() {
			s.mu.Lock()
			delete(s.conns, nc)
			s.mu.Unlock()
			nc.Close()
		}()
		s.serveConn(nc)
	}()
}

// setBusy marks a connection as handling a request, so Shutdown lets it
// finish; it returns false when the server is closing.
func (s *Server) setBusy(nc net.Conn) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closing {
		return false
	}
	s.conns[nc] = true
	return true
}

// Shutdown stops accepting, closes connections that have not sent a
// request yet, and waits until ctx ends for those being answered.
func (s *Server) Shutdown(ctx context.Context) error {
	s.mu.Lock()
	s.closing = true
	for l := range s.listeners {
		l.Close()
	}
	for nc, busy := range s.conns {
		if !busy {
			nc.Close()
		}
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

// Close stops at once: listeners and connections are closed and scoring
// contexts cancelled.
func (s *Server) Close() error {
	s.mu.Lock()
	s.closing = true
	for l := range s.listeners {
		l.Close()
	}
	for nc := range s.conns {
		nc.Close()
	}
	s.mu.Unlock()
	s.cancel()
	return nil
}
