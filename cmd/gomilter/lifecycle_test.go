package main

import (
	"context"
	"fmt"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/gomilter/gomilter/internal/milterclient"
	"github.com/gomilter/gomilter/internal/testenv"
	"github.com/gomilter/gomilter/milter"
)

const lifecycleMsg = "From: a@example.net\r\nTo: b@example.org\r\nSubject: x\r\n\r\nhello\r\n"

func milterSession(t *testing.T, addr string) *milterclient.Conn {
	t.Helper()
	ctx := context.Background()
	c, err := milterclient.Dial(ctx, "tcp", addr, milterclient.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.Connect(ctx, "client.example.net", netip.MustParseAddr("192.0.2.7"), 40000); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Helo(ctx, "client.example.net"); err != nil {
		t.Fatal(err)
	}
	return c
}

// authservOf runs one transaction and returns the authserv-id of the
// Authentication-Results header the milter added.
func authservOf(t *testing.T, c *milterclient.Conn, n int) string {
	t.Helper()
	res, err := c.Transaction(context.Background(), milterclient.Tx{
		From: "a@example.net", Rcpts: []string{"b@example.org"}, QueueID: fmt.Sprintf("Q%d", n), Message: []byte(lifecycleMsg),
	})
	if err != nil {
		t.Fatalf("transaction %d: %v", n, err)
	}
	for _, m := range res.Mods {
		if (m.Code == milter.RespInsHeader || m.Code == milter.RespAddHeader) && m.Name == "Authentication-Results" {
			id, _, _ := strings.Cut(strings.TrimSpace(m.Value), ";")
			return id
		}
	}
	t.Fatalf("transaction %d: no Authentication-Results added (mods %+v)", n, res.Mods)
	return ""
}

// TestReloadAndDrain: a SIGHUP applies a new config to new connections
// while an open one keeps its own and is not dropped; SIGTERM lets the
// open connection finish its transaction and then exits 0.
func TestReloadAndDrain(t *testing.T) {
	dir := t.TempDir()
	milterAddr := freeAddr(t)
	cfgPath := filepath.Join(dir, "g.yaml")
	cfg := fmt.Sprintf("http:\n  listen: %s\nstate_dir: %s\nshutdown_timeout: 10s\nmilter:\n  listen: inet:%s\n  authserv_id: one.example\npolicy:\n  enabled: false\nauth:\n  enabled: false\n",
		freeAddr(t), dir, milterAddr)
	os.WriteFile(cfgPath, []byte(cfg), 0o600)
	d := startDaemon(t, dir, nil, "-config", cfgPath)
	d.waitLog(t, "msg=listening piece=milter")

	old := milterSession(t, milterAddr)
	if id := authservOf(t, old, 1); id != "one.example" {
		t.Fatalf("authserv-id = %q, want one.example", id)
	}
	os.WriteFile(cfgPath, []byte(strings.Replace(cfg, "one.example", "two.example", 1)), 0o600)
	d.cmd.Process.Signal(syscall.SIGHUP)
	d.waitLog(t, "config reloaded")

	if id := authservOf(t, old, 2); id != "one.example" {
		t.Errorf("open connection after reload: authserv-id = %q, want one.example (kept)", id)
	}
	fresh := milterSession(t, milterAddr)
	if id := authservOf(t, fresh, 3); id != "two.example" {
		t.Errorf("new connection after reload: authserv-id = %q, want two.example", id)
	}
	fresh.Close()

	start := time.Now()
	d.cmd.Process.Signal(syscall.SIGTERM)
	d.waitLog(t, "shutting down")
	if id := authservOf(t, old, 4); id != "one.example" {
		t.Errorf("transaction during drain: authserv-id = %q", id)
	}
	old.Close()
	select {
	case err := <-d.done:
		if err != nil {
			t.Fatalf("exit after drain: %v\n%s", err, d.log())
		}
	case <-time.After(15 * time.Second):
		t.Fatalf("serve did not exit after its last connection closed:\n%s", d.log())
	}
	if el := time.Since(start); el > 8*time.Second {
		t.Errorf("drain took %v although the last connection closed at once", el)
	}
}

// TestReloadKeepsSpamEngine: with spam scoring and a Bayes database on, a
// SIGHUP must not try to open the (bbolt-locked) database a second time;
// changing a spam setting reloads the rules.
func TestReloadKeepsSpamEngine(t *testing.T) {
	if _, err := os.Stat("/usr/share/spamassassin/50_scores.cf"); err != nil {
		testenv.Missing(t, "Debian's spamassassin rules: %v", err)
	}
	dir := t.TempDir()
	cfgPath := filepath.Join(dir, "g.yaml")
	localCF := filepath.Join(dir, "local.cf")
	os.WriteFile(localCF, []byte("required_score 5.0\n"), 0o600)
	cfg := fmt.Sprintf("http:\n  listen: %s\nstate_dir: %s\nmilter:\n  listen: inet:%s\n  spam:\n    enabled: true\n    site_dir: \"-\"\n    local_cf: %s\n    bayes_path: %s/bayes.db\n    reject_score: 20\npolicy:\n  enabled: false\nauth:\n  enabled: false\n",
		freeAddr(t), dir, freeAddr(t), localCF, dir)
	os.WriteFile(cfgPath, []byte(cfg), 0o600)
	d := startDaemon(t, dir, nil, "-config", cfgPath)
	d.waitLog(t, "msg=listening piece=milter")
	d.cmd.Process.Signal(syscall.SIGHUP)
	d.waitLog(t, "config reloaded")
	if n := strings.Count(d.log(), "spamassassin rules loaded"); n != 1 {
		t.Errorf("rules loaded %d times after an unchanged reload, want 1", n)
	}
	reloads := func(n int) {
		t.Helper()
		deadline := time.Now().Add(90 * time.Second)
		for strings.Count(d.log(), "config reloaded") < n && time.Now().Before(deadline) {
			time.Sleep(50 * time.Millisecond)
		}
	}
	os.WriteFile(cfgPath, []byte(strings.Replace(cfg, "reject_score: 20", "reject_score: 15\n    time_limit: 5s", 1)), 0o600)
	d.cmd.Process.Signal(syscall.SIGHUP)
	reloads(2)
	if n := strings.Count(d.log(), "spamassassin rules loaded"); n != 2 {
		t.Errorf("rules loaded %d times after a changed reload, want 2:\n%s", n, d.log())
	}
	// Same settings, but a rule file changed (as after an edit of
	// local.cf or sa-update): the rules are read again.
	os.WriteFile(localCF, []byte("required_score 6.0\n"), 0o600)
	os.Chtimes(localCF, time.Now(), time.Now().Add(time.Minute))
	d.cmd.Process.Signal(syscall.SIGHUP)
	reloads(3)
	if n := strings.Count(d.log(), "spamassassin rules loaded"); n != 3 {
		t.Errorf("rules loaded %d times after local.cf changed, want 3:\n%s", n, d.log())
	}
	d.stop(t)
}

// TestSignalDuringStartup: a SIGHUP that arrives while the pieces are
// still starting (the spam rules take seconds to load) is handled once
// they run; it must not kill the daemon, as an uncaught SIGHUP would.
func TestSignalDuringStartup(t *testing.T) {
	if _, err := os.Stat("/usr/share/spamassassin/50_scores.cf"); err != nil {
		testenv.Missing(t, "Debian's spamassassin rules: %v", err)
	}
	dir := t.TempDir()
	cfgPath := filepath.Join(dir, "g.yaml")
	milterAddr := freeAddr(t)
	cfg := fmt.Sprintf("http:\n  listen: %s\nstate_dir: %s\nmilter:\n  listen: inet:%s\n  authserv_id: early.example\n  spam:\n    enabled: true\n    site_dir: \"-\"\npolicy:\n  enabled: false\nauth:\n  enabled: false\n",
		freeAddr(t), dir, milterAddr)
	os.WriteFile(cfgPath, []byte(cfg), 0o600)
	d := startDaemon(t, dir, nil, "-config", cfgPath)
	d.waitLog(t, "msg=starting")
	early := !strings.Contains(d.log(), "msg=listening piece=milter")
	d.cmd.Process.Signal(syscall.SIGHUP)
	d.waitLog(t, "config reloaded")
	if !early {
		t.Log("the pieces were up before the SIGHUP: only the reload was checked")
	}
	c := milterSession(t, milterAddr)
	if id := authservOf(t, c, 1); id != "early.example" {
		t.Errorf("after an early SIGHUP: authserv-id = %q", id)
	}
	c.Close()
	d.stop(t)
}
