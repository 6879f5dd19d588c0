package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os/signal"
	"strings"
	"syscall"

	"github.com/gomilter/gomilter/internal/config"
	"github.com/gomilter/gomilter/internal/listen"
	"github.com/gomilter/gomilter/internal/mailmsg"
	"github.com/gomilter/gomilter/internal/obs"
	"github.com/gomilter/gomilter/milter/spam"
	"github.com/gomilter/gomilter/milter/spamd"
)

func init() {
	register("spamd", "answer spamc without a config file (spamd [-listen ADDR] [-rules DIR] [-bayes DB] [-allow-tell]); "+
		"with a config, use serve's spamd piece", runSpamd)
}

// runSpamd is the spamd piece of serve with its settings taken from flags
// over the embedded default, for trying gomilter beside a running spamd.
func runSpamd(args []string, _, stderr io.Writer) int {
	cfg := config.Default()
	fs := flag.NewFlagSet("spamd", flag.ContinueOnError)
	fs.SetOutput(stderr)
	addr := fs.String("listen", "127.0.0.1:783", "host:port, inet:host:port or unix:/path")
	rules := fs.String("rules", "/usr/share/spamassassin", "rule directory (*.cf)")
	site := fs.String("site", "/etc/spamassassin", `site directory (*.pre, local.cf); "-" for none`)
	bayesPath := fs.String("bayes", "", "the rule engine's Bayes database (scoring, and TELL with -allow-tell)")
	allowTell := fs.Bool("allow-tell", false, "accept TELL (spamc -L spam|ham) into the Bayes database")
	allowed := fs.String("allowed-ips", "127.0.0.1,::1", "comma-separated TCP client networks served")
	fs.IntVar(&cfg.Spamd.MaxMessageSize, "max-size", cfg.Spamd.MaxMessageSize, "largest message scored, bytes")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if err := spamdFlags(cfg, *addr, *rules, *site, *bayesPath, *allowTell, *allowed); err != nil {
		fmt.Fprintln(stderr, "gomilter spamd:", err)
		return 2
	}
	logger, _ := obs.NewLogger(stderr, "logfmt", "info")
	sh := &sharedDeps{} // spamd needs only the engine cache, not a resolver
	defer sh.Close()
	p, err := buildSpamd(cfg, &env{logger: logger, reg: obs.NewRegistry(), shared: sh})
	if err != nil {
		fmt.Fprintln(stderr, "gomilter spamd:", err)
		return 1
	}
	ln, err := listen.Open(cfg.Spamd.Listen)
	if err != nil {
		fmt.Fprintln(stderr, "gomilter spamd:", err)
		return 1
	}
	logger.Info("listening", "piece", "spamd", "addr", cfg.Spamd.Listen.String())
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	drained := make(chan struct{})
	go func() {
		defer close(drained)
		<-ctx.Done()
		sctx, cancel := context.WithTimeout(context.Background(), cfg.ShutdownTimeout)
		defer cancel()
		p.shutdown(sctx)
	}()
	if err := p.serve(ln); err != nil {
		fmt.Fprintln(stderr, "gomilter spamd:", err)
		return 1
	}
	<-drained // Serve returns when the listener closes; answers may still be going out
	return 0
}

// spamdFlags applies the flags to cfg and validates the result.
func spamdFlags(cfg *config.Config, addr, rules, site, bayesPath string, allowTell bool, allowed string) error {
	if allowTell && bayesPath == "" {
		return fmt.Errorf("-allow-tell needs -bayes")
	}
	if !strings.HasPrefix(addr, "unix:") && !strings.HasPrefix(addr, "inet:") {
		addr = "inet:" + addr
	}
	l, err := config.ParseListener(addr)
	if err != nil {
		return fmt.Errorf("-listen: %w", err)
	}
	cfg.Spamd.AllowedNetworks = nil
	for _, s := range strings.Split(allowed, ",") {
		p, err := config.ParsePrefix(s)
		if err != nil {
			return fmt.Errorf("-allowed-ips: %w", err)
		}
		cfg.Spamd.AllowedNetworks = append(cfg.Spamd.AllowedNetworks, p)
	}
	cfg.Spamd.Enabled, cfg.Spamd.Listen, cfg.Spamd.AllowTell = true, l, allowTell
	cfg.Milter.Spam.RuleDirs, cfg.Milter.Spam.SiteDir, cfg.Milter.Spam.BayesPath = []string{rules}, site, bayesPath
	return cfg.Validate()
}

// engineLearner sends TELL to the rule engine's own Bayes database, the
// one its BAYES_xx rules read, so that learning and scoring agree. That
// database is global (the User header is ignored) and cannot forget.
type engineLearner struct{ eng *spam.Engine }

func (e engineLearner) Learn(ctx context.Context, raw []byte, _ string, isSpam bool) (bool, error) {
	return e.eng.Learn(ctx, raw, isSpam)
}

func (e engineLearner) Forget(context.Context, []byte, string) (bool, error) {
	return false, &spamd.Error{Code: spamd.ExUnavailable, Text: "forget is not supported"}
}

// engineScorer adapts the rule engine to the spamd Scorer. A failed check
// (a recovered panic) is an error, so spamc gets EX_TEMPFAIL and passes
// the message through instead of reading a meaningless 0 score.
type engineScorer struct{ eng *spam.Engine }

func (e engineScorer) Score(ctx context.Context, raw []byte, user string) (spamd.Verdict, error) {
	res := e.eng.CheckBytes(ctx, nil, raw)
	if res.Err != nil {
		return spamd.Verdict{}, res.Err
	}
	v := spamd.Verdict{Score: res.Score, Required: res.Required, IsSpam: res.IsSpam, Rules: res.Rules}
	for _, h := range res.Headers {
		v.Headers = append(v.Headers, mailmsg.Field{Name: h.Name, Value: " " + h.Value})
	}
	v.Report = res.Report() // SA's report template, as spamd's REPORT answers
	switch {
	case res.Encapsulates(): // report_safe 1 or 2: the report with the original attached
		v.Rewritten = res.Rewrite(raw)
	case len(res.RemoveHeaders) > 0 || res.Subject != "":
		v.Rewritten = spamd.Rewrite(raw, v.Headers, res.RemoveHeaders, res.Subject)
	}
	return v, nil
}
