package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/gomilter/gomilter/internal/mailmsg"
	"github.com/gomilter/gomilter/milter/spam"
	"github.com/gomilter/gomilter/milter/spamd"
)

func init() {
	register("spamd", "serve the SpamAssassin spamd protocol for spamc (spamd [-listen ADDR] [-rules DIR] [-allow-tell])", runSpamd)
}

func runSpamd(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("spamd", flag.ContinueOnError)
	fs.SetOutput(stderr)
	listen := fs.String("listen", "127.0.0.1:783", "TCP address to listen on")
	rules := fs.String("rules", "/usr/share/spamassassin", "rule directory (*.cf)")
	site := fs.String("site", "/etc/spamassassin", `site directory; "-" for none`)
	bayesPath := fs.String("bayes", "", "the rule engine's Bayes database (scoring, and TELL with -allow-tell)")
	allowTell := fs.Bool("allow-tell", false, "accept TELL (spamc -L spam|ham) into the Bayes database")
	maxSize := fs.Int("max-size", spamd.DefaultMaxMessageSize, "largest message accepted, bytes")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if *allowTell && *bayesPath == "" {
		fmt.Fprintln(stderr, "gomilter spamd: -allow-tell needs -bayes")
		return 2
	}
	eng, _, err := spam.Load(spam.Options{RuleDirs: []string{*rules}, SiteDir: *site, BayesPath: *bayesPath})
	if err != nil {
		fmt.Fprintln(stderr, "gomilter spamd:", err)
		return 1
	}
	defer eng.Close()
	opts := spamd.Options{Logger: slog.New(slog.NewTextHandler(stderr, nil)), AllowTell: *allowTell,
		Limits: spamd.Limits{MaxMessageSize: *maxSize}}
	if *allowTell {
		opts.Learner = engineLearner{eng}
	}
	return serveSpamd(engineScorer{eng}, opts, *listen, stderr)
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

func serveSpamd(sc spamd.Scorer, opts spamd.Options, addr string, stderr io.Writer) int {
	srv, err := spamd.NewServer(sc, opts)
	if err != nil {
		fmt.Fprintln(stderr, "gomilter spamd:", err)
		return 1
	}
	l, err := net.Listen("tcp", addr)
	if err != nil {
		fmt.Fprintln(stderr, "gomilter spamd:", err)
		return 1
	}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	go func() {
		<-ctx.Done()
		sctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		srv.Shutdown(sctx)
	}()
	if err := srv.Serve(l); err != nil && err != spamd.ErrServerClosed {
		fmt.Fprintln(stderr, "gomilter spamd:", err)
		return 1
	}
	return 0
}

// engineScorer adapts the rule engine to the spamd Scorer.
type engineScorer struct{ eng *spam.Engine }

func (e engineScorer) Score(ctx context.Context, raw []byte, user string) (spamd.Verdict, error) {
	res := e.eng.CheckBytes(ctx, nil, raw)
	v := spamd.Verdict{Score: res.Score, Required: res.Required, IsSpam: res.IsSpam, Rules: res.Rules}
	for _, h := range res.Headers {
		v.Headers = append(v.Headers, mailmsg.Field{Name: h.Name, Value: " " + h.Value})
	}
	var b strings.Builder
	fmt.Fprintf(&b, "Content analysis details:   (%.1f points, %.1f required)\n\n", res.Score, res.Required)
	b.WriteString(" pts rule name\n---- ----------------------\n")
	for _, r := range res.Rules {
		fmt.Fprintf(&b, "%4.1f %s\n", res.Scores[r], r)
	}
	v.Report = b.String()
	if len(res.RemoveHeaders) > 0 || res.Subject != "" {
		v.Rewritten = spamd.Rewrite(raw, v.Headers, res.RemoveHeaders, res.Subject)
	}
	return v, nil
}
