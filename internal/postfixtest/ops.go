package postfixtest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/gomilter/gomilter/internal/testenv"
)

// activeQueues are the queues a message passes through on its way out;
// "hold" is left out on purpose (a held message never leaves by itself).
var activeQueues = []string{"maildrop", "incoming", "active", "deferred"}

// QueueLen counts the messages in the maildrop, incoming, active and
// deferred queues. The hold queue is counted by HoldLen.
func (i *Instance) QueueLen() int {
	n := 0
	for _, q := range activeQueues {
		n += countFiles(filepath.Join(i.queueDir, q))
	}
	return n
}

// HoldLen counts the messages in the hold queue (e.g. quarantined by a
// milter).
func (i *Instance) HoldLen() int { return countFiles(filepath.Join(i.queueDir, "hold")) }

// countFiles counts regular files under dir (queues hash into subdirs).
func countFiles(dir string) int {
	n := 0
	filepath.WalkDir(dir, func(_ string, d os.DirEntry, err error) error {
		if err == nil && d.Type().IsRegular() {
			n++
		}
		return nil
	})
	return n
}

// WaitQueueEmpty waits until no message is on its way (hold excluded),
// asking Postfix once to flush deferred mail if the queue does not drain by
// itself; it fails tb after timeout with the queue listing.
func (i *Instance) WaitQueueEmpty(tb testing.TB, timeout time.Duration) {
	tb.Helper()
	deadline := time.Now().Add(timeout)
	flushAt := time.Now().Add(500 * time.Millisecond)
	flushed := false
	for {
		if i.QueueLen() == 0 {
			return
		}
		if !flushed && time.Now().After(flushAt) {
			flushed = true
			i.Flush(tb)
		}
		if time.Now().After(deadline) {
			tb.Fatalf("postfixtest: queue not empty after %v:\n%s", timeout, i.Postqueue(tb, "-p"))
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// Flush runs "postqueue -f": deliver deferred mail now.
func (i *Instance) Flush(tb testing.TB) {
	tb.Helper()
	if out, err := i.run(i.postqueue, "-c", i.confDir, "-f"); err != nil {
		tb.Fatalf("postfixtest: postqueue -f: %v: %s", err, out)
	}
}

// Postqueue runs "postqueue -c DIR args..." (e.g. "-p", "-j") and returns
// its output.
func (i *Instance) Postqueue(tb testing.TB, args ...string) string {
	tb.Helper()
	out, err := i.run(i.postqueue, append([]string{"-c", i.confDir}, args...)...)
	if err != nil {
		tb.Fatalf("postfixtest: postqueue %v: %v: %s", args, err, out)
	}
	return out
}

// WaitLog waits until a maillog line contains substr and returns the first
// such line; it fails tb after timeout with the log's tail.
func (i *Instance) WaitLog(tb testing.TB, substr string, timeout time.Duration) string {
	tb.Helper()
	deadline := time.Now().Add(timeout)
	for {
		for _, line := range strings.Split(i.Log(), "\n") {
			if strings.Contains(line, substr) {
				return line
			}
		}
		if time.Now().After(deadline) {
			tb.Fatalf("postfixtest: no maillog line with %q after %v; log tail:\n%s", substr, timeout, tail(i.Log(), 40))
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// WaitLogCount waits until at least n maillog lines contain substr and
// returns them all; it fails tb after timeout.
func (i *Instance) WaitLogCount(tb testing.TB, substr string, n int, timeout time.Duration) []string {
	tb.Helper()
	deadline := time.Now().Add(timeout)
	for {
		lines := i.LogLines(substr)
		if len(lines) >= n {
			return lines
		}
		if time.Now().After(deadline) {
			tb.Fatalf("postfixtest: %d maillog line(s) with %q after %v, want %d; log tail:\n%s",
				len(lines), substr, timeout, n, tail(i.Log(), 40))
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// Sendmail submits msg through Postfix's sendmail(1) command (postdrop,
// maildrop queue, pickup), the path non_smtpd_milters apply to. It returns
// sendmail's error with its output.
func (i *Instance) Sendmail(tb testing.TB, from string, to []string, msg []byte) error {
	tb.Helper()
	bin := testenv.LookPath(tb, "sendmail")
	args := append([]string{"-C", i.confDir, "-i", "-f", from, "--"}, to...)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, args...)
	cmd.Env = append(os.Environ(), "MAIL_CONFIG="+i.confDir)
	cmd.Stdin = bytes.NewReader(msg)
	if out, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("sendmail: %w: %s", err, out)
	}
	return nil
}

// SMTPSource runs Postfix's smtp-source(1) load generator against the
// main smtpd: args come first (e.g. "-s", "10", "-m", "1000", "-f",
// "a@example.com", "-t", "b@example.org"), the server address last. It
// returns the combined output and the exit error.
func (i *Instance) SMTPSource(tb testing.TB, args ...string) (string, error) {
	tb.Helper()
	bin := testenv.LookPath(tb, "smtp-source")
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	out, err := exec.CommandContext(ctx, bin, append(args, i.SMTPAddr())...).CombinedOutput()
	return string(out), err
}

// LogLines returns the maillog lines containing substr.
func (i *Instance) LogLines(substr string) []string {
	var out []string
	for _, line := range strings.Split(i.Log(), "\n") {
		if strings.Contains(line, substr) {
			out = append(out, line)
		}
	}
	return out
}

// Postconf runs "postconf -c DIR args..." and returns its output, e.g.
// Postconf(t, "-h", "smtpd_milters") or Postconf(t, "-e", "k=v").
func (i *Instance) Postconf(tb testing.TB, args ...string) string {
	tb.Helper()
	out, err := i.run(i.postconf, append([]string{"-c", i.confDir}, args...)...)
	if err != nil {
		tb.Fatalf("postfixtest: postconf %v: %v: %s", args, err, out)
	}
	// An edit (-e, -X, -M, ...) leaves a fresh mtime that would make the
	// next Postfix command sleep; backdate as writeConfig does.
	for _, f := range []string{"main.cf", "master.cf"} {
		if err := backdateIfFresh(filepath.Join(i.confDir, f)); err != nil {
			tb.Fatalf("postfixtest: %v", err)
		}
	}
	return out
}

func backdateIfFresh(path string) error {
	st, err := os.Stat(path)
	if err != nil {
		return err
	}
	if time.Since(st.ModTime()) > 5*time.Second {
		return nil
	}
	old := time.Now().Add(-10 * time.Second)
	return os.Chtimes(path, old, old)
}

// Reload runs "postfix reload": new main.cf/master.cf settings take effect
// for new processes.
func (i *Instance) Reload(tb testing.TB) {
	tb.Helper()
	if out, err := i.run(i.postfix, "-c", i.confDir, "reload"); err != nil {
		tb.Fatalf("postfixtest: postfix reload: %v: %s", err, out)
	}
}

// Swaks runs swaks against the main smtpd: "--server SMTPAddr" comes first,
// so args may name another server (a later --server wins in swaks).
// It returns swaks' combined output and its error (non-zero exit when the
// transaction failed), for the test to judge.
func (i *Instance) Swaks(tb testing.TB, args ...string) (string, error) {
	tb.Helper()
	swaks := testenv.LookPath(tb, "swaks")
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	all := append([]string{"--server", i.SMTPAddr(), "--helo", ClientHelo}, args...)
	out, err := exec.CommandContext(ctx, swaks, all...).CombinedOutput()
	if errors.Is(ctx.Err(), context.DeadlineExceeded) {
		tb.Fatalf("postfixtest: swaks %v timed out", args)
	}
	return string(out), err
}
