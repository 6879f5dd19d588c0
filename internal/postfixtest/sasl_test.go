package postfixtest

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/gomilter/gomilter/internal/testenv"
)

// startDovecotAuth runs an auth-only private Dovecot whose auth socket
// Postfix uses for SMTP AUTH (smtpd_sasl_type = dovecot). It stands in
// for our own dovecotauth daemon here, to prove the Submission wiring.
func startDovecotAuth(t *testing.T, dir, user, pass string) (socket string) {
	t.Helper()
	bin := testenv.LookPath(t, "dovecot")
	d := filepath.Join(dir, "dovecot")
	for _, sub := range []string{"run", "state"} {
		if err := os.MkdirAll(filepath.Join(d, sub), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	socket = filepath.Join(d, "auth-client")
	conf := fmt.Sprintf(`instance_name = %[1]s
base_dir = %[1]s/run
state_dir = %[1]s/state
log_path = %[1]s/dovecot.log
protocols =
listen = 127.0.0.1
ssl = no
disable_plaintext_auth = no
auth_mechanisms = plain login
auth_failure_delay = 0
passdb {
  driver = passwd-file
  args = scheme=PLAIN %[1]s/passwd
}
userdb {
  driver = static
  args = uid=65534 gid=65534 home=/nonexistent
}
service auth {
  unix_listener %[2]s {
    mode = 0666
  }
}
`, d, socket)
	confFile := filepath.Join(d, "dovecot.conf")
	if err := os.WriteFile(confFile, []byte(conf), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(d, "passwd"), []byte(user+":{PLAIN}"+pass+"::::::\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	// Like "postfix start", dovecot daemonizes with our stdout: no pipe,
	// or Wait blocks until the daemon exits.
	out, err := os.Create(filepath.Join(d, "start.out"))
	if err != nil {
		t.Fatal(err)
	}
	defer out.Close()
	cmd := exec.Command(bin, "-c", confFile)
	cmd.Stdout, cmd.Stderr = out, out
	if err := cmd.Run(); err != nil {
		b, _ := os.ReadFile(out.Name())
		t.Fatalf("dovecot: %v: %s", err, b)
	}
	t.Cleanup(func() { stopDovecot(t, filepath.Join(d, "run", "master.pid")) })
	deadline := time.Now().Add(10 * time.Second)
	for {
		if _, err := os.Stat(socket); err == nil {
			return socket
		}
		if time.Now().After(deadline) {
			log, _ := os.ReadFile(filepath.Join(d, "dovecot.log"))
			t.Fatalf("dovecot auth socket %s did not appear:\n%s", socket, log)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func stopDovecot(t *testing.T, pidFile string) {
	b, err := os.ReadFile(pidFile)
	if err != nil {
		t.Errorf("dovecot pid: %v", err)
		return
	}
	pid, _ := strconv.Atoi(strings.TrimSpace(string(b)))
	if pid <= 0 {
		return
	}
	syscall.Kill(pid, syscall.SIGTERM)
	for range 300 {
		if st, _, ok := procStat(pid); !ok || st == 'Z' {
			return
		}
		time.Sleep(10 * time.Millisecond)
	}
	t.Errorf("dovecot master %d did not exit", pid)
}

// TestSubmissionAuth: with NoLocalNetworks, port 25 refuses to relay for
// a loopback client, and the submission port relays only after AUTH.
func TestSubmissionAuth(t *testing.T) {
	dir, err := os.MkdirTemp("", "pftest-dovecot-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	os.Chmod(dir, 0o755)
	// Should this binary be killed, the next one's reapOrphans finds the
	// Dovecot processes by their cwd in dir and ends them.
	if err := writeOwner(dir); err != nil {
		t.Fatal(err)
	}
	sock := startDovecotAuth(t, dir, "alice@example.com", "s3cret")
	inst := Start(t, Options{
		NoLocalNetworks: true,
		Submission:      true,
		MainCF: map[string]string{
			"smtpd_sasl_type": "dovecot",
			"smtpd_sasl_path": sock,
		},
	})
	msg := testMsg("submission")
	to := []string{"b@example.org"}
	if err := inst.Send(t, "alice@example.com", to, msg); Code(err) != 554 || !strings.Contains(err.Error(), "Relay access denied") {
		t.Errorf("unauthenticated relay on port 25: %v, want 554 Relay access denied", err)
	}
	for _, mech := range []string{"PLAIN", "LOGIN"} {
		if err := inst.SendAuth(t, inst.SubmissionAddr(), "alice@example.com", "s3cret", mech, "alice@example.com", to, msg); err != nil {
			t.Errorf("AUTH %s: %v", mech, err)
		}
	}
	// Last: Dovecot's auth penalty delays every later AUTH from this IP.
	err = inst.SendAuth(t, inst.SubmissionAddr(), "alice@example.com", "wrong", "PLAIN", "alice@example.com", to, msg)
	if Code(err) != 535 {
		t.Errorf("wrong password: %v, want 535", err)
	}
	msgs := inst.Sink().WaitMessages(t, 2, 20*time.Second)
	if msgs[0].From != "alice@example.com" {
		t.Errorf("sink MAIL FROM %q", msgs[0].From)
	}
	line := inst.WaitLog(t, "sasl_username=alice@example.com", 5*time.Second)
	if !strings.Contains(line, "postfix/submission/smtpd") {
		t.Errorf("submission log line %q", line)
	}
}
