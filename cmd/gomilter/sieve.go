package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/gomilter/gomilter/sieve"
)

func init() {
	register("sieve", "check or test Sieve scripts (sieve check FILE | sieve test SCRIPT MESSAGE)", runSieve)
}

func runSieve(args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprintln(stderr, "usage: gomilter sieve check FILE | gomilter sieve test [-json] SCRIPT MESSAGE [-from ADDR] [-to ADDR] [-o key=value]...")
		return 2
	}
	switch args[0] {
	case "check":
		return sieveCheck(args[1:], stdout, stderr)
	case "test":
		return sieveTest(args[1:], stdout, stderr)
	}
	fmt.Fprintf(stderr, "gomilter sieve: unknown action %q\n", args[0])
	return 2
}

// multiFlag collects repeated -o key=value settings.
type multiFlag []string

func (m *multiFlag) String() string     { return strings.Join(*m, ",") }
func (m *multiFlag) Set(v string) error { *m = append(*m, v); return nil }

// parseInterleaved parses flags that may follow positional arguments.
func parseInterleaved(fs *flag.FlagSet, args []string) ([]string, error) {
	var pos []string
	for {
		if err := fs.Parse(args); err != nil {
			return nil, err
		}
		args = fs.Args()
		if len(args) == 0 {
			return pos, nil
		}
		pos = append(pos, args[0])
		args = args[1:]
	}
}

func sieveOptions(script, globalDir string, settings []string) (sieve.Options, error) {
	o := sieve.Options{Name: filepath.Base(script),
		Include: sieve.DirResolver{Personal: filepath.Dir(script), Global: globalDir}}
	for _, kv := range settings {
		k, v, ok := strings.Cut(kv, "=")
		if !ok {
			return o, fmt.Errorf("-o %q: want key=value", kv)
		}
		if err := o.Set(strings.TrimPrefix(k, "plugin/"), v); err != nil {
			return o, err
		}
	}
	return o, nil
}

func sieveCheck(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("sieve check", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var settings multiFlag
	fs.Var(&settings, "o", "Pigeonhole setting key=value (repeatable)")
	global := fs.String("global", "", "directory of :global include scripts")
	pos, err := parseInterleaved(fs, args)
	if err != nil || len(pos) != 1 {
		fmt.Fprintln(stderr, "usage: gomilter sieve check [-o key=value] FILE")
		return 2
	}
	opts, err := sieveOptions(pos[0], *global, settings)
	if err != nil {
		fmt.Fprintln(stderr, err)
		return 2
	}
	src, err := os.ReadFile(pos[0])
	if err != nil {
		fmt.Fprintln(stderr, err)
		return 1
	}
	if _, err := sieve.Compile(src, opts); err != nil {
		printCompileError(stderr, err)
		return 1
	}
	fmt.Fprintf(stdout, "%s: OK\n", pos[0])
	return 0
}

func sieveTest(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("sieve test", flag.ContinueOnError)
	fs.SetOutput(stderr)
	asJSON := fs.Bool("json", false, "print actions as JSON")
	from := fs.String("from", "", "envelope sender (default: from the message)")
	to := fs.String("to", "", "envelope recipient (default: from the message)")
	global := fs.String("global", "", "directory of :global include scripts")
	var settings multiFlag
	fs.Var(&settings, "o", "Pigeonhole setting key=value (repeatable)")
	pos, err := parseInterleaved(fs, args)
	if err != nil || len(pos) != 2 {
		fmt.Fprintln(stderr, "usage: gomilter sieve test [-json] SCRIPT MESSAGE [-from ADDR] [-to ADDR] [-o key=value]...")
		return 2
	}
	opts, err := sieveOptions(pos[0], *global, settings)
	if err != nil {
		fmt.Fprintln(stderr, err)
		return 2
	}
	src, err := os.ReadFile(pos[0])
	if err != nil {
		fmt.Fprintln(stderr, err)
		return 1
	}
	raw, err := os.ReadFile(pos[1])
	if err != nil {
		fmt.Fprintln(stderr, err)
		return 1
	}
	msg := sieve.ParseMessage(raw)
	in := &sieve.Input{Message: msg, Envelope: sieve.Envelope{From: *from, To: *to}}
	if *from == "" {
		in.Envelope.From = firstHeaderAddr(msg.Get, "Return-Path", "Sender", "From")
	}
	if *to == "" {
		in.Envelope.To = firstHeaderAddr(msg.Get, "Envelope-To", "To")
	}
	in.Envelope.OrigTo = in.Envelope.To
	s, err := sieve.Compile(src, opts)
	var res *sieve.Result
	if err == nil {
		res, err = s.Run(context.Background(), in)
	}
	return printSieveResult(stdout, stderr, *asJSON, res, err)
}

func firstHeaderAddr(get func(string) (string, bool), names ...string) string {
	for _, n := range names {
		if v, ok := get(n); ok {
			if a := sieve.FirstAddress(v); a != "" {
				return a
			}
		}
	}
	return ""
}

// printCompileError prints one diagnostic per line, like sievec; the
// final summary ("validation failed") comes last.
func printCompileError(w io.Writer, err error) {
	var ce *sieve.CompileError
	if !errors.As(err, &ce) {
		fmt.Fprintln(w, err)
		return
	}
	for i, e := range ce.Errors {
		if i == len(ce.Errors)-1 && i > 0 && e.Script != "" {
			fmt.Fprintf(w, "%s: %s\n", e.Script, e.Msg) // the summary has no position
			continue
		}
		fmt.Fprintln(w, e)
	}
}
