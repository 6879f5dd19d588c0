package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/gomilter/gomilter/milter/spam"
)

func init() {
	register("spam", "score messages with SpamAssassin rules (spam check [-rules DIR] [-site DIR] [-local F] FILE|DIR...)", runSpam)
}

func runSpam(args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 || args[0] != "check" {
		fmt.Fprintln(stderr, "usage: gomilter spam check [-rules DIR] [-site DIR] [-local FILE] [-v] FILE|DIR...")
		return 2
	}
	fs := flag.NewFlagSet("spam check", flag.ContinueOnError)
	fs.SetOutput(stderr)
	rules := fs.String("rules", "/usr/share/spamassassin", "rule directory (*.cf)")
	site := fs.String("site", "/etc/spamassassin", `site directory (*.pre, local.cf); "-" for none`)
	local := fs.String("local", "", "extra configuration file read last")
	verbose := fs.Bool("v", false, "print load warnings and the headers that would be added")
	paths, err := parseInterleaved(fs, args[1:])
	if err != nil || len(paths) == 0 {
		fmt.Fprintln(stderr, "gomilter spam check: need at least one FILE or DIR")
		return 2
	}
	eng, warns, err := spam.Load(spam.Options{RuleDirs: []string{*rules}, SiteDir: *site, LocalCF: *local})
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
	files, err := expandPaths(paths)
	if err != nil {
		fmt.Fprintln(stderr, "gomilter spam:", err)
		return 1
	}
	rc := 0
	for _, f := range files {
		raw, err := os.ReadFile(f)
		if err != nil {
			fmt.Fprintln(stderr, "gomilter spam:", err)
			rc = 1
			continue
		}
		res := eng.CheckBytes(context.Background(), nil, raw)
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
