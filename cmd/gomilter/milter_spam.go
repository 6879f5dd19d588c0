package main

import (
	"fmt"

	"github.com/gomilter/gomilter/internal/config"
	"github.com/gomilter/gomilter/internal/mailfilter"
	"github.com/gomilter/gomilter/milter/spam"
)

// buildSpam loads SpamAssassin's rules and reports, once, how many are
// active and which eval functions are not implemented.
func buildSpam(c *config.Config, e *env) (*mailfilter.Spam, error) {
	sc := c.Milter.Spam
	if !sc.Enabled {
		return nil, nil
	}
	eng, warnings, err := spam.Load(spam.Options{RuleDirs: sc.RuleDirs, SiteDir: sc.SiteDir, LocalCF: sc.LocalCF, Hostname: c.Milter.AuthservID})
	if err != nil {
		return nil, fmt.Errorf("milter.spam: %w", err)
	}
	for _, w := range warnings {
		e.logger.Warn("spamassassin rules", "warning", w)
	}
	e.logger.Info("spamassassin rules loaded", "active", eng.ActiveRules(), "required_score", eng.RequiredScore(),
		"backtracking_regexes", eng.Backtrk, "unimplemented_evals", eng.NotImpl)
	return &mailfilter.Spam{Engine: eng, RejectScore: sc.RejectScore, QuarantineScore: sc.QuarantineScore,
		CheckAuthenticated: sc.CheckAuthenticated, Internal: config.Prefixes(c.Milter.InternalNetworks)}, nil
}
