package main

import (
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/gomilter/gomilter/internal/config"
	"github.com/gomilter/gomilter/internal/mailfilter"
	"github.com/gomilter/gomilter/internal/spf"
	"github.com/gomilter/gomilter/milter/arc"
	"github.com/gomilter/gomilter/milter/dmarc"
)

// authStages returns the SPF, ARC and DMARC checks (in that order, after
// DKIM verification) and the ARC sealer, from the milter config.
func authStages(c *config.Config, e *env) ([]mailfilter.Check, []mailfilter.Signer, error) {
	m := c.Milter
	internal := config.Prefixes(m.InternalNetworks)
	var checks []mailfilter.Check
	var signers []mailfilter.Signer
	if config.On(m.SPF.Enabled) {
		checker, err := spf.New(spf.Options{Resolver: e.shared.resolver, Receiver: m.AuthservID})
		if err != nil {
			return nil, nil, err
		}
		checks = append(checks, &mailfilter.SPF{Checker: checker, Internal: internal})
	}
	if config.On(m.ARC.Enabled) {
		checks = append(checks, &mailfilter.ARC{Resolver: e.shared.resolver, Internal: internal})
	}
	if config.On(m.DMARC.Enabled) {
		d, err := buildDMARC(c, e)
		if err != nil {
			return nil, nil, err
		}
		checks = append(checks, &mailfilter.DMARC{Checker: d, Internal: internal})
	}
	if seal := m.ARC.Seal; seal.Domain != "" {
		data, err := os.ReadFile(seal.KeyFile)
		if err != nil {
			return nil, nil, fmt.Errorf("milter.arc.seal.key_file: %w", err)
		}
		key, err := arc.ParsePrivateKey(data)
		if err != nil {
			return nil, nil, fmt.Errorf("milter.arc.seal.key_file: %w", err)
		}
		signers = append(signers, &mailfilter.ARCSeal{AuthservID: m.AuthservID,
			Sealer: &arc.Sealer{Domain: seal.Domain, Selector: seal.Selector, Key: key}})
	}
	return checks, signers, nil
}

func buildDMARC(c *config.Config, e *env) (*dmarc.Checker, error) {
	d := c.Milter.DMARC
	metrics, err := dmarc.NewMetrics(replacingRegisterer{e.reg})
	if err != nil {
		return nil, err
	}
	ch := &dmarc.Checker{
		Resolver: e.shared.resolver,
		Config:   dmarc.Config{Legacy: d.Mode == "rfc7489"},
		Options: dmarc.Options{ReportOnly: d.ReportOnly, RejectAsQuarantine: d.RejectAsQuarantine,
			NeverReject: d.NeverReject, TrustedSealers: d.TrustedARCSealers,
			TrustedForwarders: config.Prefixes(d.TrustedForwarders)},
		Metrics: metrics,
		Logger:  e.logger,
	}
	if d.Reports {
		st, err := e.shared.dmarcStore(c.StateDir)
		if err != nil {
			return nil, err
		}
		ch.Store = st
	}
	return ch, nil
}

// dmarcStore opens the report store once per process: bbolt locks its
// file, so a reload must reuse the open store rather than open it again.
func (d *sharedDeps) dmarcStore(stateDir string) (*dmarc.BoltStore, error) {
	d.dmarcOnce.Do(func() {
		if err := os.MkdirAll(stateDir, 0o750); err != nil {
			d.dmarcErr = err
			return
		}
		d.dmarc, d.dmarcErr = dmarc.OpenBolt(filepath.Join(stateDir, "dmarc.db"), 5*time.Second)
	})
	return d.dmarc, d.dmarcErr
}

type dmarcDeps struct {
	dmarcOnce sync.Once
	dmarc     *dmarc.BoltStore
	dmarcErr  error
}
