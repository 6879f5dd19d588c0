package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"net/netip"
	"os"
	"os/signal"
	"sort"
	"time"

	"github.com/gomilter/gomilter/internal/bench"
)

// benchKind is one "gomilter bench <kind>" load generator. Other files
// add theirs from init: benchKinds["policy"] = benchKind{...}.
type benchKind struct {
	summary string
	run     func(ctx context.Context, args []string, stdout, stderr io.Writer) int
}

var benchKinds = map[string]benchKind{}

func init() {
	register("bench", "load generators: gomilter bench <kind> -h (milter, ...)", runBench)
	benchKinds["milter"] = benchKind{"replay messages through a milter as Postfix does", runBenchMilter}
}

func runBench(args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 || benchKinds[args[0]].run == nil {
		fmt.Fprintln(stderr, "usage: gomilter bench <kind> [flags]")
		kinds := make([]string, 0, len(benchKinds))
		for k := range benchKinds {
			kinds = append(kinds, k)
		}
		sort.Strings(kinds)
		for _, k := range kinds {
			fmt.Fprintf(stderr, "  %-8s %s\n", k, benchKinds[k].summary)
		}
		return 2
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	return benchKinds[args[0]].run(ctx, args[1:], stdout, stderr)
}

func runBenchMilter(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("bench milter", flag.ContinueOnError)
	fs.SetOutput(stderr)
	addr := fs.String("addr", "", "milter endpoint: unix:/path or inet:host:port")
	dir := fs.String("dir", "", "directory of message files, or a Maildir (cur/ and new/)")
	conc := fs.Int("c", 32, "concurrent milter connections")
	n := fs.Int("n", 10000, "messages to send")
	perConn := fs.Int("per-conn", 1, "messages per milter connection (SMTP session)")
	maxFiles := fs.Int("max-files", 0, "read at most this many message files (0 = all)")
	auth := fs.String("auth", "", "SASL user to announce ({auth_authen}); empty = unauthenticated")
	client := fs.String("client", "127.0.0.1", "client IP sent in CONNECT")
	from := fs.String("from", "", "envelope sender (default: each message's Return-Path/From)")
	rcpt := fs.String("rcpt", "rcpt@example.org", "envelope recipient")
	pid := fs.Int("pid", 0, "daemon PID: report its CPU-seconds per 1000 messages and peak RSS")
	timeout := fs.Duration("timeout", 30*time.Second, "per-message timeout")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	ip, err := netip.ParseAddr(*client)
	if *addr == "" || *dir == "" || err != nil {
		fmt.Fprintln(stderr, "bench milter: -addr and -dir are required, -client must be an IP")
		return 2
	}
	msgs, err := bench.LoadMessages(*dir, *maxFiles)
	if err != nil {
		fmt.Fprintln(stderr, "bench milter:", err)
		return 1
	}
	rep, err := bench.RunMilter(ctx, bench.MilterOptions{
		Addr: *addr, Messages: msgs, Workers: *conc, N: *n, PerConn: *perConn, AuthUser: *auth,
		Client: ip, From: *from, Rcpt: *rcpt, PID: *pid, Timeout: *timeout,
	})
	if rep != nil {
		fmt.Fprintf(stdout, "%d message files from %s\n", len(msgs), *dir)
		rep.Print(stdout)
	}
	if err != nil {
		fmt.Fprintln(stderr, "bench milter:", err)
		return 1
	}
	if rep.Outcomes["error"] > 0 {
		return 1
	}
	return 0
}
