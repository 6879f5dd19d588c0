package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"os/signal"
	"strings"
	"syscall"

	"github.com/gomilter/gomilter/internal/config"
	"github.com/gomilter/gomilter/internal/dns"
	"github.com/gomilter/gomilter/internal/listen"
	"github.com/gomilter/gomilter/milter"
	"github.com/gomilter/gomilter/milter/dkim"
)

// runDKIMMilter serves a DKIM-only milter from an opendkim.conf: a
// stand-in for OpenDKIM alone (migration tests, contrib/bench/dkim.sh).
// The full pipeline (SPF, DMARC, ARC, spam) is "gomilter serve".
func runDKIMMilter(args []string, _, stderr io.Writer) int {
	fs := flag.NewFlagSet("dkim milter", flag.ContinueOnError)
	fs.SetOutput(stderr)
	conf := fs.String("conf", "/etc/opendkim.conf", "opendkim.conf")
	addr := fs.String("listen", "", "unix:/path or inet:host:port (default: the conf's Socket)")
	authID := fs.String("authserv-id", "", "authserv-id for Authentication-Results (default: AuthservID or host name)")
	dnsServer := fs.String("dns", "", "DNS server host:port (default: /etc/resolv.conf)")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	log := slog.New(slog.NewTextHandler(stderr, nil))
	signer, newFilter, sock, err := dkimMilterSetup(*conf, *addr, *authID, *dnsServer, log)
	if err != nil {
		fmt.Fprintln(stderr, "gomilter dkim milter:", err)
		return 1
	}
	srv, err := milter.NewServer(newFilter, milter.Options{Logger: log})
	if err == nil {
		var l net.Listener
		if l, err = listen.Open(sock); err == nil {
			go dkimSignals(srv, signer, log)
			err = srv.Serve(l)
		}
	}
	if err != nil && !errors.Is(err, milter.ErrServerClosed) {
		fmt.Fprintln(stderr, "gomilter dkim milter:", err)
		return 1
	}
	return 0
}

// dkimSignals reloads keys on SIGHUP and drains on SIGTERM/SIGINT.
func dkimSignals(srv *milter.Server, signer *dkim.Signer, log *slog.Logger) {
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, syscall.SIGHUP, syscall.SIGTERM, syscall.SIGINT)
	for s := range sig {
		if s == syscall.SIGHUP {
			if err := signer.Reload(); err != nil {
				log.Error("dkim: reload", "err", err)
			}
			continue
		}
		srv.Shutdown(context.Background())
		return
	}
}

func dkimMilterSetup(conf, addr, authID, dnsServer string, log *slog.Logger) (*dkim.Signer, func(context.Context) milter.Milter, config.Listener, error) {
	opts, warns, err := dkim.LoadOpenDKIMConf(conf)
	if err != nil {
		return nil, nil, config.Listener{}, err
	}
	for _, w := range warns {
		log.Warn(w)
	}
	var dopts dns.Options
	if dnsServer != "" {
		dopts.Servers = []string{dnsServer}
	}
	r, err := dns.New(dopts)
	if err == nil {
		opts.Resolver, err = opts.TXTResolver(r)
	}
	if err != nil {
		return nil, nil, config.Listener{}, err
	}
	opts.Logger = log
	signer, err := dkim.NewSigner(opts)
	if err != nil {
		return nil, nil, config.Listener{}, err
	}
	verifier := dkim.NewVerifier(opts.Resolver, opts.VerifyOptions(signer.Metrics()))
	authID = firstNonEmpty(authID, opts.AuthservID)
	if authID == "" {
		authID, _ = os.Hostname()
	}
	sock, err := config.ParseListener(firstNonEmpty(addr, openDKIMSocket(opts.Socket)))
	newFilter := func(context.Context) milter.Milter {
		return &dkimFilter{signer: signer, verifier: verifier, opts: opts, authID: authID}
	}
	return signer, newFilter, sock, err
}

// openDKIMSocket turns OpenDKIM's "local:/path" or "inet:port@host" into
// our "unix:/path" or "inet:host:port".
func openDKIMSocket(s string) string {
	if p, ok := strings.CutPrefix(s, "local:"); ok {
		return "unix:" + p
	}
	if rest, ok := strings.CutPrefix(s, "inet:"); ok {
		if port, host, found := strings.Cut(rest, "@"); found {
			return "inet:" + net.JoinHostPort(host, port)
		}
		return "inet:" + net.JoinHostPort("127.0.0.1", rest)
	}
	return s
}

func firstNonEmpty(a, b string) string {
	if a != "" {
		return a
	}
	return b
}
