package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"sync/atomic"

	"github.com/gomilter/gomilter/dovecotauth"
	"github.com/gomilter/gomilter/internal/config"
	"github.com/gomilter/gomilter/internal/userdb"
)

func init() {
	registerPiece("auth", pieceBuilder{
		enabled:  func(c *config.Config) bool { return config.On(c.Auth.Enabled) },
		listener: func(c *config.Config) config.Listener { return c.Auth.Listen },
		build:    buildAuth,
	})
}

// passStore is the credential store in force; reload swaps it so the next
// request uses the new file or database while requests in flight finish.
type passStore struct {
	cur atomic.Pointer[storeHandle]
}

type storeHandle struct {
	db     userdb.PassDB
	closer io.Closer
}

func (p *passStore) Lookup(ctx context.Context, user string, req userdb.RequestInfo) (userdb.Credentials, error) {
	return p.cur.Load().db.Lookup(ctx, user, req)
}

func (p *passStore) LookupUser(ctx context.Context, user string, req userdb.RequestInfo) (userdb.User, error) {
	u, ok := p.cur.Load().db.(userdb.UserDB)
	if !ok {
		return userdb.User{}, userdb.ErrNotFound
	}
	return u.LookupUser(ctx, user, req)
}

func (p *passStore) Iterate(ctx context.Context, fn func(string) error) error {
	it, ok := p.cur.Load().db.(userdb.Iterator)
	if !ok {
		return errors.New("auth: this credential store cannot list users")
	}
	return it.Iterate(ctx, fn)
}

// Schemes lets the server offer CRAM-MD5/SCRAM only when every stored
// password can serve them; a store that cannot tell lists none.
func (p *passStore) Schemes() []string {
	if sl, ok := p.cur.Load().db.(userdb.SchemeLister); ok {
		return sl.Schemes()
	}
	return nil
}

func (p *passStore) swap(h *storeHandle) {
	if old := p.cur.Swap(h); old != nil && old.closer != nil {
		old.closer.Close()
	}
}

// emptyStore answers "no such user" for everyone: the default passwd-file
// does not exist yet on a fresh machine, and serve must still start.
type emptyStore struct{}

func (emptyStore) Lookup(context.Context, string, userdb.RequestInfo) (userdb.Credentials, error) {
	return userdb.Credentials{}, userdb.ErrNotFound
}

func openStore(c *config.Config, e *env) (*storeHandle, error) {
	a := c.Auth
	if a.SQLConf != "" {
		conf, err := userdb.LoadSQLConfig(a.SQLConf)
		if err != nil {
			return nil, err
		}
		db, err := userdb.OpenSQL(conf, userdb.SQLOptions{Logger: e.logger})
		if err != nil {
			return nil, err
		}
		var store userdb.PassDB = db
		if a.CacheTTL > 0 {
			store = userdb.NewCache(db, userdb.CacheOptions{TTL: a.CacheTTL})
		}
		return &storeHandle{db: store, closer: db}, nil
	}
	pf, err := userdb.OpenPasswdFile(a.PasswdFile, a.DefaultPassScheme)
	if errors.Is(err, os.ErrNotExist) {
		e.logger.Warn("passwd_file does not exist: every login fails until it is created and gomilter gets SIGHUP", "file", a.PasswdFile)
		return &storeHandle{db: emptyStore{}}, nil
	}
	if err != nil {
		return nil, fmt.Errorf("passwd_file: %w", err)
	}
	return &storeHandle{db: pf}, nil
}

func buildAuth(c *config.Config, e *env) (*piece, error) {
	h, err := openStore(c, e)
	if err != nil {
		return nil, err
	}
	store := &passStore{}
	store.swap(h)
	a := c.Auth
	srv, err := dovecotauth.NewServer(store, dovecotauth.Options{
		Mechanisms:      a.Mechanisms,
		FailureDelay:    a.FailureDelay,
		VerifyCacheTTL:  a.VerifyCacheTTL,
		TrustedNetworks: config.Prefixes(a.TrustedNetworks),
		Logger:          e.logger,
		Registerer:      e.reg,
	})
	if err != nil {
		return nil, err
	}
	closed := func(err error) error {
		if errors.Is(err, dovecotauth.ErrServerClosed) {
			return nil
		}
		return err
	}
	p := &piece{
		listener: a.Listen,
		serve:    func(l net.Listener) error { return closed(srv.Serve(l)) },
		shutdown: func(ctx context.Context) error {
			err := srv.Shutdown(ctx)
			store.swap(&storeHandle{db: emptyStore{}})
			return err
		},
		reload: func(nc *config.Config) error {
			h, err := openStore(nc, e)
			if err != nil {
				return err
			}
			store.swap(h)
			return nil
		},
	}
	if !a.UserdbListen.IsZero() {
		p.extra = append(p.extra, extraListener{a.UserdbListen, func(l net.Listener) error { return closed(srv.ServeUserdb(l)) }})
	}
	return p, nil
}
