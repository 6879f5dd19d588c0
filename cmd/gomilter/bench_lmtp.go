package main

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"strings"
	"time"

	"github.com/emersion/go-smtp"
	"github.com/gomilter/gomilter/internal/bench"
	"github.com/gomilter/gomilter/internal/userdb"
	"github.com/gomilter/gomilter/lmtp"
)

func init() {
	benchKinds["lmtp"] = benchKind{"deliver messages over LMTP as Postfix's lmtp client does (Dovecot or gomilter)", runBenchLMTP}
	benchKinds["lmtp-server"] = benchKind{"run a standalone gomilter LMTP server on a passwd-file (bench target)", runLMTPServer}
}

type lmtpBench struct {
	network, addr string
	msgs          [][]byte
	from          string
	rcpts         []string
	perConn       int
	timeout       time.Duration
	conns         []*lmtpBenchConn
}

type lmtpBenchConn struct {
	c    *smtp.Client
	used int
}

func runBenchLMTP(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("bench lmtp", flag.ContinueOnError)
	fs.SetOutput(stderr)
	addr := fs.String("addr", "", "LMTP endpoint: unix:/path or inet:host:port")
	dir := fs.String("dir", "", "directory of message files, or a Maildir (cur/ and new/)")
	conc := fs.Int("c", 4, "concurrent connections (Postfix's lmtp processes)")
	n := fs.Int("n", 2000, "messages to deliver")
	perConn := fs.Int("per-conn", 100, "transactions per connection (lmtp_cache_connection reuse)")
	maxFiles := fs.Int("max-files", 0, "read at most this many message files (0 = all)")
	from := fs.String("from", "sender@example.net", "envelope sender")
	rcpt := fs.String("rcpt", "alice@example.org", "comma-separated recipients of every message")
	pid := fs.Int("pid", 0, "daemon PID: report its CPU-seconds per 1000 messages and peak RSS")
	timeout := fs.Duration("timeout", 30*time.Second, "per-message timeout")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if *addr == "" || *dir == "" {
		fmt.Fprintln(stderr, "bench lmtp: -addr and -dir are required")
		return 2
	}
	msgs, err := bench.LoadMessages(*dir, *maxFiles)
	if err != nil {
		fmt.Fprintln(stderr, "bench lmtp:", err)
		return 1
	}
	network, address := splitEndpoint(*addr)
	b := &lmtpBench{network: network, addr: address, msgs: msgs, from: *from, rcpts: strings.Split(*rcpt, ","),
		perConn: max(1, *perConn), timeout: *timeout, conns: make([]*lmtpBenchConn, max(1, *conc))}
	rep, err := bench.Run(ctx, "lmtp", bench.RunOptions{Workers: max(1, *conc), N: *n, PID: *pid, Unit: "msgs"}, b.one)
	b.closeAll()
	if rep != nil {
		fmt.Fprintf(stdout, "%d message files from %s, %d recipient(s) each\n", len(msgs), *dir, len(b.rcpts))
		rep.Print(stdout)
	}
	if err != nil {
		fmt.Fprintln(stderr, "bench lmtp:", err)
		return 1
	}
	if rep.Outcomes["error"] > 0 {
		return 1
	}
	return 0
}

// one delivers message i on worker w's cached connection.
func (b *lmtpBench) one(ctx context.Context, w, i int) (string, []string, error) {
	c, err := b.conn(w)
	if err != nil {
		return "", nil, err
	}
	outcome, err := b.transaction(c.c, b.msgs[i%len(b.msgs)])
	if err != nil {
		c.c.Close()
		b.conns[w] = nil
		return "", nil, err
	}
	if c.used++; c.used >= b.perConn {
		c.c.Quit()
		b.conns[w] = nil
	}
	return outcome, nil, nil
}

func (b *lmtpBench) conn(w int) (*lmtpBenchConn, error) {
	if c := b.conns[w]; c != nil {
		return c, nil
	}
	nc, err := net.DialTimeout(b.network, b.addr, b.timeout)
	if err != nil {
		return nil, err
	}
	c := smtp.NewClientLMTP(nc)
	c.CommandTimeout, c.SubmissionTimeout = b.timeout, b.timeout
	if err := c.Hello("bench.localhost"); err != nil {
		c.Close()
		return nil, err
	}
	b.conns[w] = &lmtpBenchConn{c: c}
	return b.conns[w], nil
}

// transaction runs MAIL, RCPTs and DATA as Postfix does: refused
// recipients are skipped. The outcome is "saved" when every recipient got
// 250, else "tempfail" (any 4xx) or "rejected" (5xx only).
func (b *lmtpBench) transaction(c *smtp.Client, msg []byte) (string, error) {
	if err := c.Mail(b.from, nil); err != nil {
		return "", err
	}
	worst := "saved"
	note := func(err error) {
		var se *smtp.SMTPError
		if errors.As(err, &se) && se.Code/100 == 4 {
			worst = "tempfail"
		} else if worst == "saved" {
			worst = "rejected"
		}
	}
	accepted := 0
	for _, r := range b.rcpts {
		var se *smtp.SMTPError
		if err := c.Rcpt(r, nil); errors.As(err, &se) {
			note(err)
		} else if err != nil {
			return "", err
		} else {
			accepted++
		}
	}
	if accepted == 0 {
		return worst, c.Reset()
	}
	w, err := c.Data()
	if err != nil {
		return "", err
	}
	if _, err := io.Copy(w, bytes.NewReader(msg)); err != nil {
		return "", err
	}
	_, err = w.CloseWithLMTPResponse()
	var lerr smtp.LMTPDataError
	if errors.As(err, &lerr) {
		for _, e := range lerr {
			note(e)
		}
		return worst, nil
	}
	return worst, err
}

func (b *lmtpBench) closeAll() {
	for _, c := range b.conns {
		if c != nil {
			c.c.Quit()
		}
	}
}

// runLMTPServer serves gomilter's LMTP alone, for benchmarks against
// Dovecot's LMTP on the same passwd-file.
func runLMTPServer(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("bench lmtp-server", flag.ContinueOnError)
	fs.SetOutput(stderr)
	listen := fs.String("listen", "", "unix:/path or inet:host:port")
	passwd := fs.String("passwd", "", "Dovecot passwd-file (uid, gid, home)")
	location := fs.String("mail-location", "maildir:~/Maildir", "Dovecot mail_location")
	withSieve := fs.Bool("sieve", true, "run users' ~/.dovecot.sieve")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if *listen == "" || *passwd == "" {
		fmt.Fprintln(stderr, "bench lmtp-server: -listen and -passwd are required")
		return 2
	}
	db, err := userdb.OpenPasswdFile(*passwd, "")
	if err != nil {
		fmt.Fprintln(stderr, "bench lmtp-server:", err)
		return 1
	}
	opts := lmtp.Options{Logger: slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))}
	if *withSieve {
		opts.Sieve = &lmtp.SieveOptions{}
	}
	srv, err := lmtp.NewServer(&lmtp.UserDB{DB: db, MailLocation: *location}, opts)
	if err != nil {
		fmt.Fprintln(stderr, "bench lmtp-server:", err)
		return 1
	}
	return serveBenchTarget(ctx, "lmtp-server", *listen, srv.Serve, func() { srv.Close() },
		lmtp.ErrServerClosed, stdout, stderr)
}
