package main

import (
	"errors"
	"net"
	"os"
	"strings"

	"github.com/gomilter/gomilter/internal/config"
	"github.com/gomilter/gomilter/internal/spf"
	"github.com/gomilter/gomilter/policy"
	"github.com/gomilter/gomilter/policy/spfpolicy"
)

func init() {
	registerPiece("policy", pieceBuilder{
		enabled:  func(c *config.Config) bool { return config.On(c.Policy.Enabled) },
		listener: func(c *config.Config) config.Listener { return c.Policy.Listen },
		build:    buildPolicy,
	})
}

func policyHandler(c *config.Config, e *env) (policy.Handler, error) {
	s := c.Policy.SPF
	if !config.On(s.Enabled) {
		return policy.HandlerFunc(func(_ ctxT, _ *policy.Request) (policy.Action, error) { return policy.Dunno, nil }), nil
	}
	receiver := s.Receiver
	if receiver == "" {
		receiver, _ = os.Hostname()
	}
	checker, err := spf.New(spf.Options{Resolver: e.shared.resolver, Receiver: receiver})
	if err != nil {
		return nil, err
	}
	opts := spfpolicy.Options{
		Checker:            checker,
		HeloCheck:          s.HeloCheck,
		CheckAuthenticated: s.CheckAuthenticated,
		WhitelistNetworks:  config.Prefixes(s.WhitelistNetworks),
		WhitelistDomains:   s.WhitelistDomains,
		Logger:             e.logger,
	}
	if s.RejectOn != nil {
		opts.RejectOn = spfCodes(s.RejectOn)
	}
	if s.DeferOn != nil {
		opts.DeferOn = spfCodes(s.DeferOn)
	}
	if s.InternalNetworks != nil {
		opts.InternalNetworks = config.Prefixes(s.InternalNetworks)
	}
	return spfpolicy.New(opts)
}

func spfCodes(in []string) []spf.Code {
	out := make([]spf.Code, len(in))
	for i, s := range in {
		out[i] = spf.Code(strings.ToLower(s))
	}
	return out
}

func buildPolicy(c *config.Config, e *env) (*piece, error) {
	h, err := policyHandler(c, e)
	if err != nil {
		return nil, err
	}
	// Reload swaps the handler for the next request; requests in flight
	// finish with the old one.
	var cur atomicHandler
	cur.Store(h)
	srv, err := policy.NewServer(policy.HandlerFunc(func(ctx ctxT, r *policy.Request) (policy.Action, error) {
		return cur.Load().Check(ctx, r)
	}), policy.Options{Logger: e.logger, Registerer: e.reg})
	if err != nil {
		return nil, err
	}
	return &piece{
		listener: c.Policy.Listen,
		serve: func(l net.Listener) error {
			if err := srv.Serve(l); err != nil && !errors.Is(err, policy.ErrServerClosed) {
				return err
			}
			return nil
		},
		shutdown: srv.Shutdown,
		reload: func(nc *config.Config) error {
			h, err := policyHandler(nc, e)
			if err != nil {
				return err
			}
			cur.Store(h)
			return nil
		},
	}, nil
}
