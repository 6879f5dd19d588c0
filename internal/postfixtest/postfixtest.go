package postfixtest

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gomilter/gomilter/internal/smtpsink"
	"github.com/gomilter/gomilter/internal/testenv"
)

// Sink is the in-process SMTP server Postfix relays to.
type Sink = smtpsink.Sink

// SinkMessage is one message the sink accepted (envelope + raw data).
type SinkMessage = smtpsink.Message

// Options configures a private instance. The zero value is a relay that
// accepts mail from 127.0.0.0/8 for any domain and hands it to the sink.
type Options struct {
	// MainCF holds main.cf settings; they override the harness defaults
	// (e.g. smtpd_milters, non_smtpd_milters, milter_protocol,
	// milter_default_action, smtpd_recipient_restrictions, smtpd_sasl_*,
	// virtual_transport, transport_maps, mynetworks).
	MainCF map[string]string
	// MasterCF holds extra master.cf lines appended verbatim (a service
	// line and its "  -o ..." continuation lines).
	MasterCF []string
	// Submission adds a second smtpd on another free port (SubmissionAddr)
	// with SASL enabled, smtpd_tls_auth_only=no, relaying only for
	// authenticated clients and milter_macro_daemon_name=ORIGINATING. The
	// test provides smtpd_sasl_type/smtpd_sasl_path in MainCF.
	Submission bool
	// SubmissionOverrides are extra "name=value" -o settings for the
	// submission service.
	SubmissionOverrides []string
	// SMTPOverrides are "name=value" -o settings for the main smtpd only
	// (e.g. "smtpd_milters=inet:127.0.0.1:1234", or "syslog_name=...").
	SMTPOverrides []string
	// NoLocalNetworks sets mynetworks to a network that does not contain
	// 127.0.0.1, so a client on loopback is not trusted and must
	// authenticate to relay (submission/auth tests).
	NoLocalNetworks bool
	// VirtualDomains become virtual_mailbox_domains: mail for them goes to
	// virtual_transport (set it in MainCF, e.g. "lmtp:inet:127.0.0.1:PORT")
	// instead of the relay sink. Without virtual_mailbox_maps every
	// recipient in these domains is accepted.
	VirtualDomains []string
	// Hostname is myhostname. Default "mx.test.example".
	Hostname string
	// SinkOptions configures the relay sink.
	SinkOptions smtpsink.Options
	// StartTimeout bounds start-up. Default 20s.
	StartTimeout time.Duration
}

// Instance is a running private Postfix. Its methods that take a testing.TB
// fail that test on harness errors; SMTP errors are returned.
type Instance struct {
	tb        testing.TB
	opts      Options
	base      string // instance root (0755), removed on Stop
	confDir   string
	queueDir  string
	dataDir   string
	logFile   string
	smtpPort  int
	subPort   int
	sink      *Sink
	postfix   string
	postqueue string
	postconf  string
	stopOnce  sync.Once
	masterPID int
	startTook time.Duration
}

// Start runs a private Postfix and its relay sink. It fails tb on error and
// registers Stop with tb.Cleanup.
func Start(tb testing.TB, opts Options) *Instance {
	tb.Helper()
	if os.Geteuid() != 0 {
		// Queue and data directories must be chowned to postfix.
		testenv.Missing(tb, "postfixtest needs root (euid %d)", os.Geteuid())
	}
	inst := &Instance{
		tb:        tb,
		opts:      opts,
		postfix:   testenv.LookPath(tb, "postfix"),
		postqueue: testenv.LookPath(tb, "postqueue"),
		postconf:  testenv.LookPath(tb, "postconf"),
	}
	if inst.opts.Hostname == "" {
		inst.opts.Hostname = "mx.test.example"
	}
	if inst.opts.StartTimeout <= 0 {
		inst.opts.StartTimeout = 20 * time.Second
	}
	sink, err := smtpsink.New(opts.SinkOptions)
	if err != nil {
		tb.Fatalf("postfixtest: %v", err)
	}
	inst.sink = sink
	reapOrphans()
	tb.Cleanup(inst.Stop)
	if err := inst.makeDirs(); err != nil {
		tb.Fatalf("postfixtest: %v", err)
	}
	began := time.Now()
	if err := inst.startWithRetry(); err != nil {
		tb.Fatalf("postfixtest: %v\nlog:\n%s", err, inst.Log())
	}
	inst.startTook = time.Since(began)
	return inst
}

// makeDirs creates the instance tree under os.TempDir(), mode 0755 all the
// way down so the postfix user can reach its sockets and lock files.
func (i *Instance) makeDirs() error {
	base, err := os.MkdirTemp("", "pftest-")
	if err != nil {
		return err
	}
	i.base = base
	if err := os.Chmod(base, 0o755); err != nil {
		return err
	}
	if err := writeOwner(base); err != nil {
		return err
	}
	if err := ensureTraversable(filepath.Dir(base)); err != nil {
		return err
	}
	i.confDir = filepath.Join(base, "etc")
	i.queueDir = filepath.Join(base, "spool")
	i.dataDir = filepath.Join(base, "lib")
	i.logFile = filepath.Join(base, "maillog")
	for _, d := range []string{i.confDir, i.queueDir} {
		if err := os.Mkdir(d, 0o755); err != nil {
			return err
		}
	}
	if err := os.Mkdir(i.dataDir, 0o700); err != nil {
		return err
	}
	return chownPostfix(i.dataDir)
}

// ensureTraversable makes sure every directory from dir up to / lets
// others search it (x bit): the postfix user must reach the instance.
func ensureTraversable(dir string) error {
	for d := dir; ; d = filepath.Dir(d) {
		st, err := os.Stat(d)
		if err != nil {
			return err
		}
		if st.Mode().Perm()&0o001 == 0 {
			if err := os.Chmod(d, st.Mode().Perm()|0o011); err != nil {
				return err
			}
		}
		if d == filepath.Dir(d) {
			return nil
		}
	}
}

// startWithRetry picks free ports, writes the config and starts Postfix;
// a port grabbed by someone else between our probe and master's bind makes
// the start fail, and we try again with new ports.
func (i *Instance) startWithRetry() error {
	var err error
	for attempt := 0; attempt < 5; attempt++ {
		if err = i.pickPorts(); err != nil {
			return err
		}
		if testPortOverride != nil {
			if p := testPortOverride(attempt); p != 0 {
				i.smtpPort = p
			}
		}
		if err = i.writeConfig(); err != nil {
			return err
		}
		if err = i.start(); err == nil {
			return nil
		}
		if !strings.Contains(err.Error()+i.Log(), "in use") {
			return err
		}
		i.stopProcesses()
	}
	return err
}

// testPortOverride lets a test force a busy port on some attempt, to
// exercise the retry. Nil outside that test.
var testPortOverride func(attempt int) int

func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

func (i *Instance) pickPorts() error {
	var err error
	if i.smtpPort, err = freePort(); err != nil {
		return err
	}
	if i.opts.Submission {
		for i.subPort == 0 || i.subPort == i.smtpPort {
			if i.subPort, err = freePort(); err != nil {
				return err
			}
		}
	}
	return nil
}

// start creates the queue tree, runs "postfix start" and then waits for
// the smtpd ports to answer.
func (i *Instance) start() error {
	if err := i.makeQueueDirs(); err != nil {
		return fmt.Errorf("queue directories: %w", err)
	}
	if out, err := i.run(i.postfix, "-c", i.confDir, "start"); err != nil {
		if strings.TrimSpace(out) == "" {
			out = i.startDiagnostics()
		}
		return fmt.Errorf("postfix start: %v: %s", err, out)
	}
	i.masterPID = i.readMasterPID()
	deadline := time.Now().Add(i.opts.StartTimeout)
	for _, addr := range i.listenAddrs() {
		if err := waitListening(addr, deadline); err != nil {
			return err
		}
	}
	return nil
}

func (i *Instance) listenAddrs() []string {
	addrs := []string{i.SMTPAddr()}
	if i.subPort != 0 {
		addrs = append(addrs, i.SubmissionAddr())
	}
	return addrs
}

// waitListening polls /proc/net/tcp until addr is in LISTEN state.
// master binds inet services itself before "postfix start" returns, and
// spawns smtpd on the first connection; probing with a real connection
// would start an SMTP session (and a milter connect, and log lines) that a
// test did not ask for, so we look without touching.
func waitListening(addr string, deadline time.Time) error {
	ap, err := netip.ParseAddrPort(addr)
	if err != nil {
		return err
	}
	ip := ap.Addr().As4()
	// /proc/net/tcp prints the address as a little-endian hex u32.
	want := fmt.Sprintf("%02X%02X%02X%02X:%04X", ip[3], ip[2], ip[1], ip[0], ap.Port())
	for {
		b, err := os.ReadFile("/proc/net/tcp")
		if err != nil {
			return err
		}
		for _, line := range strings.Split(string(b), "\n") {
			f := strings.Fields(line)
			// f[1] local address, f[3] state; 0A is TCP_LISTEN.
			if len(f) > 3 && f[1] == want && f[3] == "0A" {
				return nil
			}
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("nothing listens on %s", addr)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// run runs a Postfix command and returns its combined output. The output
// goes to a file, not a pipe: "postfix start" leaves the daemonized master
// holding the pipe for seconds, and CombinedOutput would wait for it.
func (i *Instance) run(name string, args ...string) (string, error) {
	f, err := os.CreateTemp("", "pftest-out-")
	if err != nil {
		return "", err
	}
	defer os.Remove(f.Name())
	defer f.Close()
	// No Postfix command we run takes long; a hung one must not hang the
	// test binary until its global timeout.
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, name, args...)
	cmd.Env = append(os.Environ(), "MAIL_CONFIG="+i.confDir)
	cmd.Stdout, cmd.Stderr = f, f
	err = cmd.Run()
	out, _ := os.ReadFile(f.Name())
	return string(out), err
}

func (i *Instance) readMasterPID() int {
	b, err := os.ReadFile(filepath.Join(i.queueDir, "pid", "master.pid"))
	if err != nil {
		return 0
	}
	pid, _ := strconv.Atoi(strings.TrimSpace(string(b)))
	return pid
}

// SocketDir returns a new directory, mode 0755 with every parent
// searchable, for unix sockets and files Postfix daemons (user postfix)
// must reach: t.TempDir() is 0700 and they cannot. Removed on cleanup.
func SocketDir(tb testing.TB) string {
	tb.Helper()
	dir, err := os.MkdirTemp("", "pfsock-")
	if err == nil {
		err = os.Chmod(dir, 0o755)
	}
	if err == nil {
		err = ensureTraversable(filepath.Dir(dir))
	}
	if err != nil {
		tb.Fatalf("postfixtest: %v", err)
	}
	tb.Cleanup(func() { os.RemoveAll(dir) })
	return dir
}

// startDiagnostics explains a failed start. Errors found before postlogd
// runs (a bad main.cf value, say) are printed only when stderr is a
// terminal, and there is no syslog: so run "postfix start" once more under
// script(1), which gives it a pseudo-terminal. The start is expected to
// fail again; if it succeeds, Stop still cleans up.
func (i *Instance) startDiagnostics() string {
	script, err := exec.LookPath("script")
	if err != nil {
		return "(no output; script(1) not found for a terminal rerun)"
	}
	// The failed start consumed quick-start; without it the rerun would
	// spend seconds in postfix-script's checks.
	os.WriteFile(filepath.Join(i.queueDir, "quick-start"), nil, 0o644)
	out, _ := i.run(script, "-qec", i.postfix+" -c "+i.confDir+" start", "/dev/null")
	if strings.TrimSpace(out) == "" {
		return "(no output, even on a terminal)"
	}
	return "(rerun on a terminal:) " + strings.TrimSpace(out)
}

// SMTPAddr is the main smtpd's "127.0.0.1:port".
func (i *Instance) SMTPAddr() string { return net.JoinHostPort("127.0.0.1", strconv.Itoa(i.smtpPort)) }

// SubmissionAddr is the submission smtpd's address, "" without
// Options.Submission.
func (i *Instance) SubmissionAddr() string {
	if i.subPort == 0 {
		return ""
	}
	return net.JoinHostPort("127.0.0.1", strconv.Itoa(i.subPort))
}

// Dir is the instance's config_directory (main.cf, master.cf).
func (i *Instance) Dir() string { return i.confDir }

// BaseDir is the root of the instance tree (0755, removed on Stop); tests
// may put sockets and maps there.
func (i *Instance) BaseDir() string { return i.base }

// QueueDir is the instance's queue_directory.
func (i *Instance) QueueDir() string { return i.queueDir }

// Sink is the SMTP sink Postfix relays every message to.
func (i *Instance) Sink() *Sink { return i.sink }

// StartDuration is how long Start took to get smtpd answering.
func (i *Instance) StartDuration() time.Duration { return i.startTook }

// Log returns the maillog contents so far ("" if none yet).
func (i *Instance) Log() string {
	b, err := os.ReadFile(i.logFile)
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		return fmt.Sprintf("(reading %s: %v)", i.logFile, err)
	}
	return string(b)
}
