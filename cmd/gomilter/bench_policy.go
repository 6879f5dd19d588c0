package main

import (
	"bufio"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"time"

	"github.com/gomilter/gomilter/internal/bench"
	"github.com/gomilter/gomilter/internal/dns"
	"github.com/gomilter/gomilter/internal/dnstest"
	"github.com/gomilter/gomilter/internal/spf"
	"github.com/gomilter/gomilter/policy"
	"github.com/gomilter/gomilter/policy/spfpolicy"
)

func init() {
	benchKinds["policy"] = benchKind{"SPF policy requests: policyd-spf (spawned per session) vs gomilter", runBenchPolicy}
	benchKinds["policy-server"] = benchKind{"(helper) gomilter SPF policy server for bench policy", runPolicyServer}
}

// benchZone is the DNS data of the policy benchmark: a pass through an
// include, a fail through mx, a softfail, and a domain without SPF.
var benchZone = []string{
	`pass.bench.example. TXT "v=spf1 include:_spf.bench.example -all"`,
	`_spf.bench.example. TXT "v=spf1 ip4:198.51.100.0/24 ip4:192.0.2.0/24 ~all"`,
	`fail.bench.example. TXT "v=spf1 mx a:out.fail.bench.example -all"`,
	`fail.bench.example. MX 10 mx.fail.bench.example.`,
	`mx.fail.bench.example. A 203.0.113.1`,
	`out.fail.bench.example. A 203.0.113.2`,
	`soft.bench.example. TXT "v=spf1 a ~all"`,
	`soft.bench.example. A 203.0.113.3`,
	`nospf.bench.example. A 203.0.113.4`,
}

var benchSenders = []string{"a@pass.bench.example", "b@fail.bench.example", "c@soft.bench.example", "d@nospf.bench.example"}

type policyBenchFlags struct {
	spawn, addr, dnsAddr, client string
	n, gomilterN, conc, perConn  int
	pid                          int
	timeout                      time.Duration
}

func runBenchPolicy(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("bench policy", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var f policyBenchFlags
	fs.StringVar(&f.spawn, "spawn", "", "also load this command per session on stdin/stdout, as Postfix spawn(8) runs policyd-spf; {dns} is replaced by the DNS server address")
	fs.StringVar(&f.addr, "addr", "", "load this running policy service (host:port) instead of starting gomilter's")
	fs.IntVar(&f.pid, "pid", 0, "with -addr: the service's PID, to report its CPU")
	fs.StringVar(&f.dnsAddr, "dns", "", "DNS server holding the benchmark zone (default: start one in-process)")
	fs.StringVar(&f.client, "client", "192.0.2.10", "client_address sent in requests")
	fs.IntVar(&f.n, "n", 1000, "requests per target")
	fs.IntVar(&f.gomilterN, "gomilter-n", 0, "requests for gomilter (same request mix; default 10 x -n, so its CPU time spans enough 10 ms clock ticks to measure)")
	fs.IntVar(&f.conc, "c", 2, "concurrent sessions")
	fs.IntVar(&f.perConn, "per-conn", 1, "requests per session (connection, or process for -spawn)")
	fs.DurationVar(&f.timeout, "timeout", 30*time.Second, "per-request timeout")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if f.dnsAddr == "" {
		srv, err := dnstest.Start()
		if err != nil {
			fmt.Fprintln(stderr, "bench policy:", err)
			return 1
		}
		defer srv.Close()
		for _, rr := range benchZone {
			srv.AddRR(rr)
		}
		f.dnsAddr = srv.Addr()
	}
	fmt.Fprintf(stdout, "DNS %s; %d sessions in parallel, %d requests per session\n", f.dnsAddr, f.conc, f.perConn)
	return benchPolicyTargets(ctx, f, stdout, stderr)
}

func benchPolicyTargets(ctx context.Context, f policyBenchFlags, stdout, stderr io.Writer) int {
	var spawnRate float64
	if f.spawn != "" {
		cmdline := strings.ReplaceAll(f.spawn, "{dns}", f.dnsAddr)
		rep, cpu, err := benchSpawn(ctx, f, cmdline)
		if err != nil {
			fmt.Fprintln(stderr, "bench policy: spawn:", err)
			return 1
		}
		spawnRate = printPolicyReport(stdout, "spawned: "+cmdline, rep, cpu)
	}
	addr, pid, stop, err := f.addr, f.pid, func() {}, error(nil)
	if addr == "" {
		addr, pid, stop, err = startPolicyServer(f.dnsAddr)
		if err != nil {
			fmt.Fprintln(stderr, "bench policy:", err)
			return 1
		}
	}
	defer stop()
	g := f
	g.n = f.gomilterN
	if g.n <= 0 {
		g.n = 10 * f.n
	}
	rep, cpu, err := benchConnect(ctx, g, addr, pid)
	if err != nil {
		fmt.Fprintln(stderr, "bench policy:", err)
		return 1
	}
	rate := printPolicyReport(stdout, "gomilter policy (SPF) at "+addr, rep, cpu)
	if spawnRate > 0 && rate > 0 {
		fmt.Fprintf(stdout, "gomilter handles %.1fx the requests per CPU-second of the spawned service\n", rate/spawnRate)
	}
	if rep.Outcomes["error"] > 0 {
		return 1
	}
	return 0
}

// printPolicyReport prints a report and returns requests per CPU-second
// (0 if CPU is unknown).
func printPolicyReport(w io.Writer, title string, rep *bench.Report, cpu float64) float64 {
	fmt.Fprintf(w, "\n== %s\n", title)
	rep.Print(w)
	if cpu <= 0 {
		fmt.Fprintln(w, "server CPU: not measured (no -pid, or below the 10 ms clock tick)")
		return 0
	}
	fmt.Fprintf(w, "server CPU: %.3f s, %.3f CPU-ms per request, %.0f requests per CPU-second\n",
		cpu, cpu*1000/float64(rep.N), float64(rep.N)/cpu)
	return float64(rep.N) / cpu
}

// policyRequest renders a request as Postfix 3.7 sends it at RCPT.
func policyRequest(i int, client string) []byte {
	sender := benchSenders[i%len(benchSenders)]
	return fmt.Appendf(nil, "request=smtpd_access_policy\nprotocol_state=RCPT\nprotocol_name=ESMTP\n"+
		"client_address=%s\nclient_name=unknown\nreverse_client_name=unknown\nclient_port=40000\n"+
		"helo_name=mail.sender.example\nsender=%s\nrecipient=user%d@dest.example\nrecipient_count=0\n"+
		"queue_id=\ninstance=bench.%d\nsize=0\netrn_domain=\nstress=\nsasl_method=\nsasl_username=\n"+
		"sasl_sender=\nccert_subject=\nccert_issuer=\nccert_fingerprint=\nccert_pubkey_fingerprint=\n"+
		"encryption_protocol=\nencryption_cipher=\nencryption_keysize=0\npolicy_context=\n"+
		"server_address=127.0.0.1\nserver_port=25\n\n", client, sender, i, i)
}

// session is one policy client connection: a socket or a spawned process.
type session struct {
	w    io.WriteCloser
	br   *bufio.Reader
	cmd  *exec.Cmd // nil for sockets
	used int
}

// roundTrip sends one request and returns the reply's action verb.
func (s *session) roundTrip(req []byte) (string, error) {
	if _, err := s.w.Write(req); err != nil {
		return "", err
	}
	line, err := s.br.ReadString('\n')
	if err != nil {
		return "", err
	}
	if blank, err := s.br.ReadString('\n'); err != nil || blank != "\n" {
		return "", fmt.Errorf("reply %q not ended by an empty line", line)
	}
	v, ok := strings.CutPrefix(strings.TrimSpace(line), "action=")
	if !ok {
		return "", fmt.Errorf("bad reply %q", line)
	}
	return policy.Action(v).Verb(), nil
}

func (s *session) close() error {
	err := s.w.Close()
	if s.cmd != nil {
		if werr := s.cmd.Wait(); werr != nil && err == nil {
			err = werr
		}
	}
	return err
}

// runSessions drives f.n requests from f.conc workers, each reusing a
// session for f.perConn requests, then closes every session.
func runSessions(ctx context.Context, f policyBenchFlags, kind string, open func() (*session, error)) (*bench.Report, error) {
	sessions := make([]*session, f.conc)
	op := func(ctx context.Context, w, i int) (string, []string, error) {
		s := sessions[w]
		if s == nil || s.used >= f.perConn {
			if s != nil {
				s.close()
			}
			var err error
			if s, err = open(); err != nil {
				sessions[w] = nil
				return "", nil, err
			}
			sessions[w] = s
		}
		s.used++
		timer := time.AfterFunc(f.timeout, func() { s.abort() })
		defer timer.Stop()
		verb, err := s.roundTrip(policyRequest(i, f.client))
		if err != nil {
			s.close()
			sessions[w] = nil
		}
		return verb, nil, err
	}
	rep, err := bench.Run(ctx, kind, bench.RunOptions{Workers: f.conc, N: f.n}, op)
	for _, s := range sessions {
		if s != nil {
			s.close()
		}
	}
	return rep, err
}

// abort ends a stuck session: the process is killed or the socket closed.
func (s *session) abort() {
	if s.cmd != nil && s.cmd.Process != nil {
		s.cmd.Process.Kill()
		return
	}
	s.w.Close()
}

// benchSpawn loads a command started once per session, like spawn(8),
// and measures the CPU of all those processes (RUSAGE_CHILDREN).
func benchSpawn(ctx context.Context, f policyBenchFlags, cmdline string) (*bench.Report, float64, error) {
	argv := strings.Fields(cmdline)
	if len(argv) == 0 {
		return nil, 0, errors.New("empty -spawn command")
	}
	open := func() (*session, error) {
		cmd := exec.Command(argv[0], argv[1:]...)
		cmd.Stderr = os.Stderr
		in, err := cmd.StdinPipe()
		if err != nil {
			return nil, err
		}
		out, err := cmd.StdoutPipe()
		if err != nil {
			return nil, err
		}
		if err := cmd.Start(); err != nil {
			return nil, err
		}
		return &session{w: in, br: bufio.NewReader(out), cmd: cmd}, nil
	}
	before := childrenCPU()
	rep, err := runSessions(ctx, f, "spawn", open)
	return rep, childrenCPU() - before, err
}

func childrenCPU() float64 {
	var ru syscall.Rusage
	if syscall.Getrusage(syscall.RUSAGE_CHILDREN, &ru) != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano()).Seconds()
}

// benchConnect loads a policy service over TCP; pid (if known) is sampled
// for its CPU.
func benchConnect(ctx context.Context, f policyBenchFlags, addr string, pid int) (*bench.Report, float64, error) {
	open := func() (*session, error) {
		c, err := net.DialTimeout("tcp", addr, 5*time.Second)
		if err != nil {
			return nil, err
		}
		return &session{w: c, br: bufio.NewReader(c)}, nil
	}
	var before bench.ProcSample
	if pid > 0 {
		var err error
		if before, err = bench.ReadProc(pid); err != nil {
			return nil, 0, err
		}
	}
	rep, err := runSessions(ctx, f, "connect", open)
	if err != nil || pid <= 0 {
		return rep, 0, err
	}
	after, err := bench.ReadProc(pid)
	return rep, after.Sub(before).CPUSeconds, err
}

// startPolicyServer runs "gomilter bench policy-server" as a child, so
// its CPU is measured apart from the load generator's. Closing its stdin
// stops it.
func startPolicyServer(dnsAddr string) (addr string, pid int, stop func(), err error) {
	exe, err := os.Executable()
	if err != nil {
		return "", 0, nil, err
	}
	cmd := exec.Command(exe, "bench", "policy-server", "-dns", dnsAddr)
	cmd.Stderr = os.Stderr
	in, err := cmd.StdinPipe()
	if err != nil {
		return "", 0, nil, err
	}
	out, err := cmd.StdoutPipe()
	if err != nil {
		return "", 0, nil, err
	}
	if err := cmd.Start(); err != nil {
		return "", 0, nil, err
	}
	stop = func() {
		in.Close()
		done := make(chan error, 1)
		go func() { done <- cmd.Wait() }()
		select {
		case <-done:
		case <-time.After(5 * time.Second):
			cmd.Process.Kill()
			<-done
		}
	}
	line, err := bufio.NewReader(out).ReadString('\n')
	addr, ok := strings.CutPrefix(strings.TrimSpace(line), "listening ")
	if err != nil || !ok {
		stop()
		return "", 0, nil, fmt.Errorf("policy-server did not start: %q %v", line, err)
	}
	return addr, cmd.Process.Pid, stop, nil
}

// runPolicyServer is the benchmark's gomilter side: the SPF policy
// handler with defaults, on 127.0.0.1, until stdin closes.
func runPolicyServer(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("bench policy-server", flag.ContinueOnError)
	fs.SetOutput(stderr)
	dnsAddr := fs.String("dns", "", "DNS server (host:port)")
	listen := fs.String("listen", "127.0.0.1:0", "listen address")
	if err := fs.Parse(args); err != nil || *dnsAddr == "" {
		fmt.Fprintln(stderr, "bench policy-server: -dns is required")
		return 2
	}
	srv, l, err := newBenchPolicyServer(*dnsAddr, *listen)
	if err != nil {
		fmt.Fprintln(stderr, "bench policy-server:", err)
		return 1
	}
	fmt.Fprintf(stdout, "listening %s\n", l.Addr())
	go func() {
		io.Copy(io.Discard, os.Stdin)
		srv.Close()
	}()
	go func() {
		<-ctx.Done()
		srv.Close()
	}()
	if err := srv.Serve(l); !errors.Is(err, policy.ErrServerClosed) {
		fmt.Fprintln(stderr, "bench policy-server:", err)
		return 1
	}
	return 0
}

func newBenchPolicyServer(dnsAddr, listen string) (*policy.Server, net.Listener, error) {
	r, err := dns.New(dns.Options{Servers: []string{dnsAddr}})
	if err != nil {
		return nil, nil, err
	}
	c, err := spf.New(spf.Options{Resolver: r, Receiver: "bench.gomilter"})
	if err != nil {
		return nil, nil, err
	}
	h, err := spfpolicy.New(spfpolicy.Options{Checker: c})
	if err != nil {
		return nil, nil, err
	}
	srv, err := policy.NewServer(h, policy.Options{})
	if err != nil {
		return nil, nil, err
	}
	l, err := net.Listen("tcp", listen)
	return srv, l, err
}
