package dovecotauth

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"github.com/gomilter/gomilter/internal/netsrv"
	"io"
	"log/slog"
	"net"
	"net/netip"
	"os"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// ErrServerClosed is returned by Serve after Shutdown or Close.
var ErrServerClosed = errors.New("dovecotauth: server closed")

// Options configures a Server. The zero value is usable: every limit and
// timeout has a safe default.
type Options struct {
	// Mechanisms to offer; default PLAIN and LOGIN. CRAM-MD5, SCRAM-SHA-1 and
	// SCRAM-SHA-256 are offered only if the Authenticator can serve them
	// (it implements userdb.SchemeLister and every stored scheme fits);
	// otherwise they are dropped with a warning. ANONYMOUS is never offered.
	Mechanisms []string
	// FailureDelay holds back every FAIL (Dovecot auth_failure_delay);
	// default 2s, negative = none.
	FailureDelay time.Duration
	// PenaltyInit and PenaltyMax: the delay before a request from an IP
	// (IPv6 /64) or for a user with recent failures grows PenaltyInit,
	// 2x, 4x... up to PenaltyMax (defaults 2s and 8s).
	PenaltyInit, PenaltyMax time.Duration
	// PenaltyTTL forgets failures after this long (default 1h).
	PenaltyTTL time.Duration
	// MaxDelay bounds the total deliberate delay of one request (penalty +
	// failure delay) so Postfix's 10 s read timeout is not hit by accident;
	// default 8s.
	MaxDelay time.Duration
	// TrustedNetworks are never penalised (Dovecot login_trusted_networks).
	TrustedNetworks []netip.Prefix
	// LookupTimeout bounds one credential lookup; default 8s (below
	// Postfix's 10 s).
	LookupTimeout time.Duration
	// TempFailAsFail answers a temporary store failure with
	// "FAIL code=temp_fail" instead of closing the connection. Leave it
	// false for Postfix, which turns only a closed connection into 454.
	TempFailAsFail bool
	// VerifyCacheTTL enables the verified-credential cache: a successful
	// (user, password, stored hash) triple is remembered (as a keyed hash)
	// and not re-hashed for this long. 0 disables it.
	VerifyCacheTTL time.Duration
	// VerifyCacheSize bounds the cache entries (default 10000).
	VerifyCacheSize int
	// KeepUsernameCase disables Dovecot's default auth_username_format %Lu.
	KeepUsernameCase bool
	// UsernameChars lists allowed characters (Dovecot syntax, ranges with
	// '-'); default "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ01234567890.-_@".
	UsernameChars string
	// Hostname appears in CRAM-MD5 challenges; default os.Hostname().
	Hostname string
	// MaxLineLength (default 16384, Dovecot's limit), MaxInFlight requests per
	// connection (default 64), MaxConnections (default 1024).
	MaxLineLength, MaxInFlight, MaxConnections int
	// ContinueTimeout ends an exchange whose client stopped answering
	// challenges (default 60s).
	ContinueTimeout time.Duration
	// IdleTimeout closes a connection with no traffic (default 1h: Postfix
	// keeps one connection per smtpd process); WriteTimeout bounds each
	// write (default 10s).
	IdleTimeout, WriteTimeout time.Duration
	// Logger receives one line per handled error; nil discards.
	Logger *slog.Logger
	// Registerer receives the metrics; nil means none.
	Registerer prometheus.Registerer
	// Trace, if set, receives the protocol exchange with credentials
	// replaced by "***".
	Trace io.Writer
}

const defaultUsernameChars = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ01234567890.-_@"

func (o *Options) setDefaults() {
	if len(o.Mechanisms) == 0 {
		o.Mechanisms = []string{"PLAIN", "LOGIN"}
	}
	def := func(d *time.Duration, v time.Duration) {
		if *d == 0 {
			*d = v
		}
	}
	def(&o.FailureDelay, 2*time.Second)
	def(&o.PenaltyInit, 2*time.Second)
	def(&o.PenaltyMax, 8*time.Second)
	def(&o.PenaltyTTL, time.Hour)
	def(&o.MaxDelay, 8*time.Second)
	def(&o.LookupTimeout, 8*time.Second)
	def(&o.IdleTimeout, time.Hour)
	def(&o.ContinueTimeout, time.Minute)
	def(&o.WriteTimeout, 10*time.Second)
	defInt := func(d *int, v int) {
		if *d <= 0 {
			*d = v
		}
	}
	defInt(&o.VerifyCacheSize, 10000)
	defInt(&o.MaxLineLength, 16384)
	defInt(&o.MaxInFlight, 64)
	defInt(&o.MaxConnections, 1024)
	if o.UsernameChars == "" {
		o.UsernameChars = defaultUsernameChars
	}
	if o.Hostname == "" {
		o.Hostname, _ = os.Hostname()
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
}

// Server serves the Dovecot auth client protocol (Serve) and the
// auth-userdb protocol (ServeUserdb).
type Server struct {
	auth     Authenticator
	opts     Options
	mechs    []mechanism
	metrics  *metrics
	penalty  *penaltyTable
	cache    *verifyCache
	chars    [256]bool
	pid      int
	connSeq  atomic.Uint32
	mu       sync.Mutex
	closed   bool
	lns      map[net.Listener]struct{}
	conns    map[net.Conn]struct{}
	wg       sync.WaitGroup
	shutdown chan struct{}
}

// NewServer validates opts and builds a server around auth.
func NewServer(auth Authenticator, opts Options) (*Server, error) {
	if auth == nil {
		return nil, errors.New("dovecotauth: nil Authenticator")
	}
	opts.setDefaults()
	m, err := newMetrics(opts.Registerer)
	if err != nil {
		return nil, fmt.Errorf("dovecotauth: metrics: %w", err)
	}
	s := &Server{auth: auth, opts: opts, metrics: m, pid: os.Getpid(),
		lns: map[net.Listener]struct{}{}, conns: map[net.Conn]struct{}{}, shutdown: make(chan struct{})}
	if s.mechs, err = selectMechanisms(auth, opts.Mechanisms, opts.Logger); err != nil {
		return nil, err
	}
	if err := parseUsernameChars(opts.UsernameChars, &s.chars); err != nil {
		return nil, err
	}
	s.penalty = newPenaltyTable(opts.PenaltyInit, opts.PenaltyMax, opts.PenaltyTTL, opts.TrustedNetworks)
	if opts.VerifyCacheTTL > 0 {
		if s.cache, err = newVerifyCache(opts.VerifyCacheTTL, opts.VerifyCacheSize); err != nil {
			return nil, err
		}
	}
	return s, nil
}

// Mechanisms returns the names of the offered mechanisms.
func (s *Server) Mechanisms() []string {
	out := make([]string, len(s.mechs))
	for i, m := range s.mechs {
		out[i] = m.name
	}
	return out
}

// Serve accepts auth-client connections (what Postfix's smtpd_sasl_path
// points at) until Shutdown or Close.
func (s *Server) Serve(l net.Listener) error { return s.serve(l, s.handleClient) }

// ServeUserdb accepts auth-userdb/auth-master connections (USER, PASS, LIST).
func (s *Server) ServeUserdb(l net.Listener) error { return s.serve(l, s.handleMaster) }

func (s *Server) serve(l net.Listener, handle func(net.Conn)) error {
	if !s.track(l, true) {
		return ErrServerClosed
	}
	defer s.track(l, false)
	err := netsrv.Accept(l, s.isClosed, func(c net.Conn) {
		if !s.addConn(c) {
			c.Close()
			return
		}
		s.wg.Add(1)
		go func() {
			defer s.wg.Done()
			defer s.removeConn(c)
			handle(c)
		}()
	})
	if err == nil {
		return ErrServerClosed
	}
	return err
}

func (s *Server) track(l net.Listener, add bool) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if add {
		if s.closed {
			return false
		}
		s.lns[l] = struct{}{}
	} else {
		delete(s.lns, l)
	}
	return true
}

func (s *Server) addConn(c net.Conn) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed || len(s.conns) >= s.opts.MaxConnections {
		return false
	}
	s.conns[c] = struct{}{}
	s.metrics.connections.Inc()
	return true
}

func (s *Server) removeConn(c net.Conn) {
	c.Close()
	s.mu.Lock()
	delete(s.conns, c)
	s.mu.Unlock()
	s.metrics.connections.Dec()
}

func (s *Server) isClosed() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.closed
}

// Shutdown stops accepting, lets requests in flight finish (connections are
// closed once idle), and waits until ctx is done; then it closes the rest.
func (s *Server) Shutdown(ctx context.Context) error {
	s.mu.Lock()
	if !s.closed {
		s.closed = true
		close(s.shutdown)
		for l := range s.lns {
			l.Close()
		}
	}
	s.mu.Unlock()
	done := make(chan struct{})
	go func() { s.wg.Wait(); close(done) }()
	select {
	case <-done:
		return nil
	case <-ctx.Done():
		s.Close()
		<-done
		return ctx.Err()
	}
}

// Close stops at once: listeners and connections are closed.
func (s *Server) Close() error {
	s.mu.Lock()
	if !s.closed {
		s.closed = true
		close(s.shutdown)
	}
	for l := range s.lns {
		l.Close()
	}
	for c := range s.conns {
		c.Close()
	}
	s.mu.Unlock()
	return nil
}

func newCookie() string {
	b := make([]byte, 16)
	rand.Read(b)
	return hex.EncodeToString(b)
}

// parseUsernameChars fills set from auth_username_chars: a plain list of
// allowed bytes, as Dovecot reads it.
func parseUsernameChars(spec string, set *[256]bool) error {
	if spec == "" {
		return errors.New("dovecotauth: empty UsernameChars")
	}
	for i := 0; i < len(spec); i++ {
		set[spec[i]] = true
	}
	return nil
}
