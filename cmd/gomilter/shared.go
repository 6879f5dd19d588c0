package main

import (
	"errors"

	"github.com/gomilter/gomilter/internal/config"
	"github.com/gomilter/gomilter/internal/dns"
	"github.com/prometheus/client_golang/prometheus"
)

// sharedDeps are built once per process and handed to every piece: one DNS
// resolver (and its cache) for the milter, the policy daemon and the tools.
type sharedDeps struct {
	resolver *dns.Resolver
	dmarcDeps
	spamDeps
}

func newSharedDeps(cfg *config.Config, reg prometheus.Registerer) (*sharedDeps, error) {
	r, err := newResolver(cfg, reg)
	if err != nil {
		return nil, err
	}
	return &sharedDeps{resolver: r}, nil
}

func newResolver(cfg *config.Config, reg prometheus.Registerer) (*dns.Resolver, error) {
	opts := dns.Options{
		Servers:    cfg.DNS.Servers,
		Timeout:    cfg.DNS.Timeout,
		CacheSize:  cfg.DNS.CacheSize,
		Registerer: reg,
	}
	r, err := dns.New(opts)
	if errors.Is(err, dns.ErrNoServers) {
		// No nameserver line in resolv.conf: like glibc, ask the local host.
		opts.Servers = []string{"127.0.0.1:53"}
		r, err = dns.New(opts)
	}
	return r, err
}

// Close releases what newSharedDeps opened.
func (d *sharedDeps) Close() {
	if d.dmarc != nil {
		d.dmarc.Close()
	}
	if d.spam != nil {
		d.spam.Close()
	}
}
