package lmtp

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"sync"
	"sync/atomic"
	"time"

	"github.com/emersion/go-smtp"
	"github.com/gomilter/gomilter/lmtp/maildir"
	"github.com/prometheus/client_golang/prometheus"
)

// ErrServerClosed is returned by Serve after Shutdown or Close.
var ErrServerClosed = errors.New("lmtp: server closed")

// Options configure a Server. Zero values take the defaults named.
type Options struct {
	// Hostname is used in the greeting and the Received header
	// (default: os.Hostname).
	Hostname string
	// RecipientDelimiter separates user and detail (Dovecot
	// recipient_delimiter); each character is one; default "+".
	RecipientDelimiter string
	// MaxMessageBytes bounds DATA (default 64 MiB); larger: 552 5.3.4.
	MaxMessageBytes int64
	// MaxRecipients bounds RCPTs per transaction (default 1000;
	// Postfix sends at most lmtp_destination_recipient_limit = 50).
	MaxRecipients int
	// MaxLineLength bounds command and data lines (default 16384;
	// Postfix folds at 998).
	MaxLineLength int
	// ReadTimeout and WriteTimeout bound each read (a command, or the
	// whole DATA) and write; default 5 minutes, as Dovecot's LMTP.
	ReadTimeout, WriteTimeout time.Duration
	// LookupTimeout bounds one user lookup (default 30s).
	LookupTimeout time.Duration
	// DeliveryTimeout bounds one recipient's delivery incl. Sieve (default 2 min).
	DeliveryTimeout time.Duration
	// QuotaFullTempfail answers over-quota with 452 4.2.2 instead of
	// 552 5.2.2 (Dovecot quota_full_tempfail).
	QuotaFullTempfail bool
	// MailboxAutocreate creates a missing folder a Sieve fileinto names
	// (Dovecot lda_mailbox_autocreate); otherwise the message goes to INBOX.
	MailboxAutocreate bool
	// SaveToDetailMailbox files user+Folder@domain into Folder when it
	// exists and no Sieve action chose a place (Dovecot's
	// lmtp_save_to_detail_mailbox).
	SaveToDetailMailbox bool
	// NoReceived leaves out the Received header Dovecot LMTP adds.
	NoReceived bool
	// Sieve runs users' scripts; nil delivers everything to INBOX.
	Sieve *SieveOptions
	// Relay sends redirects, vacation replies and notifications; nil
	// turns redirect into keep (logged) and vacation off.
	Relay Relay
	// Responses remembers vacation replies and duplicate-test IDs
	// (a Store from OpenStore); nil = in memory.
	Responses ResponseStore
	// Logger gets one line per recipient; nil discards.
	Logger *slog.Logger
	// Registerer gets the gomilter_lmtp_* metrics; nil = none.
	Registerer prometheus.Registerer
	// Trace, if set, gets the protocol exchange (no credentials flow
	// over LMTP, but message data does: debugging only).
	Trace io.Writer
}

func (o *Options) setDefaults() {
	if o.Hostname == "" {
		o.Hostname, _ = os.Hostname()
		if o.Hostname == "" {
			o.Hostname = "localhost"
		}
	}
	if o.RecipientDelimiter == "" {
		o.RecipientDelimiter = "+"
	}
	def := func(p *time.Duration, v time.Duration) {
		if *p <= 0 {
			*p = v
		}
	}
	def(&o.ReadTimeout, 5*time.Minute)
	def(&o.WriteTimeout, 5*time.Minute)
	def(&o.LookupTimeout, 30*time.Second)
	def(&o.DeliveryTimeout, 2*time.Minute)
	if o.MaxMessageBytes <= 0 {
		o.MaxMessageBytes = 64 << 20
	}
	if o.MaxRecipients <= 0 {
		o.MaxRecipients = 1000
	}
	if o.MaxLineLength <= 0 {
		o.MaxLineLength = 16384
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if o.Responses == nil {
		o.Responses = NewMemoryStore()
	}
}

// Server is an LMTP server delivering to Maildirs.
type Server struct {
	opts    Options
	backend atomic.Pointer[backendBox]
	smtp    *smtp.Server
	metrics *metrics
	quota   maildir.QuotaCache
	scripts *scriptCache
	ctx     context.Context
	cancel  context.CancelFunc
	ids     atomic.Uint64
	closing atomic.Bool
}

type backendBox struct{ b Backend }

// NewServer returns a server looking recipients up in be.
func NewServer(be Backend, opts Options) (*Server, error) {
	if be == nil {
		return nil, errors.New("lmtp: nil backend")
	}
	opts.setDefaults()
	m, err := newMetrics(opts.Registerer)
	if err != nil {
		return nil, err
	}
	s := &Server{opts: opts, metrics: m, scripts: newScriptCache()}
	s.ctx, s.cancel = context.WithCancel(context.Background())
	s.SetBackend(be)
	srv := smtp.NewServer(smtp.BackendFunc(s.newSession))
	srv.LMTP = true
	srv.Domain = opts.Hostname
	srv.MaxMessageBytes = opts.MaxMessageBytes
	srv.MaxRecipients = opts.MaxRecipients
	srv.MaxLineLength = opts.MaxLineLength
	srv.ReadTimeout, srv.WriteTimeout = opts.ReadTimeout, opts.WriteTimeout
	srv.EnableSMTPUTF8 = true
	srv.Debug = opts.Trace
	srv.ErrorLog = slogPrinter{opts.Logger}
	s.smtp = srv
	return s, nil
}

// SetBackend swaps the user lookup (config reload); sessions already in
// a transaction finish with the lookups they made.
func (s *Server) SetBackend(be Backend) { s.backend.Store(&backendBox{be}) }

// Serve accepts connections on l until Shutdown or Close.
func (s *Server) Serve(l net.Listener) error {
	if s.closing.Load() {
		return ErrServerClosed
	}
	err := s.smtp.Serve(&countingListener{Listener: l, m: s.metrics})
	if s.closing.Load() || err == nil || errors.Is(err, net.ErrClosed) {
		return ErrServerClosed
	}
	return err
}

// Shutdown stops accepting and waits for open connections to end
// (Postfix closes cached ones after a few seconds); when ctx expires the
// rest are closed and their deliveries cancelled.
func (s *Server) Shutdown(ctx context.Context) error {
	s.closing.Store(true)
	err := s.smtp.Shutdown(ctx)
	if err != nil && !errors.Is(err, smtp.ErrServerClosed) {
		s.cancel()
		s.smtp.Close()
		return err
	}
	s.cancel()
	return nil
}

// Close stops everything at once.
func (s *Server) Close() error {
	s.closing.Store(true)
	s.cancel()
	if err := s.smtp.Close(); err != nil && !errors.Is(err, smtp.ErrServerClosed) {
		return err
	}
	return nil
}

// nextID returns a session id like Dovecot's (printable, unique).
func (s *Server) nextID() string {
	return fmt.Sprintf("%x%04x", time.Now().UnixNano()/1e6, s.ids.Add(1)&0xffff)
}

// slogPrinter receives go-smtp's internal error reports (panics, accept
// errors) as log lines.
type slogPrinter struct{ l *slog.Logger }

func (p slogPrinter) Printf(format string, v ...any) {
	p.l.Error("lmtp server", "msg", fmt.Sprintf(format, v...))
}

func (p slogPrinter) Println(v ...any) { p.l.Error("lmtp server", "msg", fmt.Sprint(v...)) }

// countingListener counts connections for the metrics.
type countingListener struct {
	net.Listener
	m *metrics
}

func (l *countingListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err != nil {
		return nil, err
	}
	l.m.connections.Inc()
	l.m.active.Inc()
	return &countedConn{Conn: c, m: l.m}, nil
}

type countedConn struct {
	net.Conn
	m    *metrics
	once sync.Once
}

func (c *countedConn) Close() error {
	c.once.Do(func() { c.m.active.Dec() })
	return c.Conn.Close()
}
