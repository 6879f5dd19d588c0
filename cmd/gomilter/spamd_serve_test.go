package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/gomilter/gomilter/internal/milterclient"
	"github.com/gomilter/gomilter/internal/testenv"
	"github.com/gomilter/gomilter/milter"
	"github.com/prometheus/client_golang/prometheus/testutil/promlint"
)

const (
	spamdSpam = "From: a@example.com\nSubject: hi\nMessage-ID: <s1@example.com>\n\nbuy viagra now\n"
	spamdHam  = "From: a@example.com\nSubject: lunch\n\nat noon?\n"
)

// spamdRules writes a one-rule SpamAssassin rule directory (the real
// distribution rules take seconds to load under -race and their scores
// move between releases) and returns it.
func spamdRules(t *testing.T, dir string) string {
	t.Helper()
	rules := filepath.Join(dir, "rules")
	os.MkdirAll(rules, 0o755)
	cf := "body TEST_VIAGRA /viagra/i\ndescribe TEST_VIAGRA Talks about viagra\nscore TEST_VIAGRA 6.5\nrequired_score 5\n"
	if err := os.WriteFile(filepath.Join(rules, "10_test.cf"), []byte(cf), 0o644); err != nil {
		t.Fatal(err)
	}
	return rules
}

// spamcRunner runs Debian's spamc against one spamd address (-d/-p or
// -U) and returns its stdout and exit code.
func spamcRunner(t *testing.T, conn ...string) func(msg string, args ...string) (string, int) {
	t.Helper()
	bin := testenv.LookPath(t, "spamc")
	return func(msg string, args ...string) (string, int) {
		t.Helper()
		cmd := exec.Command(bin, append(append(conn, "--connect-retries=1"), args...)...)
		cmd.Stdin = strings.NewReader(msg)
		var out bytes.Buffer
		cmd.Stdout = &out
		err := cmd.Run()
		var ee *exec.ExitError
		if errors.As(err, &ee) {
			return out.String(), ee.ExitCode()
		} else if err != nil {
			t.Fatalf("spamc %v: %v", args, err)
		}
		return out.String(), 0
	}
}

func inetSpamc(t *testing.T, addr string) func(msg string, args ...string) (string, int) {
	host, port, _ := net.SplitHostPort(addr)
	return spamcRunner(t, "-d", host, "-p", port)
}

// spamdConfig is a serve config with only what the spamd tests vary.
func spamdConfig(dir, httpAddr, rules, spamExtra, spamdExtra string) string {
	return fmt.Sprintf("http:\n  listen: %s\nstate_dir: %s\nmilter:\n  spam:\n    rule_dirs: [%s]\n    site_dir: \"-\"\n%sspamd:\n  enabled: true\n%s",
		httpAddr, dir, rules, spamExtra, spamdExtra)
}

// TestServeSpamd: `serve -only spamd` answers Debian's spamc for CHECK,
// SYMBOLS, PROCESS, and exposes the spamd metrics.
func TestServeSpamd(t *testing.T) {
	testenv.SkipShort(t, "starts serve and spamc")
	dir := t.TempDir()
	httpAddr, spamdAddr := freeAddr(t), freeAddr(t)
	cfgPath := filepath.Join(dir, "g.yaml")
	os.WriteFile(cfgPath, []byte(spamdConfig(dir, httpAddr, spamdRules(t, dir), "", "  listen: inet:"+spamdAddr+"\n")), 0o600)
	spamc := inetSpamc(t, spamdAddr)
	d := startDaemon(t, dir, nil, "-config", cfgPath, "-only", "spamd")
	d.waitLog(t, "piece=http")

	if out, code := spamc(spamdSpam, "-c"); out != "6.5/5.0\n" || code != 1 {
		t.Errorf("spamc -c (spam) = %q, exit %d; want 6.5/5.0, exit 1", out, code)
	}
	if out, code := spamc(spamdHam, "-c"); out != "0.0/5.0\n" || code != 0 {
		t.Errorf("spamc -c (ham) = %q, exit %d; want 0.0/5.0, exit 0", out, code)
	}
	if out, _ := spamc(spamdSpam, "-y"); out != "TEST_VIAGRA" {
		t.Errorf("spamc -y = %q, want TEST_VIAGRA", out)
	}
	out, _ := spamc(spamdSpam)
	if !strings.Contains(out, "X-Spam-Flag: YES\n") || !strings.Contains(out, "X-Spam-Status: Yes, score=6.5") ||
		// report_safe 1 (SpamAssassin's default): the original rides along
		// as a message/rfc822 attachment of the report.
		!strings.Contains(out, "Content-Type: message/rfc822") || !strings.Contains(out, "\n\nbuy viagra now\n") {
		t.Errorf("spamc (PROCESS) = %q", out)
	}

	_, metrics := httpGet(t, "http://"+httpAddr+"/metrics")
	for _, want := range []string{`gomilter_spamd_requests_total{code="0",command="CHECK"} 2`,
		`gomilter_spamd_verdicts_total{result="spam"} 3`, "gomilter_spamd_denied_connections_total 0", "gomilter_spam_checks_total"} {
		if !strings.Contains(metrics, want) {
			t.Errorf("/metrics lacks %q", want)
		}
	}
	problems, err := promlint.New(strings.NewReader(metrics)).Lint()
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range problems {
		if strings.HasPrefix(p.Metric, "gomilter_spamd") {
			t.Errorf("promlint: %s: %s", p.Metric, p.Text)
		}
	}
	d.stop(t)
}

// TestServeSpamdReload: SIGHUP gives new connections the new engine
// (a changed local_cf reloads the rules) and the new allow_tell and
// allowed_networks; SIGTERM still exits 0.
func TestServeSpamdReload(t *testing.T) {
	testenv.SkipShort(t, "starts serve and spamc")
	dir := t.TempDir()
	httpAddr, spamdAddr := freeAddr(t), freeAddr(t)
	rules := spamdRules(t, dir)
	local := filepath.Join(dir, "local.cf")
	os.WriteFile(local, []byte("score TEST_VIAGRA 2.0\n"), 0o644)
	cfgPath := filepath.Join(dir, "g.yaml")
	bayes := "    bayes_path: " + filepath.Join(dir, "bayes.db") + "\n"
	listen := "  listen: inet:" + spamdAddr + "\n"
	os.WriteFile(cfgPath, []byte(spamdConfig(dir, httpAddr, rules, bayes, listen)), 0o600)
	spamc := inetSpamc(t, spamdAddr)
	d := startDaemon(t, dir, nil, "-config", cfgPath, "-only", "spamd")
	d.waitLog(t, "piece=http")

	// spamc reports a refused TELL as "already" learned; the log tells.
	if out, _ := spamc(spamdSpam, "-L", "spam"); strings.Contains(out, "successfully") {
		t.Errorf("spamc -L with allow_tell off = %q", out)
	}
	d.waitLog(t, "TELL commands are not enabled")

	reload := func(cfg string, n int) {
		t.Helper()
		os.WriteFile(cfgPath, []byte(cfg), 0o600)
		d.cmd.Process.Signal(syscall.SIGHUP)
		deadline := time.Now().Add(30 * time.Second)
		for strings.Count(d.log(), "config reloaded") < n && time.Now().Before(deadline) {
			time.Sleep(20 * time.Millisecond)
		}
		if strings.Count(d.log(), "config reloaded") < n {
			t.Fatalf("reload %d not applied:\n%s", n, d.log())
		}
	}
	reload(spamdConfig(dir, httpAddr, rules, bayes+"    local_cf: "+local+"\n", listen+"  allow_tell: true\n"), 1)
	if out, code := spamc(spamdSpam, "-c"); out != "2.0/5.0\n" || code != 0 {
		t.Errorf("spamc -c after reload = %q, exit %d; want local.cf's 2.0/5.0, exit 0", out, code)
	}
	if out, _ := spamc(spamdSpam, "-L", "spam"); out != "Message successfully un/learned\n" {
		t.Errorf("spamc -L after allow_tell: true = %q", out)
	}
	if n := strings.Count(d.log(), "spamassassin rules loaded"); n != 2 {
		t.Errorf("rules loaded %d times, want 2 (start, changed local_cf)", n)
	}

	reload(spamdConfig(dir, httpAddr, rules, bayes, listen+"  allowed_networks: [192.0.2.0/24]\n"), 2)
	if out, _ := spamc(spamdSpam, "-c"); out != "0/0\n" {
		t.Errorf("spamc -c from a client outside allowed_networks = %q, want spamc's failure answer 0/0", out)
	}
	d.waitLog(t, "client not in spamd.allowed_networks")
	if _, m := httpGet(t, "http://"+httpAddr+"/metrics"); !strings.Contains(m, "gomilter_spamd_denied_connections_total 1") {
		t.Errorf("/metrics: denied connection not counted")
	}
	d.stop(t)
}

// TestServeSpamdSharesMilterEngine: with the milter and spamd in one
// serve, the rules load once, and a message scores the same through the
// milter's X-Spam-Status as through spamc. spamd listens on a unix socket
// with the configured mode (spamc -U).
func TestServeSpamdSharesMilterEngine(t *testing.T) {
	testenv.SkipShort(t, "starts serve and spamc")
	dir := t.TempDir()
	httpAddr, milterAddr := freeAddr(t), freeAddr(t)
	sock := filepath.Join(dir, "run", "spamd.sock")
	cfg := fmt.Sprintf("http:\n  listen: %s\nstate_dir: %s\nmilter:\n  listen: inet:%s\n  spam:\n    enabled: true\n    rule_dirs: [%s]\n    site_dir: \"-\"\n"+
		"spamd:\n  enabled: true\n  listen: {address: unix:%s, mode: \"0600\"}\n", httpAddr, dir, milterAddr, spamdRules(t, dir), sock)
	cfgPath := filepath.Join(dir, "g.yaml")
	os.WriteFile(cfgPath, []byte(cfg), 0o600)
	spamc := spamcRunner(t, "-U", sock)
	d := startDaemon(t, dir, nil, "-config", cfgPath, "-only", "milter,spamd")
	d.waitLog(t, "piece=http")

	if fi, err := os.Stat(sock); err != nil {
		t.Error(err)
	} else if fi.Mode().Perm() != 0o600 {
		t.Errorf("spamd socket mode %v, want 0600", fi.Mode().Perm())
	}
	out, code := spamc(spamdSpam, "-c")
	if out != "6.5/5.0\n" || code != 1 {
		t.Errorf("spamc -U -c = %q, exit %d; want 6.5/5.0, exit 1", out, code)
	}
	if status := milterSpamStatus(t, milterAddr, strings.ReplaceAll(spamdSpam, "\n", "\r\n")); !strings.Contains(status, "score=6.5 ") {
		t.Errorf("milter X-Spam-Status = %q; want the score spamc got (6.5)", status)
	}
	if n := strings.Count(d.log(), "spamassassin rules loaded"); n != 1 {
		t.Errorf("rules loaded %d times for milter and spamd, want 1 (shared engine)", n)
	}
	d.stop(t)
	if _, err := os.Stat(sock); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("spamd socket left behind after SIGTERM: %v", err)
	}
}

// milterSpamStatus sends msg through the milter from an outside client
// and returns the X-Spam-Status value it added.
func milterSpamStatus(t *testing.T, addr, msg string) string {
	t.Helper()
	c := milterSession(t, addr)
	defer c.Close()
	res, err := c.Transaction(context.Background(), milterclient.Tx{
		From: "a@example.com", Rcpts: []string{"b@example.org"}, QueueID: "Q1", Message: []byte(msg),
	})
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range res.Mods {
		if (m.Code == milter.RespInsHeader || m.Code == milter.RespAddHeader) && m.Name == "X-Spam-Status" {
			return strings.TrimSpace(m.Value)
		}
	}
	t.Fatalf("milter added no X-Spam-Status (mods %+v)", res.Mods)
	return ""
}

// TestSpamdCommand: the standalone `gomilter spamd` (flags, no config)
// still answers spamc and exits 0 on SIGTERM.
func TestSpamdCommand(t *testing.T) {
	testenv.SkipShort(t, "starts gomilter spamd and spamc")
	dir := t.TempDir()
	addr := freeAddr(t)
	spamc := inetSpamc(t, addr)
	d := &daemon{done: make(chan error, 1)}
	d.cmd = exec.Command(binary(t), "spamd", "-listen", addr, "-rules", spamdRules(t, dir), "-site", "-")
	d.cmd.Dir = dir
	d.cmd.Stderr = d
	if err := d.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { d.done <- d.cmd.Wait() }()
	t.Cleanup(func() {
		if d.cmd.ProcessState == nil {
			d.cmd.Process.Kill()
			<-d.done
		}
	})
	d.waitLog(t, "piece=spamd addr=inet:"+addr)
	if out, code := spamc(spamdSpam, "-c"); out != "6.5/5.0\n" || code != 1 {
		t.Errorf("spamc -c = %q, exit %d; want 6.5/5.0, exit 1", out, code)
	}
	d.stop(t)

	var stderr bytes.Buffer
	if code := dispatch([]string{"spamd", "-allow-tell"}, &bytes.Buffer{}, &stderr); code != 2 || !strings.Contains(stderr.String(), "-allow-tell needs -bayes") {
		t.Errorf("spamd -allow-tell without -bayes = %d, %q", code, stderr.String())
	}
}

func TestAllowedPeer(t *testing.T) {
	loop := []netip.Prefix{netip.MustParsePrefix("127.0.0.1/32"), netip.MustParsePrefix("::1/128")}
	tcp := func(s string) net.Addr { return &net.TCPAddr{IP: net.ParseIP(s), Port: 40000} }
	tests := []struct {
		name    string
		addr    net.Addr
		allowed []netip.Prefix
		want    bool
	}{
		{"loopback v4", tcp("127.0.0.1"), loop, true},
		{"loopback v6", tcp("::1"), loop, true},
		{"v4-mapped v6", tcp("::ffff:127.0.0.1"), loop, true},
		{"other v4", tcp("127.0.0.2"), loop, false},
		{"outside", tcp("192.0.2.7"), loop, false},
		{"in a network", tcp("192.0.2.7"), []netip.Prefix{netip.MustParsePrefix("192.0.2.0/24")}, true},
		{"empty list", tcp("127.0.0.1"), nil, false},
		{"unix socket", &net.UnixAddr{Name: "@", Net: "unix"}, nil, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := allowedPeer(tc.addr, tc.allowed); got != tc.want {
				t.Errorf("allowedPeer(%v, %v) = %v, want %v", tc.addr, tc.allowed, got, tc.want)
			}
		})
	}
}
