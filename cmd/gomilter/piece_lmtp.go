package main

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strings"

	"github.com/gomilter/gomilter/internal/config"
	"github.com/gomilter/gomilter/internal/userdb"
	"github.com/gomilter/gomilter/lmtp"
)

func init() {
	registerPiece("lmtp", pieceBuilder{
		enabled:  func(c *config.Config) bool { return c.LMTP.Enabled },
		listener: func(c *config.Config) config.Listener { return c.LMTP.Listen },
		build:    buildLMTP,
	})
}

// lmtpBackend opens the user source: the lmtp section's passwd_file or
// sql_conf, else the auth section's, through the auth piece's openStore.
func lmtpBackend(c *config.Config, e *env) (lmtp.Backend, func(), error) {
	cc := *c
	if c.LMTP.PasswdFile != "" || c.LMTP.SQLConf != "" {
		cc.Auth.PasswdFile, cc.Auth.SQLConf = c.LMTP.PasswdFile, c.LMTP.SQLConf
	}
	h, err := openStore(&cc, e)
	if err != nil {
		return nil, nil, err
	}
	closer := func() {
		if h.closer != nil {
			h.closer.Close()
		}
	}
	udb, ok := h.db.(userdb.UserDB)
	if !ok {
		// No user list yet (missing passwd-file): defer mail, never bounce.
		return lmtp.BackendFunc(func(context.Context, string) (lmtp.User, error) {
			return lmtp.User{}, errors.New("no user database")
		}), closer, nil
	}
	return &lmtp.UserDB{DB: udb, MailLocation: c.LMTP.MailLocation}, closer, nil
}

func lmtpOptions(c *config.Config, e *env, store lmtp.ResponseStore) (lmtp.Options, error) {
	l := c.LMTP
	o := lmtp.Options{
		Hostname: l.Hostname, RecipientDelimiter: l.RecipientDelimiter, MaxMessageBytes: l.MaxMessageSize,
		MaxRecipients: l.MaxRecipients, ReadTimeout: l.Timeout, WriteTimeout: l.Timeout,
		QuotaFullTempfail: l.QuotaFullTempfail, MailboxAutocreate: l.MailboxAutocreate,
		SaveToDetailMailbox: l.SaveToDetailMailbox,
		Responses:           store, Logger: e.logger, Registerer: e.reg,
	}
	switch r := l.Relay; {
	case strings.HasPrefix(r, "sendmail:"):
		o.Relay = &lmtp.SendmailRelay{Path: strings.TrimPrefix(r, "sendmail:")}
	case r != "":
		ln, err := config.ParseListener(r)
		if err != nil {
			return o, err
		}
		o.Relay = &lmtp.SMTPRelay{Network: ln.Network, Addr: ln.Address, Helo: l.Hostname}
	}
	if config.On(l.Sieve.Enabled) {
		so := &lmtp.SieveOptions{Script: l.Sieve.Script, Default: l.Sieve.Default, Before: l.Sieve.Before,
			After: l.Sieve.After, GlobalDir: l.Sieve.GlobalDir}
		for _, kv := range l.Sieve.Settings {
			k, v, _ := strings.Cut(kv, "=")
			if err := so.Options.Set(strings.TrimSpace(k), strings.TrimSpace(v)); err != nil {
				return o, fmt.Errorf("lmtp.sieve.settings: %w", err)
			}
		}
		o.Sieve = so
	}
	return o, nil
}

func buildLMTP(c *config.Config, e *env) (*piece, error) {
	if err := os.MkdirAll(c.StateDir, 0o750); err != nil {
		return nil, err
	}
	store, err := lmtp.OpenStore(filepath.Join(c.StateDir, "lmtp.db"))
	if err != nil {
		return nil, err
	}
	opts, err := lmtpOptions(c, e, store)
	if err != nil {
		store.Close()
		return nil, err
	}
	be, closeBE, err := lmtpBackend(c, e)
	if err != nil {
		store.Close()
		return nil, err
	}
	srv, err := lmtp.NewServer(be, opts)
	if err != nil {
		closeBE()
		store.Close()
		return nil, err
	}
	cur := &closeBE
	return &piece{
		listener: c.LMTP.Listen,
		serve: func(l net.Listener) error {
			if err := srv.Serve(l); !errors.Is(err, lmtp.ErrServerClosed) {
				return err
			}
			return nil
		},
		shutdown: func(ctx context.Context) error {
			err := srv.Shutdown(ctx)
			(*cur)()
			store.Close()
			return err
		},
		// Reload swaps the user source; listener and Sieve settings stay
		// until restart.
		reload: func(nc *config.Config) error {
			be, closeNew, err := lmtpBackend(nc, e)
			if err != nil {
				return err
			}
			srv.SetBackend(be)
			old := *cur
			*cur = closeNew
			old()
			return nil
		},
	}, nil
}
