package main

import (
	"bufio"
	"context"
	"encoding/base64"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/gomilter/gomilter/dovecotauth"
	"github.com/gomilter/gomilter/internal/bench"
	"github.com/gomilter/gomilter/internal/userdb"
)

func init() {
	benchKinds["auth"] = benchKind{"AUTH PLAIN load on a Dovecot auth-client socket (Dovecot or gomilter)", runBenchAuth}
	benchKinds["auth-server"] = benchKind{"run a standalone gomilter auth server on a passwd-file (bench target)", runAuthServer}
}

// splitEndpoint turns "unix:/p", "inet:h:p", "/p" or "h:p" into net/addr.
func splitEndpoint(s string) (string, string) {
	switch {
	case strings.HasPrefix(s, "unix:"):
		return "unix", strings.TrimPrefix(s, "unix:")
	case strings.HasPrefix(s, "inet:"):
		return "tcp", strings.TrimPrefix(s, "inet:")
	case strings.HasPrefix(s, "/"):
		return "unix", s
	}
	return "tcp", s
}

// authBenchConn is one worker's persistent auth-client connection, as each
// Postfix smtpd process keeps one.
type authBenchConn struct {
	c  net.Conn
	r  *bufio.Reader
	id int
}

func dialAuth(network, addr string) (*authBenchConn, error) {
	c, err := net.DialTimeout(network, addr, 5*time.Second)
	if err != nil {
		return nil, err
	}
	a := &authBenchConn{c: c, r: bufio.NewReader(c)}
	if _, err := c.Write([]byte("VERSION\t1\t0\nCPID\t" + strconv.Itoa(os.Getpid()) + "\n")); err != nil {
		c.Close()
		return nil, err
	}
	for {
		line, err := a.r.ReadString('\n')
		if err != nil {
			c.Close()
			return nil, fmt.Errorf("handshake: %w", err)
		}
		if line == "DONE\n" {
			return a, nil
		}
	}
}

// auth sends one AUTH PLAIN and returns "ok" or "fail".
func (a *authBenchConn) auth(user, pass string, rip string, timeout time.Duration) (string, error) {
	a.id++
	resp := base64.StdEncoding.EncodeToString([]byte("\x00" + user + "\x00" + pass))
	id := strconv.Itoa(a.id)
	a.c.SetDeadline(time.Now().Add(timeout))
	_, err := a.c.Write([]byte("AUTH\t" + id + "\tPLAIN\tservice=smtp\tnologin\tlip=127.0.0.1\trip=" + rip +
		"\tresp=" + resp + "\n"))
	if err != nil {
		return "", err
	}
	for {
		line, err := a.r.ReadString('\n')
		if err != nil {
			return "", err
		}
		f := strings.SplitN(strings.TrimSuffix(line, "\n"), "\t", 3)
		if len(f) < 2 || f[1] != id {
			continue
		}
		switch f[0] {
		case "OK":
			return "ok", nil
		case "FAIL":
			return "fail", nil
		}
		return "", fmt.Errorf("unexpected reply %q", line)
	}
}

func runBenchAuth(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("bench auth", flag.ContinueOnError)
	fs.SetOutput(stderr)
	addr := fs.String("addr", "", "auth-client endpoint: unix:/path or inet:host:port")
	conc := fs.Int("c", 32, "concurrent connections (one request in flight each)")
	n := fs.Int("n", 10000, "authentications")
	userFmt := fs.String("user", "user%d@example.org", "user name pattern (%d = 0..users-1)")
	users := fs.Int("users", 1000, "number of distinct users")
	pass := fs.String("password", "benchpw", "password")
	pid := fs.Int("pid", 0, "daemon PID for CPU/RSS figures")
	timeout := fs.Duration("timeout", 30*time.Second, "per-request timeout")
	if err := fs.Parse(args); err != nil || *addr == "" {
		fmt.Fprintln(stderr, "bench auth: -addr is required")
		return 2
	}
	network, a := splitEndpoint(*addr)
	conns := make([]*authBenchConn, *conc)
	for i := range conns {
		c, err := dialAuth(network, a)
		if err != nil {
			fmt.Fprintln(stderr, "bench auth:", err)
			return 1
		}
		defer c.c.Close()
		conns[i] = c
	}
	rep, err := bench.Run(ctx, "auth PLAIN", bench.RunOptions{Workers: *conc, N: *n, PID: *pid},
		func(_ context.Context, w, i int) (string, []string, error) {
			u := strings.Replace(*userFmt, "%d", strconv.Itoa(i%*users), 1)
			// Distinct remote IPs keep brute-force penalties out of the figures.
			rip := fmt.Sprintf("10.%d.%d.%d", (i>>16)&255, (i>>8)&255, i&255)
			out, err := conns[w].auth(u, *pass, rip, *timeout)
			return out, nil, err
		})
	if rep != nil {
		rep.Print(stdout)
	}
	if err != nil || rep.Outcomes["error"] > 0 || rep.Outcomes["fail"] > 0 {
		fmt.Fprintln(stderr, "bench auth: errors or failed logins", err)
		return 1
	}
	return 0
}

func runAuthServer(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("bench auth-server", flag.ContinueOnError)
	fs.SetOutput(stderr)
	listen := fs.String("listen", "", "auth-client endpoint to serve: unix:/path or inet:host:port")
	file := fs.String("passwd-file", "", "Dovecot passwd-file")
	scheme := fs.String("default-scheme", "", "default_pass_scheme (default CRYPT)")
	cache := fs.Duration("verify-cache", 0, "verified-credential cache TTL (0 = off)")
	if err := fs.Parse(args); err != nil || *listen == "" || *file == "" {
		fmt.Fprintln(stderr, "bench auth-server: -listen and -passwd-file are required")
		return 2
	}
	store, err := userdb.OpenPasswdFile(*file, *scheme)
	if err != nil {
		fmt.Fprintln(stderr, "bench auth-server:", err)
		return 1
	}
	srv, err := dovecotauth.NewServer(store, dovecotauth.Options{VerifyCacheTTL: *cache,
		Logger: slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))})
	if err != nil {
		fmt.Fprintln(stderr, "bench auth-server:", err)
		return 1
	}
	return serveBenchTarget(ctx, "auth-server", *listen, srv.Serve,
		func() { srv.Shutdown(context.Background()) }, dovecotauth.ErrServerClosed, stdout, stderr)
}
