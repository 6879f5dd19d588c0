package main

import (
	"bytes"
	"context"
	"net"
	"os/exec"
	"strings"
	"testing"

	"github.com/gomilter/gomilter/internal/testenv"
	"github.com/gomilter/gomilter/milter/spam"
	"github.com/gomilter/gomilter/milter/spamd"
)

// TestSpamdEngine drives the rule engine through the spamd server with
// Debian's spamc.
func TestSpamdEngine(t *testing.T) {
	bin := testenv.LookPath(t, "spamc")
	eng, warns, err := spam.LoadConf("test.cf", "body TEST_VIAGRA /viagra/i\nscore TEST_VIAGRA 6.5\nrequired_score 5\n", spam.Options{SiteDir: "-"})
	if err != nil {
		t.Fatal(err, warns)
	}
	srv, err := spamd.NewServer(engineScorer{eng}, spamd.Options{})
	if err != nil {
		t.Fatal(err)
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go srv.Serve(l)
	defer srv.Shutdown(context.Background())
	_, port, _ := net.SplitHostPort(l.Addr().String())
	run := func(msg string, args ...string) (string, int) {
		cmd := exec.Command(bin, append([]string{"-d", "127.0.0.1", "-p", port, "--connect-retries=1"}, args...)...)
		cmd.Stdin = strings.NewReader(msg)
		var out bytes.Buffer
		cmd.Stdout = &out
		err := cmd.Run()
		code := 0
		if ee, ok := err.(*exec.ExitError); ok {
			code = ee.ExitCode()
		}
		return out.String(), code
	}
	spamMsg := "From: a@example.com\nSubject: hi\n\nbuy viagra now\n"
	if out, code := run(spamMsg, "-c"); code != 1 || !strings.HasPrefix(out, "6.5/5.0") {
		t.Errorf("spamc -c = %q, exit %d", out, code)
	}
	if out, _ := run(spamMsg, "-y"); !strings.Contains(out, "TEST_VIAGRA") {
		t.Errorf("spamc -y = %q", out)
	}
	out, _ := run(spamMsg)
	if !strings.Contains(out, "X-Spam-Flag: YES") || !strings.HasSuffix(out, "\n\nbuy viagra now\n") {
		t.Errorf("spamc (PROCESS) = %q", out)
	}
	if out, code := run("Subject: hi\n\nlunch\n", "-c"); code != 0 || !strings.HasPrefix(out, "0.0/5.0") {
		t.Errorf("spamc -c ham = %q, exit %d", out, code)
	}
}
