package listen

import (
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/gomilter/gomilter/internal/config"
)

func TestUnixSocketModeAndParent(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "sub", "m.sock")
	ln, err := Open(config.Listener{Network: "unix", Address: path, Owner: "0", Group: "0", Mode: 0o640})
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode()&os.ModeSocket == 0 || fi.Mode().Perm() != 0o640 {
		t.Errorf("socket mode = %v, want socket 0640", fi.Mode())
	}
	// A second listener on the same live socket must not steal it.
	if _, err := Open(config.Listener{Network: "unix", Address: path}); err == nil || !strings.Contains(err.Error(), "in use") {
		t.Errorf("second Open = %v, want in-use error", err)
	}
	ln.Close()
	if _, err := os.Stat(path); !os.IsNotExist(err) {
		t.Errorf("socket left behind after Close: %v", err)
	}
}

func TestStaleSocketRemovedButNotRegularFile(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "s.sock")
	// Make a stale socket: bind, then close without unlinking.
	ln, err := net.Listen("unix", path)
	if err != nil {
		t.Fatal(err)
	}
	ln.(*net.UnixListener).SetUnlinkOnClose(false)
	ln.Close()
	ln2, err := Open(config.Listener{Network: "unix", Address: path})
	if err != nil {
		t.Fatalf("Open over stale socket: %v", err)
	}
	ln2.Close()

	file := filepath.Join(dir, "file")
	os.WriteFile(file, []byte("x"), 0o600)
	if _, err := Open(config.Listener{Network: "unix", Address: file}); err == nil {
		t.Error("Open replaced a regular file")
	}
}

func TestTCP(t *testing.T) {
	ln, err := Open(config.Listener{Network: "tcp", Address: "127.0.0.1:0"})
	if err != nil {
		t.Fatal(err)
	}
	ln.Close()
}

func TestUnknownOwner(t *testing.T) {
	_, err := Open(config.Listener{Network: "unix", Address: filepath.Join(t.TempDir(), "x.sock"), Owner: "no-such-user-gomilter"})
	if err == nil {
		t.Fatal("unknown owner accepted")
	}
}
