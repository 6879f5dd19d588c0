package main

import (
	"context"
	"errors"
	"log/slog"
	"net"
	"net/netip"
	"sync/atomic"
	"time"

	"github.com/gomilter/gomilter/internal/config"
	"github.com/gomilter/gomilter/milter/spam"
	"github.com/gomilter/gomilter/milter/spamd"
	"github.com/prometheus/client_golang/prometheus"
)

func init() {
	registerPiece("spamd", pieceBuilder{
		enabled:  func(c *config.Config) bool { return c.Spamd.Enabled },
		listener: func(c *config.Config) config.Listener { return c.Spamd.Listen },
		build:    buildSpamd,
	})
}

// spamdState is what a reload swaps in; each request reads it once, so a
// request in flight finishes with the engine it started with.
type spamdState struct {
	eng       *spam.Engine
	allowTell bool
	allowed   []netip.Prefix
	limits    spamdLimits
}

// spamdLimits are fixed when the server is built; changing them needs a
// restart, as changing the listener does.
type spamdLimits struct {
	maxSize, maxConns int
	timeout           time.Duration
}

// spamdBackend is the Scorer and Learner of the spamd piece over the
// engine that milter.spam configures, shared through sharedDeps so the
// milter and spamd never load the rules (or open the Bayes database)
// twice.
type spamdBackend struct {
	cur atomic.Pointer[spamdState]
}

func newSpamdState(c *config.Config, e *env) (*spamdState, error) {
	eng, err := e.shared.spamEngine(c, e)
	if err != nil {
		return nil, err
	}
	s := c.Spamd
	return &spamdState{eng: eng, allowTell: s.AllowTell, allowed: config.Prefixes(s.AllowedNetworks),
		limits: spamdLimits{s.MaxMessageSize, s.MaxConnections, s.Timeout}}, nil
}

func (b *spamdBackend) Score(ctx context.Context, raw []byte, user string) (spamd.Verdict, error) {
	return engineScorer{b.cur.Load().eng}.Score(ctx, raw, user)
}

// Learn and Forget check allow_tell per request (the server itself always
// accepts TELL), so a reload can turn it on or off.
func (b *spamdBackend) Learn(ctx context.Context, raw []byte, user string, isSpam bool) (bool, error) {
	st := b.cur.Load()
	if !st.allowTell {
		return false, errTellOff
	}
	return engineLearner{st.eng}.Learn(ctx, raw, user, isSpam)
}

func (b *spamdBackend) Forget(ctx context.Context, raw []byte, user string) (bool, error) {
	st := b.cur.Load()
	if !st.allowTell {
		return false, errTellOff
	}
	return engineLearner{st.eng}.Forget(ctx, raw, user)
}

// errTellOff is spamd's own answer without --allow-tell.
var errTellOff = &spamd.Error{Code: spamd.ExUnavailable, Text: "TELL commands are not enabled"}

func buildSpamd(c *config.Config, e *env) (*piece, error) {
	st, err := newSpamdState(c, e)
	if err != nil {
		return nil, err
	}
	b := &spamdBackend{}
	b.cur.Store(st)
	s := c.Spamd
	srv, err := spamd.NewServer(b, spamd.Options{
		Limits:      spamd.Limits{MaxMessageSize: s.MaxMessageSize},
		ReadTimeout: s.Timeout, WriteTimeout: s.Timeout, MaxConnections: s.MaxConnections,
		AllowTell: true, Learner: b, Logger: e.logger, Registerer: e.reg,
	})
	if err != nil {
		return nil, err
	}
	denied := prometheus.NewCounter(prometheus.CounterOpts{
		Name: "gomilter_spamd_denied_connections_total",
		Help: "TCP connections closed at once because the client is not in spamd.allowed_networks.",
	})
	if err := e.reg.Register(denied); err != nil {
		return nil, err
	}
	return &piece{
		listener: s.Listen,
		serve: func(l net.Listener) error {
			al := &allowListener{Listener: l, backend: b, denied: denied, log: e.logger}
			if err := srv.Serve(al); !errors.Is(err, spamd.ErrServerClosed) {
				return err
			}
			return nil
		},
		shutdown: srv.Shutdown,
		reload: func(nc *config.Config) error {
			ns, err := newSpamdState(nc, e)
			if err != nil {
				return err
			}
			if ns.limits != st.limits {
				e.logger.Warn("spamd: max_message_size, max_connections and timeout changes need a restart; keeping the old ones")
			}
			b.cur.Store(ns)
			return nil
		},
	}, nil
}

// allowListener disconnects TCP clients outside spamd.allowed_networks
// before the protocol server sees them, as spamd's --allowed-ips does.
// Unix-socket clients pass: the socket's mode decides who may connect.
type allowListener struct {
	net.Listener
	backend *spamdBackend
	denied  prometheus.Counter
	log     *slog.Logger
}

func (l *allowListener) Accept() (net.Conn, error) {
	for {
		c, err := l.Listener.Accept()
		if err != nil {
			return nil, err
		}
		if allowedPeer(c.RemoteAddr(), l.backend.cur.Load().allowed) {
			return c, nil
		}
		l.denied.Inc()
		l.log.Warn("spamd: connection refused: client not in spamd.allowed_networks", "remote", c.RemoteAddr().String())
		c.Close()
	}
}

func allowedPeer(a net.Addr, allowed []netip.Prefix) bool {
	ta, ok := a.(*net.TCPAddr)
	if !ok {
		return true
	}
	ip, ok := netip.AddrFromSlice(ta.IP)
	if !ok {
		return false
	}
	ip = ip.Unmap()
	for _, p := range allowed {
		if p.Contains(ip) {
			return true
		}
	}
	return false
}
