package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"runtime"
	"sort"
	"strings"
	"sync"

	"github.com/gomilter/gomilter/internal/dns"
	"github.com/gomilter/gomilter/milter/spam"
)

func init() {
	register("spam", "score or learn messages with SpamAssassin rules (spam check|learn [-rules DIR] [-site DIR] [-local F] [-bayes DB] FILE|DIR...)", runSpam)
}

const spamUsage = "usage: gomilter spam check [-rules DIR] [-site DIR] [-local FILE] [-bayes DB] [-dns ADDR] [-v] FILE|DIR... | spam check -list-rules\n" +
	"       gomilter spam learn --spam|--ham|--forget [-store FILE|-redis ADDR] [-user U] FILE|DIR|MAILDIR..."

func runSpam(args []string, stdout, stderr io.Writer) int {
	if len(args) > 0 && args[0] == "learn" {
		return runSpamLearn(args[1:], stdout, stderr)
	}
	if len(args) == 0 || args[0] != "check" {
		fmt.Fprintln(stderr, spamUsage)
		return 2
	}
	fs := flag.NewFlagSet("spam "+args[0], flag.ContinueOnError)
	fs.SetOutput(stderr)
	rules := fs.String("rules", "/usr/share/spamassassin", "rule directory (*.cf)")
	site := fs.String("site", "/etc/spamassassin", `site directory (*.pre, local.cf); "-" for none`)
	local := fs.String("local", "", "extra configuration file read last")
	bayes := fs.String("bayes", "", "Bayes token database (bbolt file)")
	dnsAddr := fs.String("dns", "", "resolver ip[:port] for the DNS blocklist rules (default: no network tests, like spamassassin -L)")
	verbose := fs.Bool("v", false, "print load warnings and the headers that would be added")
	listRules := fs.Bool("list-rules", false, "print the names of the rules that run (without Bayes), one a line, and exit")
	paths, err := parseInterleaved(fs, args[1:])
	if err != nil || (len(paths) == 0 && !*listRules) {
		fmt.Fprintln(stderr, spamUsage)
		return 2
	}
	opts := spam.Options{RuleDirs: []string{*rules}, SiteDir: *site, LocalCF: *local, BayesPath: *bayes}
	if *dnsAddr != "" {
		r, err := dns.New(dns.Options{Servers: []string{*dnsAddr}})
		if err != nil {
			fmt.Fprintln(stderr, "gomilter spam:", err)
			return 2
		}
		opts.Resolver = r
		opts.Logger = slog.New(slog.NewTextHandler(stderr, nil))
	}
	eng, warns, err := spam.Load(opts)
	if err != nil {
		fmt.Fprintln(stderr, "gomilter spam:", err)
		return 1
	}
	defer eng.Close()
	if *listRules {
		// contrib/bench/spam.sh compares hits with SpamAssassin's only for these.
		for _, name := range eng.RuleNames() {
			fmt.Fprintln(stdout, name)
		}
		return 0
	}
	files, err := expandPaths(paths)
	if err != nil {
		fmt.Fprintln(stderr, "gomilter spam:", err)
		return 1
	}
	fmt.Fprintf(stderr, "spam: %d rules active, %d warnings, eval functions not implemented: %s\n",
		eng.ActiveRules(), len(warns), strings.Join(eng.NotImpl, " "))
	if *verbose {
		for _, w := range warns {
			fmt.Fprintln(stderr, "spam: warning:", w)
		}
	}
	// Score in parallel, print in input order.
	results := make([]*spam.Result, len(files))
	errs := make([]error, len(files))
	var wg sync.WaitGroup
	next := make(chan int)
	for w := 0; w < runtime.GOMAXPROCS(0); w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range next {
				raw, err := os.ReadFile(files[i])
				if err != nil {
					errs[i] = err
					continue
				}
				results[i] = eng.CheckBytes(context.Background(), nil, raw)
			}
		}()
	}
	for i := range files {
		next <- i
	}
	close(next)
	wg.Wait()
	rc := 0
	for i, f := range files {
		res := results[i]
		if errs[i] != nil || res.Err != nil {
			fmt.Fprintln(stderr, "gomilter spam:", f, errs[i], res.Err)
			rc = 1
			continue
		}
		verdict := "No"
		if res.IsSpam {
			verdict = "Yes"
		}
		fmt.Fprintf(stdout, "%s\t%.3f\t%s\t%s\n", f, res.Score, verdict, strings.Join(res.Rules, ","))
		if *verbose {
			for _, h := range res.Headers {
				fmt.Fprintf(stdout, "%s: %s\n", h.Name, h.Value)
			}
		}
	}
	return rc
}

// expandPaths lists regular files, walking directories in name order.
func expandPaths(paths []string) ([]string, error) {
	var out []string
	for _, p := range paths {
		st, err := os.Stat(p)
		if err != nil {
			return nil, err
		}
		if !st.IsDir() {
			out = append(out, p)
			continue
		}
		var sub []string
		err = filepath.WalkDir(p, func(path string, d os.DirEntry, err error) error {
			if err == nil && d.Type().IsRegular() {
				sub = append(sub, path)
			}
			return err
		})
		if err != nil {
			return nil, err
		}
		sort.Strings(sub)
		out = append(out, sub...)
	}
	return out, nil
}
