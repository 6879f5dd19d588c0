package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/gomilter/gomilter/internal/config"
	"github.com/gomilter/gomilter/internal/mailfilter"
	"github.com/gomilter/gomilter/milter/spam"
)

// buildSpam loads SpamAssassin's rules and reports, once, how many are
// active and which eval functions are not implemented. A reload with the
// same spam settings keeps the loaded engine (and its Bayes database,
// which bbolt locks, so it must not be opened twice).
func buildSpam(c *config.Config, e *env) (*mailfilter.Spam, error) {
	sc := c.Milter.Spam
	if !sc.Enabled {
		return nil, nil
	}
	eng, err := e.shared.spamEngine(c, e)
	if err != nil {
		return nil, err
	}
	return &mailfilter.Spam{Engine: eng, RejectScore: sc.RejectScore, QuarantineScore: sc.QuarantineScore,
		CheckAuthenticated: sc.CheckAuthenticated, Internal: config.Prefixes(c.Milter.InternalNetworks)}, nil
}

// spamEngine returns the engine for c's rule settings, loading it only
// when they changed; the previous engine is closed after the swap.
func (d *sharedDeps) spamEngine(c *config.Config, e *env) (*spam.Engine, error) {
	sc := c.Milter.Spam
	key := spamKey{strings.Join(sc.RuleDirs, "\x00"), sc.SiteDir, sc.LocalCF, sc.TimeLimit, sc.BayesPath, c.Milter.AuthservID,
		sc.NetworkTests, ruleFilesStamp(sc.RuleDirs, sc.SiteDir, sc.LocalCF)}
	d.spamMu.Lock()
	defer d.spamMu.Unlock()
	if d.spam != nil && d.spamKey == key {
		return d.spam, nil
	}
	if d.spam != nil && sc.BayesPath != "" {
		d.spam.Close() // release the Bayes database lock before reopening it
		d.spam = nil
	}
	opts := spam.Options{RuleDirs: sc.RuleDirs, SiteDir: sc.SiteDir, LocalCF: sc.LocalCF,
		Hostname: c.Milter.AuthservID, TimeLimit: sc.TimeLimit, BayesPath: sc.BayesPath,
		Registerer: replacingRegisterer{e.reg}, Logger: e.logger}
	if sc.NetworkTests {
		opts.Resolver = d.resolver // the shared cache: blocklist answers are reused across messages
	}
	eng, warnings, err := spam.Load(opts)
	if err != nil {
		return nil, fmt.Errorf("milter.spam: %w", err)
	}
	for _, w := range warnings {
		e.logger.Warn("spamassassin rules", "warning", w)
	}
	e.logger.Info("spamassassin rules loaded", "active", eng.ActiveRules(), "required_score", eng.RequiredScore(),
		"backtracking_regexes", eng.Backtrk, "network_tests", sc.NetworkTests, "unimplemented_evals", eng.NotImpl)
	d.spam, d.spamKey = eng, key
	return eng, nil
}

type spamKey struct {
	ruleDirs, siteDir, localCF string
	timeLimit                  time.Duration
	bayesPath, hostname        string
	networkTests               bool
	files                      string // ruleFilesStamp: sa-update or a local.cf edit reloads on SIGHUP
}

// ruleFilesStamp names every rule file the engine reads with its size and
// modification time, so that a reload notices changed rule files (after
// sa-update, or an edited local.cf) and not only changed settings.
func ruleFilesStamp(ruleDirs []string, siteDir, localCF string) string {
	var files []string
	for _, d := range append(append([]string(nil), ruleDirs...), siteDir) {
		if d == "" || d == "-" {
			continue
		}
		for _, pat := range []string{"*.cf", "*.pre"} {
			m, _ := filepath.Glob(filepath.Join(d, pat))
			files = append(files, m...)
		}
	}
	if localCF != "" {
		files = append(files, localCF)
	}
	var b strings.Builder
	for _, f := range files {
		if fi, err := os.Stat(f); err == nil {
			fmt.Fprintf(&b, "%s %d %d\n", f, fi.Size(), fi.ModTime().UnixNano())
		}
	}
	return b.String()
}

type spamDeps struct {
	spamMu  sync.Mutex
	spam    *spam.Engine
	spamKey spamKey
}
