package dovecotauth

import (
	"net"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/gomilter/gomilter/internal/testenv"
)

// TestDoveadmAsClient lets Dovecot's own client code talk to us:
// "doveadm auth test -a SOCKET" speaks the auth-client protocol and
// "doveadm user -a SOCKET" the auth-userdb protocol.
func TestDoveadmAsClient(t *testing.T) {
	doveadm := testenv.LookPath(t, "doveadm")
	s, err := NewServer(newMem(t), Options{})
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	clientSock, userdbSock := filepath.Join(dir, "auth-client"), filepath.Join(dir, "auth-userdb")
	lc, err := net.Listen("unix", clientSock)
	if err != nil {
		t.Fatal(err)
	}
	lu, err := net.Listen("unix", userdbSock)
	if err != nil {
		t.Fatal(err)
	}
	go s.Serve(lc)
	go s.ServeUserdb(lu)
	defer s.Close()
	run := func(args ...string) (string, error) {
		// -o keeps doveadm from needing a system config.
		full := append([]string{"-o", "base_dir=" + dir}, args...)
		out, err := exec.Command(doveadm, full...).CombinedOutput()
		return string(out), err
	}
	out, err := run("auth", "test", "-a", clientSock, "alice@example.org", "s3cret")
	if err != nil || !strings.Contains(out, "auth succeeded") || !strings.Contains(out, "user=alice@example.org") {
		t.Errorf("doveadm auth test (good): %v\n%s", err, out)
	}
	out, err = run("auth", "test", "-a", clientSock, "alice@example.org", "wrong")
	if err == nil || !strings.Contains(out, "auth failed") {
		t.Errorf("doveadm auth test (bad): %v\n%s", err, out)
	}
	out, err = run("user", "-a", userdbSock, "bob@example.org")
	if err != nil || !strings.Contains(out, "home") || !strings.Contains(out, "/var/mail/bob@example.org") ||
		!strings.Contains(out, "1001") {
		t.Errorf("doveadm user: %v\n%s", err, out)
	}
	out, _ = run("user", "-a", userdbSock, "nobody@example.org")
	if !strings.Contains(out, "doesn't exist") {
		t.Errorf("doveadm user (unknown): %s", out)
	}
}
