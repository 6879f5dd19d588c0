package dovecotauth

import (
	"github.com/gomilter/gomilter/internal/testenv"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/gomilter/gomilter/internal/postfixtest"
	"github.com/gomilter/gomilter/internal/userdb"
	"github.com/gomilter/gomilter/internal/userdb/userdbtest"
)

// TestRealPostfixSASL runs a private Postfix whose submission smtpd uses us
// (smtpd_sasl_type = dovecot) over a PostfixAdmin database on the machine's
// MariaDB, reached through a proxy the test cuts to simulate an outage.
func TestRealPostfixSASL(t *testing.T) {
	testenv.SkipShort(t, "starts Postfix")
	db := userdbtest.NewPostfixAdmin(t)
	proxy := userdbtest.NewProxy(t, userdbtest.MySQLAddr)
	conf, err := userdb.ParseSQLConfig(strings.NewReader(db.SQLConf(proxy.Addr())))
	if err != nil {
		t.Fatal(err)
	}
	store, err := userdb.OpenSQL(conf, userdb.SQLOptions{DialTimeout: time.Second, QueryTimeout: 2 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	srv, err := NewServer(store, Options{FailureDelay: 100 * time.Millisecond,
		PenaltyInit: 50 * time.Millisecond, PenaltyMax: 200 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go srv.Serve(l)
	defer srv.Close()

	inst := postfixtest.Start(t, postfixtest.Options{
		Submission: true, NoLocalNetworks: true,
		MainCF: map[string]string{
			"smtpd_sasl_type": "dovecot",
			"smtpd_sasl_path": "inet:" + l.Addr().String(),
		},
	})
	swaks := func(mech, user, pass string) string {
		out, _ := inst.Swaks(t, "--server", inst.SubmissionAddr(), "--auth", mech,
			"--auth-user", user, "--auth-password", pass,
			"--from", user, "--to", "rcpt@remote.example", "--timeout", "30")
		return out
	}
	for _, mech := range []string{"PLAIN", "LOGIN"} {
		out := swaks(mech, "alice@example.org", "alice-pw")
		if !strings.Contains(out, "<-  235 ") || !strings.Contains(out, "<-  250 2.0.0 Ok: queued") {
			t.Errorf("%s good password (bare $1$ md5crypt): want 235 and queued:\n%s", mech, out)
		}
	}
	if out := swaks("PLAIN", "BOB@example.org", "bob-pw"); !strings.Contains(out, "<-  235 ") {
		t.Errorf("bob (SHA512-CRYPT, typed upper case): want 235:\n%s", out)
	}
	for _, c := range []struct{ user, pass, what string }{
		{"alice@example.org", "wrong", "bad password"},
		{"off@example.org", "off-pw", "inactive mailbox"},
		{"zed@dead.example", "zed-pw", "inactive domain"},
		{"nobody@example.org", "x", "unknown user"},
	} {
		out := swaks("LOGIN", c.user, c.pass)
		if !strings.Contains(out, "<** 535 5.7.8") {
			t.Errorf("%s: want 535:\n%s", c.what, out)
		}
	}
	inst.WaitQueueEmpty(t, 30*time.Second)
	if n := len(inst.Sink().Messages()); n != 3 {
		t.Errorf("sink got %d messages, want 3 (authenticated relays)", n)
	}
	// Database slow, then unreachable, for gomilter only: Postfix must
	// answer 454, never 235 or 535.
	for _, phase := range []struct {
		name string
		do   func()
	}{{"slow", proxy.Stall}, {"down", proxy.Stop}} {
		phase.do()
		for _, mech := range []string{"PLAIN", "LOGIN"} {
			t0 := time.Now()
			out := swaks(mech, "bob@example.org", "bob-pw")
			if !strings.Contains(out, "<** 454 4.7.0") || strings.Contains(out, " 235 ") || strings.Contains(out, " 535 ") {
				t.Errorf("%s with database %s: want 454 only:\n%s", mech, phase.name, out)
			}
			t.Logf("database %s, %s: 454 after %v", phase.name, mech, time.Since(t0).Round(time.Millisecond))
		}
	}
}

// TestRealPostfixUnixSocket checks the usual deployment: smtpd_sasl_path
// names a unix socket (here an absolute path; Postfix runs unchrooted).
func TestRealPostfixUnixSocket(t *testing.T) {
	testenv.SkipShort(t, "starts Postfix")
	srv, err := NewServer(newMem(t), Options{FailureDelay: 50 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	dir, err := os.MkdirTemp("", "gomilter-auth-sock")
	if err != nil {
		t.Fatal(err)
	}
	defer os.RemoveAll(dir)
	os.Chmod(dir, 0o755) // the postfix user must reach the socket
	sock := filepath.Join(dir, "auth")
	l, err := net.Listen("unix", sock)
	if err != nil {
		t.Fatal(err)
	}
	os.Chmod(sock, 0o666)
	go srv.Serve(l)
	defer srv.Close()
	inst := postfixtest.Start(t, postfixtest.Options{
		Submission: true, NoLocalNetworks: true,
		MainCF: map[string]string{"smtpd_sasl_type": "dovecot", "smtpd_sasl_path": sock},
	})
	for pw, want := range map[string]string{"bobpw": "<-  235 ", "nope": "<** 535 5.7.8"} {
		out, _ := inst.Swaks(t, "--server", inst.SubmissionAddr(), "--auth", "PLAIN",
			"--auth-user", "bob@example.org", "--auth-password", pw, "--quit-after", "AUTH")
		if !strings.Contains(out, want) {
			t.Errorf("password %q: want %q:\n%s", pw, want, out)
		}
	}
}
