package postfixtest

import (
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gomilter/gomilter/internal/smtpsink"
)

// TestPortCollisionRetry: when the probed port is taken before master
// binds it, Start retries with fresh ports instead of failing.
func TestPortCollisionRetry(t *testing.T) {
	busy, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer busy.Close()
	busyPort := busy.Addr().(*net.TCPAddr).Port
	tries := 0
	testPortOverride = func(attempt int) int {
		tries++
		if attempt == 0 {
			return busyPort
		}
		return 0
	}
	t.Cleanup(func() { testPortOverride = nil })
	inst := Start(t, Options{})
	if tries < 2 {
		t.Errorf("Start made %d attempt(s), want a retry", tries)
	}
	if inst.SMTPAddr() == busy.Addr().String() {
		t.Fatalf("instance claims the busy port %s", inst.SMTPAddr())
	}
	if !strings.Contains(inst.Log(), "Address already in use") {
		t.Errorf("maillog does not show the collision:\n%s", inst.Log())
	}
	if err := inst.Send(t, "a@example.com", []string{"b@example.org"}, testMsg("retry")); err != nil {
		t.Fatal(err)
	}
	inst.Sink().WaitMessages(t, 1, 20*time.Second)
}

func TestSwaks(t *testing.T) {
	inst := Start(t, Options{})
	out, err := inst.Swaks(t, "--from", "swaks@example.com", "--to", "b@example.org", "--header", "Subject: via swaks")
	if err != nil {
		t.Fatalf("swaks: %v\n%s", err, out)
	}
	if !strings.Contains(out, "250 2.0.0 Ok: queued as") {
		t.Errorf("swaks transcript:\n%s", out)
	}
	m := inst.Sink().WaitMessages(t, 1, 20*time.Second)[0]
	if m.From != "swaks@example.com" || !strings.Contains(string(m.Data), "Subject: via swaks") {
		t.Errorf("sink got from %q:\n%s", m.From, m.Data)
	}
}

func TestPostconfAndReload(t *testing.T) {
	inst := Start(t, Options{MainCF: map[string]string{"smtpd_banner": "$myhostname ESMTP first"}})
	if got := strings.TrimSpace(inst.Postconf(t, "-h", "smtpd_banner")); got != "$myhostname ESMTP first" {
		t.Fatalf("postconf -h smtpd_banner = %q", got)
	}
	inst.Postconf(t, "-e", "smtpd_banner=$myhostname ESMTP second")
	inst.Reload(t)
	inst.WaitLog(t, "reload -- version", 10*time.Second)
	// smtpd processes started after the reload use the new banner; poll,
	// as master replaces its children asynchronously.
	deadline := time.Now().Add(10 * time.Second)
	for {
		_, banner, _ := strings.Cut(greeting(t, inst.SMTPAddr()), " ")
		if banner == "mx.test.example ESMTP second" {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("banner after reload = %q", banner)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func greeting(t *testing.T, addr string) string {
	t.Helper()
	c, err := net.DialTimeout("tcp", addr, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(5 * time.Second))
	buf := make([]byte, 512)
	n, err := c.Read(buf)
	if err != nil {
		t.Fatal(err)
	}
	c.Write([]byte("QUIT\r\n"))
	return strings.TrimRight(string(buf[:n]), "\r\n")
}

// TestReapOrphans: an instance whose owning test binary is gone is
// stopped and removed by the next binary's first Start.
func TestReapOrphans(t *testing.T) {
	inst := Start(t, Options{})
	if inst.master() == 0 {
		t.Fatal("master PID not identified")
	}
	pids := inst.PIDs()
	// Pretend the owner died: a PID that cannot exist.
	if err := os.WriteFile(filepath.Join(inst.BaseDir(), ownerFile), []byte("2147483647 1\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	reapOnce = sync.Once{}
	reapOrphans()
	for _, pid := range pids {
		if st, _, ok := procStat(pid); ok && st != 'Z' {
			t.Errorf("pid %d of the orphan still alive", pid)
		}
	}
	if _, err := os.Stat(inst.BaseDir()); !os.IsNotExist(err) {
		t.Errorf("orphan dir not removed: %v", err)
	}
}

// TestSendmailAndDataRaw covers the two other ways in: sendmail(1) via
// pickup, and byte-exact DATA.
func TestSendmailAndDataRaw(t *testing.T) {
	inst := Start(t, Options{})
	if err := inst.Sendmail(t, "local@example.com", []string{"b@example.org"}, []byte("Subject: via sendmail\n\nbody\n")); err != nil {
		t.Fatal(err)
	}
	m := inst.Sink().WaitMessages(t, 1, 20*time.Second)[0]
	if m.From != "local@example.com" || !strings.Contains(string(m.Data), "Subject: via sendmail\r\n") {
		t.Errorf("sendmail message from %q:\n%s", m.From, m.Data)
	}
	inst.WaitLog(t, "postfix/pickup", 5*time.Second)

	s := inst.NewSession(t)
	if err := s.Mail("raw@example.com"); err != nil {
		t.Fatal(err)
	}
	if err := s.Rcpt("b@example.org"); err != nil {
		t.Fatal(err)
	}
	raw := "Subject: raw\r\n\r\n..stuffed\r\nline\r\n.\r\n"
	if err := s.DataRaw([]byte(raw)); err != nil {
		t.Fatal(err)
	}
	if s.QueueID() == "" {
		t.Errorf("no queue ID in %q", s.LastReply())
	}
	s.Close()
	msgs := inst.Sink().WaitMessages(t, 2, 20*time.Second)
	if !strings.HasSuffix(string(msgs[1].Data), "\r\n\r\n.stuffed\r\nline\r\n") {
		t.Errorf("raw message at the sink:\n%q", msgs[1].Data)
	}
}

func TestSMTPSource(t *testing.T) {
	inst := Start(t, Options{})
	const n = 40
	began := time.Now()
	out, err := inst.SMTPSource(t, "-s", "4", "-m", strconv.Itoa(n), "-f", "load@example.com", "-t", "sink@example.org")
	if err != nil {
		t.Fatalf("smtp-source: %v\n%s", err, out)
	}
	accepted := time.Since(began)
	inst.Sink().WaitMessages(t, n, 30*time.Second)
	inst.WaitQueueEmpty(t, 10*time.Second)
	t.Logf("%d messages: accepted in %v, at the sink after %v", n, accepted, time.Since(began))
	if got := inst.Sink().Len(); got != n {
		t.Errorf("sink got %d messages, want %d", got, n)
	}
}

// TestStartErrorExplains: a main.cf error that Postfix reports only on a
// terminal still reaches the test's failure message.
func TestStartErrorExplains(t *testing.T) {
	inst := &Instance{tb: t, opts: Options{Hostname: "mx.test.example", MainCF: map[string]string{
		"inet_interfaces": "192.0.2.1", // not an address of this machine
	}}}
	inst.postfix = "/usr/sbin/postfix"
	sink, err := smtpsink.New(smtpsink.Options{})
	if err != nil {
		t.Fatal(err)
	}
	inst.sink = sink
	t.Cleanup(inst.Stop)
	if err := inst.makeDirs(); err != nil {
		t.Fatal(err)
	}
	err = inst.startWithRetry()
	if err == nil || !strings.Contains(err.Error(), "no local interface found for 192.0.2.1") {
		t.Fatalf("start error = %v, want Postfix's reason", err)
	}
}
