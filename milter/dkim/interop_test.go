package dkim

import (
	"context"
	"crypto"
	"fmt"
	"net"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/gomilter/gomilter/internal/mailmsg"
	"github.com/gomilter/gomilter/internal/milterclient"
	"github.com/gomilter/gomilter/internal/testenv"
)

// openDKIM is a private Debian OpenDKIM 2.11 milter (PRIVATE-INSTANCES.md):
// foreground, no syslog, a unix socket, keys in a temp dir (RequireSafeKeys
// off: the temp dir sits under world-writable /tmp, which OpenDKIM refuses),
// public keys from a TestPublicKeys file instead of DNS.
type openDKIM struct {
	sock string
	dir  string
	pub  StaticResolver // what TestPublicKeys holds
	rsa  crypto.Signer
	ed   crypto.Signer
}

// startOpenDKIM starts OpenDKIM signing with the key of algo: OpenDKIM
// 2.11 takes the algorithm from SignatureAlgorithm for every key (an
// Ed25519 key under the default rsa-sha256 fails with "EVP_PKEY_get1_RSA()
// failed"), so one instance cannot dual-sign; it verifies both.
func startOpenDKIM(t *testing.T, canon, algo string) *openDKIM {
	t.Helper()
	return startOpenDKIMWith(t, canon, algo, "", "127.0.0.1")
}

// startOpenDKIMWith also picks the socket ("" = a unix socket in the temp
// dir, else e.g. "inet:12345@127.0.0.1") and InternalHosts.
func startOpenDKIMWith(t *testing.T, canon, algo, socket, internal string) *openDKIM {
	t.Helper()
	bin := testenv.LookPath(t, "opendkim")
	dir := t.TempDir()
	if err := os.Chmod(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	o := &openDKIM{sock: filepath.Join(dir, "sock"), dir: dir, pub: StaticResolver{}}
	o.writeKeys(t, dir)
	writeFile(t, filepath.Join(dir, "keys"), fmt.Sprintf("rsa example.com:rsa:%s/rsa.private\ned example.com:ed:%s/ed.private\n", dir, dir), 0o600)
	sel := map[string]string{"rsa-sha256": "rsa", "ed25519-sha256": "ed"}[algo]
	writeFile(t, filepath.Join(dir, "sign"), "* "+sel+"\n", 0o600)
	if socket == "" {
		socket = "local:" + o.sock
	}
	conf := fmt.Sprintf(`Syslog no
Background no
Mode sv
Socket %[4]s
PidFile %[1]s/pid
KeyTable file:%[1]s/keys
SigningTable refile:%[1]s/sign
MultipleSignatures yes
TestPublicKeys %[1]s/pubkeys
Canonicalization %[2]s
InternalHosts %[5]s
AuthservID test.example
AlwaysAddARHeader yes
OversignHeaders From
MinimumKeyBits 1024
RequireSafeKeys no
SignatureAlgorithm %[3]s
`, dir, canon, algo, socket, internal)
	writeFile(t, filepath.Join(dir, "opendkim.conf"), conf, 0o600)
	cmd := exec.Command(bin, "-f", "-x", filepath.Join(dir, "opendkim.conf"))
	var out strings.Builder
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		cmd.Process.Kill()
		cmd.Wait()
	})
	network, addr := "unix", o.sock
	if port, host, ok := strings.Cut(strings.TrimPrefix(socket, "inet:"), "@"); ok {
		network, addr = "tcp", net.JoinHostPort(host, port)
	}
	for i := 0; ; i++ {
		if c, err := net.Dial(network, addr); err == nil {
			c.Close()
			break
		}
		if i > 200 {
			t.Fatalf("opendkim did not start: %s", out.String())
		}
		time.Sleep(25 * time.Millisecond)
	}
	return o
}

// writeKeys makes an RSA-2048 and an Ed25519 key, their files and the
// TestPublicKeys file (both keys published for example.com and .net).
func (o *openDKIM) writeKeys(t *testing.T, dir string) {
	t.Helper()
	var err error
	if o.rsa, err = GenerateKey("rsa", 2048); err != nil {
		t.Fatal(err)
	}
	if o.ed, err = GenerateKey("ed25519", 0); err != nil {
		t.Fatal(err)
	}
	var pubLines []string
	for sel, k := range map[string]crypto.Signer{"rsa": o.rsa, "ed": o.ed} {
		pemData, _ := MarshalPrivateKey(k)
		writeFile(t, filepath.Join(dir, sel+".private"), string(pemData), 0o600)
		rec, _ := KeyRecordText(k.Public())
		for _, d := range []string{"example.com", "example.net"} {
			o.pub[sel+"._domainkey."+d] = []string{rec}
			pubLines = append(pubLines, sel+"._domainkey."+d+" "+rec)
		}
	}
	writeFile(t, filepath.Join(dir, "pubkeys"), strings.Join(pubLines, "\n")+"\n", 0o600)
}

func writeFile(t *testing.T, path, data string, mode os.FileMode) {
	t.Helper()
	if err := os.WriteFile(path, []byte(data), mode); err != nil {
		t.Fatal(err)
	}
}

// run sends one message from client ip through OpenDKIM and returns the
// result; headers it inserted are placed on top as Postfix would.
func (o *openDKIM) run(t testing.TB, conn *milterclient.Conn, raw []byte) (*milterclient.Result, *mailmsg.Message) {
	t.Helper()
	ctx := context.Background()
	res, err := conn.Transaction(ctx, milterclient.Tx{From: "user@example.com", Rcpts: []string{"rcpt@example.org"},
		QueueID: "ABC123", Message: raw})
	if err != nil {
		t.Fatalf("milter transaction: %v", err)
	}
	m := parseMessage(t, raw)
	var top []mailmsg.Field
	for _, mod := range res.HeadersAdded() {
		v := strings.ReplaceAll(mod.Value, "\n", "\r\n")
		if v != "" && v[0] != ' ' && v[0] != '\t' {
			v = " " + v // Postfix's cleanup writes "Name: value"
		}
		top = append(top, mailmsg.Field{Name: mod.Name, Value: v})
	}
	return res, prepend(m, top...)
}

func (o *openDKIM) dial(t testing.TB, ip string) *milterclient.Conn {
	t.Helper()
	return o.dialAt(t, "unix", o.sock, ip)
}

func (o *openDKIM) dialTCP(t testing.TB, port int, ip string) *milterclient.Conn {
	t.Helper()
	return o.dialAt(t, "tcp", fmt.Sprintf("127.0.0.1:%d", port), ip)
}

func (o *openDKIM) dialAt(t testing.TB, network, address, ip string) *milterclient.Conn {
	t.Helper()
	ctx := context.Background()
	conn, err := milterclient.Dial(ctx, network, address, milterclient.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	addr := netip.MustParseAddr(ip)
	if _, err := conn.Connect(ctx, "client.example", addr, 4321); err != nil {
		t.Fatal(err)
	}
	if _, err := conn.Helo(ctx, "client.example"); err != nil {
		t.Fatal(err)
	}
	return conn
}

// arDKIM returns the dkim results OpenDKIM wrote in its A-R field.
func arDKIM(m *mailmsg.Message) []string {
	var out []string
	for _, f := range m.All("Authentication-Results") {
		for part := range strings.SplitSeq(mailmsg.Unfold(f.Value), ";") {
			if p := strings.TrimSpace(part); strings.HasPrefix(p, "dkim=") {
				out = append(out, p)
			}
		}
	}
	return out
}
