package main

import (
	"fmt"

	"github.com/gomilter/gomilter/internal/config"
	"github.com/gomilter/gomilter/internal/mailfilter"
	"github.com/gomilter/gomilter/milter/dkim"
)

// buildDKIM reads opendkim.conf (or uses OpenDKIM's defaults, verify
// only) and returns the pipeline stage. Unsupported directives are logged
// once each by name.
func buildDKIM(c *config.Config, e *env) (*mailfilter.DKIM, error) {
	dc := c.Milter.DKIM
	if !config.On(dc.Enabled) {
		return nil, nil
	}
	opts := dkim.DefaultOptions()
	opts.Mode = dkim.ModeVerify
	if dc.OpenDKIMConf != "" {
		o, warnings, err := dkim.LoadOpenDKIMConf(dc.OpenDKIMConf)
		if err != nil {
			return nil, fmt.Errorf("milter.dkim.opendkim_conf: %w", err)
		}
		for _, w := range warnings {
			e.logger.Warn("opendkim.conf", "file", dc.OpenDKIMConf, "warning", w)
		}
		opts = o
	}
	if opts.AuthservID == "" {
		opts.AuthservID = c.Milter.AuthservID
	}
	opts.Resolver = e.shared.resolver
	if opts.TestPublicKeys != "" {
		// OpenDKIM's documented testing hook: keys from a file, not DNS.
		r, err := dkim.LoadTestPublicKeys(opts.TestPublicKeys)
		if err != nil {
			return nil, fmt.Errorf("TestPublicKeys: %w", err)
		}
		opts.Resolver = r
	}
	opts.Logger = e.logger
	opts.Registerer = replacingRegisterer{e.reg}
	d := &mailfilter.DKIM{Opts: opts}
	var metrics *dkim.Metrics
	if opts.Mode&dkim.ModeSign != 0 {
		s, err := dkim.NewSigner(opts)
		if err != nil {
			return nil, err
		}
		d.Signer, metrics = s, s.Metrics()
	} else if m, err := dkim.NewMetrics(opts.Registerer); err == nil {
		metrics = m
	}
	if opts.Mode&dkim.ModeVerify != 0 {
		d.Verifier = dkim.NewVerifier(opts.Resolver, opts.VerifyOptions(metrics))
	}
	return d, nil
}
