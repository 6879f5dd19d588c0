package dovecotauth

import (
	"context"
	"fmt"
	"net"
	"net/textproto"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/gomilter/gomilter/internal/testenv"
	"github.com/gomilter/gomilter/internal/userdb"
)

// TestDovecotLMTPUsesOurUserdb runs a private Dovecot LMTP whose
// auth_socket_path points at our auth-userdb socket: Dovecot looks the
// recipient up through us (USER) and delivers into the home we return.
func TestDovecotLMTPUsesOurUserdb(t *testing.T) {
	testenv.SkipShort(t, "starts Dovecot")
	dovecot := testenv.LookPath(t, "dovecot")
	dir, err := os.MkdirTemp("", "gomilter-lmtp")
	if err != nil {
		t.Fatal(err)
	}
	defer os.RemoveAll(dir)
	home := filepath.Join(dir, "home", "alice")
	for _, d := range []string{dir, filepath.Join(dir, "home"), home, filepath.Join(dir, "run")} {
		os.MkdirAll(d, 0o755)
		os.Chmod(d, 0o755)
	}
	os.Chown(home, 65534, 65534)
	store := userdb.NewMemory()
	store.Add("alice@example.org", "{PLAIN}x", map[string]string{"uid": "65534", "gid": "65534", "home": home})
	srv, err := NewServer(store, Options{})
	if err != nil {
		t.Fatal(err)
	}
	sock := filepath.Join(dir, "gomilter-userdb")
	l, err := net.Listen("unix", sock)
	if err != nil {
		t.Fatal(err)
	}
	os.Chmod(sock, 0o666)
	go srv.ServeUserdb(l)
	defer srv.Close()
	port := freeLoopbackPort(t)
	conf := filepath.Join(dir, "dovecot.conf")
	os.WriteFile(conf, []byte(fmt.Sprintf(`instance_name = gomilter-lmtp-%d
base_dir = %[2]s/run
state_dir = %[2]s/state
log_path = %[2]s/dovecot.log
protocols = lmtp
listen = 127.0.0.1
ssl = no
mail_location = maildir:~/Maildir
auth_socket_path = %[3]s
passdb {
  driver = static
  args = nopassword=y
}
userdb {
  driver = static
  args = uid=65534 gid=65534 home=/nonexistent
}
service lmtp {
  inet_listener lmtp {
    address = 127.0.0.1
    port = %[4]d
  }
}
`, port, dir, sock, port)), 0o644)
	cmd := exec.Command(dovecot, "-F", "-c", conf)
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer stopDovecot(cmd)
	addr := fmt.Sprintf("127.0.0.1:%d", port)
	c := waitDial(t, addr)
	defer c.Close()
	tp := textproto.NewConn(c)
	lmtp := func(cmd string, want int) {
		t.Helper()
		if cmd != "" {
			tp.PrintfLine("%s", cmd)
		}
		if _, msg, err := tp.ReadResponse(want); err != nil {
			log, _ := os.ReadFile(filepath.Join(dir, "dovecot.log"))
			t.Fatalf("%q: %v %s\nlog:\n%s", cmd, err, msg, log)
		}
	}
	lmtp("", 220)
	lmtp("LHLO test", 250)
	lmtp("MAIL FROM:<sender@example.net>", 250)
	lmtp("RCPT TO:<alice@example.org>", 250)
	tp.PrintfLine("RCPT TO:<nobody@example.org>")
	if code, _, _ := tp.ReadResponse(0); code != 550 {
		t.Errorf("unknown recipient (NOTFOUND from us): code %d, want 550", code)
	}
	lmtp("DATA", 354)
	w := tp.DotWriter()
	w.Write([]byte("Subject: via gomilter userdb\r\n\r\nhello\r\n"))
	w.Close()
	lmtp("", 250)
	files, _ := filepath.Glob(filepath.Join(home, "Maildir", "new", "*"))
	if len(files) != 1 {
		t.Fatalf("delivered files in %s: %v", home, files)
	}
	b, _ := os.ReadFile(files[0])
	if !strings.Contains(string(b), "via gomilter userdb") {
		t.Errorf("delivered message:\n%s", b)
	}
}

// stopDovecot asks the master to stop (it takes its children down), and
// kills it only if it does not exit.
func stopDovecot(cmd *exec.Cmd) {
	cmd.Process.Signal(syscall.SIGTERM)
	done := make(chan struct{})
	go func() { cmd.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		cmd.Process.Kill()
		<-done
	}
}

func freeLoopbackPort(t *testing.T) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// waitDial polls until the daemon accepts (readiness by socket, not sleep).
func waitDial(t *testing.T, addr string) net.Conn {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	for {
		c, err := net.DialTimeout("tcp", addr, time.Second)
		if err == nil {
			return c
		}
		select {
		case <-ctx.Done():
			t.Fatalf("dovecot did not listen on %s: %v", addr, err)
		case <-time.After(50 * time.Millisecond):
		}
	}
}
