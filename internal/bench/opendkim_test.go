package bench

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"fmt"
	"net"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/gomilter/gomilter/internal/testenv"
)

// corpusDir finds /work/shared/testsuites/corpus/train/<group> relative
// to the repository root (the directory holding go.mod), read in place.
func corpusDir(t *testing.T, group string) string {
	t.Helper()
	dir, _ := os.Getwd()
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			break
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			t.Fatal("go.mod not found above the test directory")
		}
		dir = parent
	}
	p := filepath.Join(dir, "..", "shared", "testsuites", "corpus", "train", group)
	if _, err := os.Stat(p); err != nil {
		testenv.Missing(t, "test corpus %s", p)
	}
	return p
}

// startOpenDKIM runs Debian's opendkim in the foreground, signing every
// message for example.com with a fresh key, and returns its socket and PID.
// OpenDKIM refuses config and keys below a world-writable directory such
// as /tmp, so the files live in a private directory under the user cache.
func startOpenDKIM(t *testing.T) (addr string, pid int) {
	t.Helper()
	bin := testenv.LookPath(t, "opendkim")
	base, err := os.UserCacheDir()
	if err != nil {
		t.Fatal(err)
	}
	os.MkdirAll(base, 0o755)
	dir, err := os.MkdirTemp(base, "gomilter-opendkim-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	keyPEM := pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(key)})
	files := map[string]string{
		"sel.private":  string(keyPEM),
		"keytable":     fmt.Sprintf("sel._domainkey.example.com example.com:sel:%s/sel.private\n", dir),
		"signingtable": "* sel._domainkey.example.com\n",
		"opendkim.conf": fmt.Sprintf("Syslog no\nSocket local:%[1]s/sock\nPidFile %[1]s/pid\n"+
			"KeyTable %[1]s/keytable\nSigningTable refile:%[1]s/signingtable\nMode sv\n"+
			"Canonicalization relaxed/simple\nInternalHosts 127.0.0.1\n", dir),
	}
	for name, content := range files {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	cmd := exec.Command(bin, "-f", "-x", filepath.Join(dir, "opendkim.conf"))
	var stderr strings.Builder
	cmd.Stdout, cmd.Stderr = &stderr, &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	sock := filepath.Join(dir, "sock")
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		if c, err := net.Dial("unix", sock); err == nil {
			c.Close()
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("opendkim did not open %s: %s", sock, stderr.String())
		}
	}
	return "unix:" + sock, cmd.Process.Pid
}

func TestOpenDKIMSignsUnderLoad(t *testing.T) {
	testenv.SkipShort(t, "starts opendkim")
	addr, pid := startOpenDKIM(t)
	msgs, err := LoadMessages(corpusDir(t, "easy-ham-1"), 20)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	// From an internal host (127.0.0.1): every message is signed.
	rep, err := RunMilter(ctx, MilterOptions{Addr: addr, Messages: msgs, Workers: 4, N: 40, PerConn: 3, PID: pid})
	if err != nil {
		t.Fatal(err)
	}
	if rep.Outcomes["accept"] != 40 || rep.Extra["header:DKIM-Signature"] != 40 || rep.Outcomes["error"] != 0 {
		t.Errorf("internal run: outcomes %v extras %v (first error %v)", rep.Outcomes, rep.Extra, rep.FirstErr)
	}
	if rep.Proc == nil || rep.Proc.PeakRSSKiB <= 0 {
		t.Errorf("no /proc sample of opendkim: %+v", rep.Proc)
	}
	// From an outside host nothing is signed: OpenDKIM verifies instead
	// (and may answer SMFIR_SKIP, which the client must follow).
	rep, err = RunMilter(ctx, MilterOptions{Addr: addr, Messages: msgs, Workers: 2, N: 20,
		Client: netip.MustParseAddr("192.0.2.44")})
	if err != nil {
		t.Fatal(err)
	}
	if rep.Outcomes["accept"] != 20 || rep.Extra["header:DKIM-Signature"] != 0 || rep.Extra["skipped"] != 20 || rep.Outcomes["error"] != 0 {
		t.Errorf("external run: outcomes %v extras %v (first error %v)", rep.Outcomes, rep.Extra, rep.FirstErr)
	}
	var b strings.Builder
	rep.Print(&b)
	t.Logf("external run:\n%s", b.String())
}
