package main

import (
	"bytes"
	"context"
	"io"
	"mime"
	"mime/multipart"
	"net"
	"net/mail"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/gomilter/gomilter/internal/testenv"
	"github.com/gomilter/gomilter/milter/spam"
	"github.com/gomilter/gomilter/milter/spamd"
)

// TestSpamdEngine drives the rule engine through the spamd server with
// Debian's spamc.
func TestSpamdEngine(t *testing.T) {
	eng, warns, err := spam.LoadConf("test.cf", "body TEST_VIAGRA /viagra/i\nscore TEST_VIAGRA 6.5\nrequired_score 5\nreport_safe 0\n", spam.Options{SiteDir: "-"})
	if err != nil {
		t.Fatal(err, warns)
	}
	run := startEngineSpamd(t, eng)
	spamMsg := "From: a@example.com\nSubject: hi\n\nbuy viagra now\n"
	if out, code := run(spamMsg, "-c"); code != 1 || !strings.HasPrefix(out, "6.5/5.0") {
		t.Errorf("spamc -c = %q, exit %d", out, code)
	}
	if out, _ := run(spamMsg, "-y"); !strings.Contains(out, "TEST_VIAGRA") {
		t.Errorf("spamc -y = %q", out)
	}
	out, _ := run(spamMsg)
	if !strings.Contains(out, "X-Spam-Flag: YES") || !strings.Contains(out, "X-Spam-Report:") || !strings.HasSuffix(out, "\n\nbuy viagra now\n") {
		t.Errorf("spamc (PROCESS) = %q", out)
	}
	if out, code := run("Subject: hi\n\nlunch\n", "-c"); code != 0 || !strings.HasPrefix(out, "0.0/5.0") {
		t.Errorf("spamc -c ham = %q, exit %d", out, code)
	}
}

// TestSpamdEngineReportSafe: with report_safe 1 (SpamAssassin's default)
// spamc gets spam back wrapped, the report first and the original
// attached as message/rfc822; spamc -R gets the report text.
func TestSpamdEngineReportSafe(t *testing.T) {
	eng, warns, err := spam.LoadConf("test.cf", "body TEST_VIAGRA /viagra/i\nscore TEST_VIAGRA 6.5\n"+
		"report Spam on _HOSTNAME_: _SCORE_ points.\nreport _SUMMARY_\n", spam.Options{SiteDir: "-", Hostname: "mx.example"})
	if err != nil {
		t.Fatal(err, warns)
	}
	run := startEngineSpamd(t, eng)
	spamMsg := "From: a@example.com\nSubject: hi\n\nbuy viagra now\n"
	out, code := run(spamMsg)
	m, err := mail.ReadMessage(strings.NewReader(out))
	if code != 0 || err != nil {
		t.Fatalf("spamc (PROCESS) = %q, exit %d: %v", out, code, err)
	}
	mt, params, _ := mime.ParseMediaType(m.Header.Get("Content-Type"))
	if mt != "multipart/mixed" || m.Header.Get("X-Spam-Flag") != "YES" || m.Header.Get("From") != "a@example.com" {
		t.Fatalf("spamc (PROCESS) headers: %v", m.Header)
	}
	mr := multipart.NewReader(m.Body, params["boundary"])
	var parts []string
	for {
		p, err := mr.NextRawPart()
		if err != nil {
			break
		}
		b, _ := io.ReadAll(p)
		parts = append(parts, p.Header.Get("Content-Type")+"\n"+string(b))
	}
	if len(parts) != 2 || !strings.Contains(parts[0], "Spam on mx.example: 6.5 points.") ||
		parts[1] != "message/rfc822; x-spam-type=original\n"+spamMsg {
		t.Errorf("parts = %q", parts)
	}
	if out, _ := run(spamMsg, "-R"); !strings.Contains(out, "Spam on mx.example: 6.5 points.") || !strings.Contains(out, "TEST_VIAGRA") {
		t.Errorf("spamc -R = %q", out)
	}
	if out, _ := run("Subject: hi\n\nlunch\n"); strings.Contains(out, "multipart") {
		t.Errorf("ham was wrapped: %q", out)
	}
}

// startEngineSpamd serves eng on a loopback port and returns a function
// that runs Debian's spamc against it.
func startEngineSpamd(t *testing.T, eng *spam.Engine) func(msg string, args ...string) (string, int) {
	t.Helper()
	bin := testenv.LookPath(t, "spamc")
	srv, err := spamd.NewServer(engineScorer{eng}, spamd.Options{})
	if err != nil {
		t.Fatal(err)
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go srv.Serve(l)
	t.Cleanup(func() { srv.Shutdown(context.Background()) })
	_, port, _ := net.SplitHostPort(l.Addr().String())
	return func(msg string, args ...string) (string, int) {
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
}

// TestSpamdEngineTell learns through spamc -L into the engine's Bayes
// database.
func TestSpamdEngineTell(t *testing.T) {
	bin := testenv.LookPath(t, "spamc")
	db := filepath.Join(t.TempDir(), "bayes.db")
	eng, warns, err := spam.LoadConf("test.cf", "body TEST_VIAGRA /viagra/i\nscore TEST_VIAGRA 6.5\n", spam.Options{SiteDir: "-", BayesPath: db})
	if err != nil {
		t.Fatal(err, warns)
	}
	defer eng.Close()
	srv, err := spamd.NewServer(engineScorer{eng}, spamd.Options{AllowTell: true, Learner: engineLearner{eng}})
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
	msg := "Message-ID: <x1@example.com>\nSubject: hi\n\nbuy viagra now\n"
	for i, want := range []string{"Message successfully un/learned\n", "Message was already un/learned\n"} {
		cmd := exec.Command(bin, "-d", "127.0.0.1", "-p", port, "--connect-retries=1", "-L", "spam")
		cmd.Stdin = strings.NewReader(msg)
		out, _ := cmd.Output()
		if string(out) != want {
			t.Errorf("spamc -L spam #%d = %q, want %q", i+1, out, want)
		}
	}
	if s, h := eng.BayesCounts(); s != 1 || h != 0 {
		t.Errorf("BayesCounts = %d, %d; want 1, 0", s, h)
	}
}
