package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/gomilter/gomilter/internal/dns"
	"github.com/gomilter/gomilter/milter/dmarc"
)

func init() {
	register("dmarc", "DMARC tools: dmarc report [-since 24h] [-out DIR] [-send] (aggregate reports)", runDMARC)
}

func runDMARC(args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 || args[0] != "report" {
		fmt.Fprintln(stderr, "usage: gomilter dmarc report -store FILE -domain RECEIVER -org NAME -email ADDR [-since 24h] [-out DIR] [-send -relay HOST:PORT -from ADDR] [-prune]")
		return 2
	}
	fs := flag.NewFlagSet("dmarc report", flag.ContinueOnError)
	fs.SetOutput(stderr)
	store := fs.String("store", "/var/lib/gomilter/dmarc.db", "report store (bbolt file written by the milter)")
	since := fs.Duration("since", 24*time.Hour, "report the entries of this period, ending now (rounded down to the hour)")
	out := fs.String("out", "", "directory for the .xml.gz reports (RFC file names)")
	var rep dmarc.Reporter
	fs.StringVar(&rep.Domain, "domain", "", "our domain (report file names and ids)")
	fs.StringVar(&rep.OrgName, "org", "", "report_metadata org_name")
	fs.StringVar(&rep.Email, "email", "", "report_metadata email")
	send := fs.Bool("send", false, "mail the reports to the rua= addresses (off by default)")
	relay := fs.String("relay", "127.0.0.1:25", "SMTP relay for -send")
	from := fs.String("from", "", "sender address for -send (default: -email)")
	servers := fs.String("dns", "", "comma-separated resolvers for the destination check (default: /etc/resolv.conf)")
	prune := fs.Bool("prune", false, "delete the reported entries afterwards")
	if err := fs.Parse(args[1:]); err != nil {
		return 2
	}
	if rep.Domain == "" || rep.OrgName == "" || rep.Email == "" || (*out == "" && !*send) {
		fmt.Fprintln(stderr, "gomilter dmarc report: -domain, -org, -email and one of -out or -send are required")
		return 2
	}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	st, err := dmarc.OpenBolt(*store, 10*time.Second)
	if err != nil {
		fmt.Fprintln(stderr, "gomilter dmarc report:", err)
		return 1
	}
	defer st.Close()
	to := time.Now().UTC().Truncate(time.Hour) // RFC 9990: reports on hour boundaries
	run := dmarc.ReportRun{From: to.Add(-*since), To: to, OutDir: *out, Reporter: rep, Prune: *prune}
	if *send {
		if run.Sender, err = newReportSender(rep, *relay, *from, *servers); err != nil {
			fmt.Fprintln(stderr, "gomilter dmarc report:", err)
			return 1
		}
	}
	return printReportSummary(ctx, st, run, stdout, stderr)
}

func newReportSender(rep dmarc.Reporter, relay, from, servers string) (*dmarc.Sender, error) {
	var opts dns.Options
	if servers != "" {
		opts.Servers = strings.Split(servers, ",")
	}
	r, err := dns.New(opts)
	if err != nil {
		return nil, err
	}
	if from == "" {
		from = rep.Email
	}
	return &dmarc.Sender{Relay: relay, From: from, Helo: rep.Domain, Reporter: rep, Resolver: r}, nil
}

func printReportSummary(ctx context.Context, st dmarc.Store, run dmarc.ReportRun, stdout, stderr io.Writer) int {
	sum, err := dmarc.RunReports(ctx, st, run)
	status := 0
	for _, s := range sum {
		fmt.Fprintf(stdout, "%s: %d rows", s.Domain, s.Rows)
		if s.File != "" {
			fmt.Fprintf(stdout, " file=%s", s.File)
		}
		if len(s.SentTo) > 0 {
			fmt.Fprintf(stdout, " sent=%s", strings.Join(s.SentTo, ","))
		}
		if s.Err != nil {
			fmt.Fprintf(stdout, " error=%v", s.Err)
			status = 1
		}
		fmt.Fprintln(stdout)
	}
	if err != nil {
		fmt.Fprintln(stderr, "gomilter dmarc report:", err)
		return 1
	}
	return status
}
