package main

import (
	"errors"
	"net"

	"github.com/gomilter/gomilter/internal/config"
	"github.com/gomilter/gomilter/internal/mailfilter"
	"github.com/gomilter/gomilter/milter"
)

func init() {
	registerPiece("milter", pieceBuilder{
		enabled:  func(c *config.Config) bool { return config.On(c.Milter.Enabled) },
		listener: func(c *config.Config) config.Listener { return c.Milter.Listen },
		build:    buildMilter,
	})
}

// milterOptions turns the config into the filter's options; reload calls
// it again and swaps the result in for new connections.
// Order matters: verification first, signing last (after every header
// the checks add), so signatures cover the message as it leaves.
func milterOptions(c *config.Config, e *env) (mailfilter.Options, error) {
	o := mailfilter.Options{
		AuthservID:     c.Milter.AuthservID,
		MaxMessageSize: c.Milter.MaxMessageSize,
		Logger:         e.logger,
	}
	d, err := buildDKIM(c, e)
	if err != nil {
		return o, err
	}
	if d != nil {
		o.Checks = append(o.Checks, d)
	}
	checks, signers, err := authStages(c, e)
	if err != nil {
		return o, err
	}
	o.Checks = append(o.Checks, checks...)
	sp, err := buildSpam(c, e)
	if err != nil {
		return o, err
	}
	if sp != nil {
		o.Checks = append(o.Checks, sp)
	}
	// DKIM signs before the ARC seal, which covers the DKIM-Signature.
	if d != nil {
		o.Signers = append(o.Signers, d)
	}
	o.Signers = append(o.Signers, signers...)
	return o, nil
}

func buildMilter(c *config.Config, e *env) (*piece, error) {
	opts, err := milterOptions(c, e)
	if err != nil {
		return nil, err
	}
	f, err := mailfilter.New(opts)
	if err != nil {
		return nil, err
	}
	srv, err := milter.NewServer(f.NewMilter, milter.Options{Logger: e.logger, Registerer: e.reg})
	if err != nil {
		return nil, err
	}
	return &piece{
		listener: c.Milter.Listen,
		serve: func(l net.Listener) error {
			if err := srv.Serve(l); !errors.Is(err, milter.ErrServerClosed) {
				return err
			}
			return nil
		},
		shutdown: srv.Shutdown,
		reload: func(nc *config.Config) error {
			o, err := milterOptions(nc, e)
			if err != nil {
				return err
			}
			return f.Update(o)
		},
	}, nil
}
