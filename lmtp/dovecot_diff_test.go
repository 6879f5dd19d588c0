package lmtp

import (
	"bytes"
	"fmt"
	"net"
	"net/textproto"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/gomilter/gomilter/internal/postfixtest"
	"github.com/gomilter/gomilter/internal/testenv"
	"github.com/gomilter/gomilter/internal/userdb"
)

// corpusDir finds shared/testsuites/corpus/train/<group> next to the
// repository (read in place, never copied).
func corpusDir(t *testing.T, group string) string {
	t.Helper()
	dir, _ := os.Getwd()
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			break
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			t.Fatal("go.mod not found")
		}
		dir = parent
	}
	p := filepath.Join(dir, "..", "shared", "testsuites", "corpus", "train", group)
	if _, err := os.Stat(p); err != nil {
		testenv.Missing(t, "corpus %s: %v", p, err)
	}
	return p
}

// TestSameFilesAsDovecotLMTP delivers the same corpus messages through a
// private Dovecot LMTP and through ours, and compares the stored files
// byte for byte (after masking the Received id and date) and the S=/W=
// rules of their names.
func TestSameFilesAsDovecotLMTP(t *testing.T) {
	testenv.SkipShort(t, "starts Dovecot")
	dovecot := testenv.LookPath(t, "dovecot")
	dir := postfixtest.SocketDir(t)
	msgs := loadCorpus(t, corpusDir(t, "easy-ham-1"), 25)
	var maildirs [2]string
	var socks [2]string
	for i, who := range []string{"ours", "dovecot"} {
		home := filepath.Join(dir, who, "alice")
		os.MkdirAll(home, 0o755)
		os.Chown(home, vmailID, vmailID)
		writeFile(t, filepath.Join(dir, who+".passwd"), fmt.Sprintf("alice@example.org:{PLAIN}x:%d:%d::%s::\n", vmailID, vmailID, home))
		maildirs[i] = filepath.Join(home, "Maildir")
	}
	db, err := userdb.OpenPasswdFile(filepath.Join(dir, "ours.passwd"), "")
	if err != nil {
		t.Fatal(err)
	}
	socks[0] = serveUnix(t, dir, &UserDB{DB: db}, nil)
	socks[1] = startDovecotLMTP(t, dovecot, dir, "")
	for i, sock := range socks {
		for _, m := range msgs {
			if reply := lmtpSend(t, sock, m); !strings.HasPrefix(reply, "250 2.0.0 <alice@example.org> ") || !strings.HasSuffix(reply, " Saved") {
				t.Fatalf("%s: reply %q", []string{"ours", "dovecot"}[i], reply)
			}
		}
	}
	for _, rcpt := range []string{"nobody@example.org", "Nobody+tag@example.org"} {
		if a, b := rcptReply(t, socks[0], rcpt), rcptReply(t, socks[1], rcpt); a != b {
			t.Errorf("RCPT TO:<%s>: ours %q, Dovecot %q", rcpt, a, b)
		}
	}
	ours, theirs := storedFiles(t, maildirs[0]), storedFiles(t, maildirs[1])
	if len(ours) != len(msgs) || len(theirs) != len(msgs) {
		t.Fatalf("stored %d (ours) and %d (Dovecot), want %d each", len(ours), len(theirs), len(msgs))
	}
	for i := range ours {
		a, b := mask(readFile(t, ours[i])), mask(readFile(t, theirs[i]))
		if a != b {
			t.Errorf("message %d differs:\nours:\n%.600s\nDovecot:\n%.600s", i, a, b)
		}
		checkSizes(t, ours[i])
		checkSizes(t, theirs[i])
	}
}

func loadCorpus(t *testing.T, dir string, n int) [][]byte {
	t.Helper()
	names, _ := filepath.Glob(filepath.Join(dir, "*"))
	sort.Strings(names)
	var out [][]byte
	for _, name := range names {
		b, err := os.ReadFile(name)
		if err != nil || len(b) > 1<<20 {
			continue
		}
		b = bytes.ReplaceAll(bytes.ReplaceAll(b, []byte("\r\n"), []byte("\n")), []byte("\n"), []byte("\r\n"))
		if out = append(out, b); len(out) == n {
			break
		}
	}
	return out
}

func serveUnix(t *testing.T, dir string, be Backend, so *SieveOptions) string {
	t.Helper()
	srv, err := NewServer(be, Options{Hostname: "mda.test", Sieve: so})
	if err != nil {
		t.Fatal(err)
	}
	sock := filepath.Join(dir, "ours.sock")
	l, err := net.Listen("unix", sock)
	if err != nil {
		t.Fatal(err)
	}
	go srv.Serve(l)
	t.Cleanup(func() { srv.Close() })
	return sock
}

func startDovecotLMTP(t *testing.T, dovecot, dir, extra string) string {
	t.Helper()
	sock := filepath.Join(dir, "dovecot-lmtp.sock")
	conf := filepath.Join(dir, "dovecot-lmtp.conf")
	writeFile(t, conf, fmt.Sprintf(`instance_name = gomilter-lmtp-diff-%[2]d
base_dir = %[1]s/dc-run
state_dir = %[1]s/dc-state
log_path = %[1]s/dovecot-lmtp.log
hostname = mda.test
protocols = lmtp
listen = 127.0.0.1
ssl = no
mail_location = maildir:~/Maildir
first_valid_uid = 1000
passdb {
  driver = passwd-file
  args = %[1]s/dovecot.passwd
}
userdb {
  driver = passwd-file
  args = %[1]s/dovecot.passwd
}
service lmtp {
  unix_listener %[1]s/dovecot-lmtp.sock {
    mode = 0666
  }
}
%[3]s
`, dir, os.Getpid(), extra))
	cmd := exec.Command(dovecot, "-F", "-c", conf)
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		cmd.Process.Signal(syscall.SIGTERM)
		done := make(chan struct{})
		go func() { cmd.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			cmd.Process.Kill()
			<-done
		}
	})
	deadline := time.Now().Add(20 * time.Second)
	for {
		c, err := net.Dial("unix", sock)
		if err == nil {
			c.Close()
			return sock
		}
		if time.Now().After(deadline) {
			log, _ := os.ReadFile(filepath.Join(dir, "dovecot-lmtp.log"))
			t.Fatalf("dovecot lmtp did not start: %v\n%s", err, log)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// lmtpSend delivers one message to alice and returns the DATA reply.
func lmtpSend(t *testing.T, sock string, msg []byte) string {
	t.Helper()
	c, err := net.Dial("unix", sock)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(20 * time.Second))
	tp := textproto.NewConn(c)
	step := func(cmd string, want int) {
		t.Helper()
		if cmd != "" {
			tp.PrintfLine("%s", cmd)
		}
		if _, msg, err := tp.ReadResponse(want); err != nil {
			t.Fatalf("%s %q: %v %s", sock, cmd, err, msg)
		}
	}
	step("", 220)
	step("LHLO mx.test", 250)
	step("MAIL FROM:<sender@example.net>", 250)
	step("RCPT TO:<alice@example.org>", 250)
	step("DATA", 354)
	w := tp.DotWriter()
	w.Write(msg)
	w.Close()
	line, err := tp.ReadLine()
	if err != nil {
		t.Fatal(err)
	}
	return line
}

// rcptReply returns the reply to RCPT TO:<rcpt>.
func rcptReply(t *testing.T, sock, rcpt string) string {
	t.Helper()
	c, err := net.Dial("unix", sock)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(20 * time.Second))
	tp := textproto.NewConn(c)
	tp.ReadResponse(220)
	tp.PrintfLine("LHLO mx.test")
	tp.ReadResponse(250)
	tp.PrintfLine("MAIL FROM:<sender@example.net>")
	tp.ReadResponse(250)
	tp.PrintfLine("RCPT TO:<%s>", rcpt)
	line, err := tp.ReadLine()
	if err != nil {
		t.Fatal(err)
	}
	return line
}

// storedFiles lists INBOX's new/ in delivery order (names start with the
// time, then microseconds: sort by the numeric pair).
func storedFiles(t *testing.T, maildir string) []string {
	t.Helper()
	names, _ := filepath.Glob(filepath.Join(maildir, "new", "*"))
	key := func(p string) (int64, int64) {
		base := filepath.Base(p)
		sec, rest, _ := strings.Cut(base, ".M")
		usec, _, _ := strings.Cut(rest, "P")
		a, _ := strconv.ParseInt(sec, 10, 64)
		b, _ := strconv.ParseInt(usec, 10, 64)
		return a, b
	}
	sort.Slice(names, func(i, j int) bool {
		a1, b1 := key(names[i])
		a2, b2 := key(names[j])
		return a1 < a2 || a1 == a2 && b1 < b2
	})
	return names
}

var (
	maskID   = regexp.MustCompile(`(?m)^\tid [^\n]+$`)
	maskDate = regexp.MustCompile(`(?m)^(\tfor <[^>]+>); [^\n]+$`)
)

// mask hides what legitimately differs: the session id and the time of
// our own Received header (the first one).
func mask(s string) string {
	head, rest := s, ""
	if len(s) > 400 {
		head, rest = s[:400], s[400:]
	}
	head = maskID.ReplaceAllString(head, "\tid X")
	head = maskDate.ReplaceAllString(head, "$1; DATE")
	return head + rest
}

var sizesRE = regexp.MustCompile(`,S=(\d+),W=(\d+)`)

// checkSizes: S= is the file size, W= the size with CRLF line ends.
func checkSizes(t *testing.T, path string) {
	t.Helper()
	m := sizesRE.FindStringSubmatch(filepath.Base(path))
	if m == nil {
		t.Errorf("%s: no S=/W=", path)
		return
	}
	b, _ := os.ReadFile(path)
	s, _ := strconv.Atoi(m[1])
	w, _ := strconv.Atoi(m[2])
	if s != len(b) || w != len(b)+bytes.Count(b, []byte("\n")) {
		t.Errorf("%s: S=%d W=%d, file %d bytes with %d LFs", filepath.Base(path), s, w, len(b), bytes.Count(b, []byte("\n")))
	}
}
