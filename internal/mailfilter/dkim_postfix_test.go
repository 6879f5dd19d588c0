package mailfilter

import (
	"bytes"
	"crypto"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/gomilter/gomilter/internal/dns"
	"github.com/gomilter/gomilter/internal/dnstest"
	"github.com/gomilter/gomilter/internal/postfixtest"
	"github.com/gomilter/gomilter/internal/testenv"
	"github.com/gomilter/gomilter/milter/dkim"
)

// dkimWorld is one set of keys, published both in a local DNS server (for
// gomilter) and in an OpenDKIM TestPublicKeys file.
type dkimWorld struct {
	dir string // root-owned 0700: OpenDKIM refuses keys elsewhere
	dns *dnstest.Server
}

func newDKIMWorld(t *testing.T) *dkimWorld {
	t.Helper()
	dir, err := os.MkdirTemp("", "gomilter-dkim-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	os.Chmod(dir, 0o700)
	w := &dkimWorld{dir: dir, dns: dnstest.New(t)}
	var pub []string
	for _, k := range []struct{ sel, typ string }{{"rsa", "rsa"}, {"ed", "ed25519"}, {"odk", "rsa"}} {
		key, err := dkim.GenerateKey(k.typ, 2048)
		if err != nil {
			t.Fatal(err)
		}
		pemData, _ := dkim.MarshalPrivateKey(key)
		os.WriteFile(filepath.Join(dir, k.sel+".private"), pemData, 0o600)
		rec, _ := dkim.KeyRecordText(key.(crypto.Signer).Public())
		name := k.sel + "._domainkey.example.com"
		w.dns.AddTXT(name, rec)
		pub = append(pub, name+" "+rec)
	}
	os.WriteFile(filepath.Join(dir, "pubkeys"), []byte(strings.Join(pub, "\n")+"\n"), 0o600)
	return w
}

// conf writes an opendkim.conf; the same file drives OpenDKIM and gomilter.
func (w *dkimWorld) conf(t *testing.T, name, mode, signingTable, authservID string) string {
	return w.confInternal(t, name, mode, signingTable, authservID, "127.0.0.1")
}

func (w *dkimWorld) confInternal(t *testing.T, name, mode, signingTable, authservID, internal string) string {
	t.Helper()
	os.WriteFile(filepath.Join(w.dir, name+".keys"), []byte(fmt.Sprintf(
		"rsa example.com:rsa:%[1]s/rsa.private\ned example.com:ed:%[1]s/ed.private\nodk example.com:odk:%[1]s/odk.private\n", w.dir)), 0o600)
	os.WriteFile(filepath.Join(w.dir, name+".sign"), []byte(signingTable), 0o600)
	conf := fmt.Sprintf(`# written by the test; read by OpenDKIM and by gomilter alike
Syslog no
Background no
Mode %[2]s
Socket local:%[1]s/%[3]s.sock
PidFile %[1]s/%[3]s.pid
KeyTable file:%[1]s/%[3]s.keys
SigningTable refile:%[1]s/%[3]s.sign
MultipleSignatures yes
TestPublicKeys %[1]s/pubkeys
Canonicalization relaxed/relaxed
InternalHosts %[5]s
AuthservID %[4]s
AlwaysAddARHeader yes
UMask 000
RequireSafeKeys no
OversignHeaders From
`, w.dir, mode, name, authservID, internal)
	path := filepath.Join(w.dir, name+".conf")
	os.WriteFile(path, []byte(conf), 0o600)
	return path
}

// startOpenDKIM runs Debian's opendkim with conf in the foreground and
// returns its socket, made reachable for the postfix user.
func startOpenDKIM(t *testing.T, conf, sock string) {
	t.Helper()
	bin := testenv.LookPath(t, "opendkim")
	cmd := exec.Command(bin, "-f", "-x", conf)
	var out strings.Builder
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		cmd.Process.Kill()
		cmd.Wait()
		if t.Failed() {
			t.Logf("opendkim %s output:\n%s", conf, out.String())
		}
	})
	deadline := time.Now().Add(10 * time.Second)
	for {
		if c, err := net.Dial("unix", sock); err == nil {
			c.Close()
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("opendkim did not start: %s", out.String())
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// gomilterDKIM starts a gomilter filter whose DKIM side reads conf.
func gomilterDKIM(t *testing.T, w *dkimWorld, conf, authservID string) string {
	t.Helper()
	opts, warnings, err := dkim.LoadOpenDKIMConf(conf)
	if err != nil {
		t.Fatal(err)
	}
	for _, warn := range warnings {
		t.Logf("opendkim.conf warning: %s", warn)
	}
	r := dnsResolver(t, w.dns.Addr())
	opts.Resolver = r
	d := &DKIM{Opts: opts}
	if opts.Mode&dkim.ModeSign != 0 {
		if d.Signer, err = dkim.NewSigner(opts); err != nil {
			t.Fatal(err)
		}
	}
	if opts.Mode&dkim.ModeVerify != 0 {
		d.Verifier = dkim.NewVerifier(r, dkim.VerifyOptions{})
	}
	f, err := New(Options{AuthservID: authservID, Checks: []Check{d}, Signers: []Signer{d}})
	if err != nil {
		t.Fatal(err)
	}
	return startMilter(t, f)
}

// relay is a private Postfix whose smtpd_milters are milters.
func relay(t *testing.T, milters string) *postfixtest.Instance {
	t.Helper()
	return postfixtest.Start(t, postfixtest.Options{MainCF: map[string]string{
		"smtpd_milters":         milters,
		"milter_default_action": "reject",
	}})
}

func sendOne(t *testing.T, pf *postfixtest.Instance, msg string) string {
	t.Helper()
	if err := pf.Send(t, "user@example.com", []string{"rcpt@example.org"}, []byte(msg)); err != nil {
		t.Fatal(err)
	}
	return string(pf.Sink().WaitMessages(t, 1, 30*time.Second)[0].Data)
}

// TestRealPostfixDKIMInterop runs DKIM both ways between gomilter and
// Debian's OpenDKIM through real Postfix instances, with both reading the
// same kind of opendkim.conf: OpenDKIM verifies gomilter's RSA and
// Ed25519 signatures, and gomilter verifies OpenDKIM's.
func TestRealPostfixDKIMInterop(t *testing.T) {
	w := newDKIMWorld(t)

	msg := "From: User <user@example.com>\r\nTo: rcpt@example.org\r\nSubject: interop\r\n" +
		"Date: Sun, 22 Nov 2026 10:00:00 +0000\r\nMessage-ID: <interop@example.com>\r\n\r\n" +
		"Hello,\r\n\r\nthis body has  two spaces and trailing space \r\n\r\n\r\n"

	// Leg 1: gomilter signs (RSA and Ed25519) as a submission server would.
	signConf := w.conf(t, "gsign", "s", "*@example.com rsa\n*@example.com ed\n", "gomilter.sign")
	signed := sendOne(t, relay(t, "unix:"+gomilterDKIM(t, w, signConf, "gomilter.sign")), msg)
	if n := strings.Count(signed, "DKIM-Signature:"); n != 2 {
		t.Fatalf("gomilter added %d DKIM-Signature fields, want 2 (rsa + ed25519):\n%s", n, signed)
	}

	// Leg 2: OpenDKIM signs with its own key.
	odkConf := w.conf(t, "osign", "s", "*@example.com odk\n", "opendkim.sign")
	odkSock := filepath.Join(w.dir, "osign.sock")
	startOpenDKIM(t, odkConf, odkSock)
	os.Chmod(w.dir, 0o711) // postfix must reach the socket; keys stay 0600
	odkSigned := sendOne(t, relay(t, "unix:"+odkSock), msg)
	if !strings.Contains(odkSigned, "s=odk") {
		t.Fatalf("OpenDKIM did not sign:\n%s", odkSigned)
	}

	// Verifying relay: OpenDKIM and gomilter both verify what arrives.
	verConf := w.conf(t, "over", "v", "", "opendkim.verify")
	startOpenDKIM(t, verConf, filepath.Join(w.dir, "over.sock"))
	gverConf := w.conf(t, "gver", "v", "", "gomilter.verify")
	gsock := gomilterDKIM(t, w, gverConf, "gomilter.verify")
	for _, tc := range []struct {
		name, msg string
		sels      []string
	}{{"gomilter-signed", signed, []string{"rsa", "ed"}}, {"opendkim-signed", odkSigned, []string{"odk"}}} {
		t.Run(tc.name, func(t *testing.T) {
			pf := relay(t, "unix:"+filepath.Join(w.dir, "over.sock")+", unix:"+gsock)
			got := sendOne(t, pf, tc.msg)
			for _, id := range []string{"opendkim.verify", "gomilter.verify"} {
				ar := arField(got, id)
				if ar == "" {
					t.Fatalf("no Authentication-Results from %s:\n%s", id, got)
				}
				for _, sel := range tc.sels {
					if !passFor(ar, sel) {
						t.Errorf("%s does not report dkim=pass for selector %s:\n%s", id, sel, ar)
					}
				}
			}
		})
	}
}

// arField returns the unfolded Authentication-Results value for id.
func arField(msg, id string) string {
	hdr, _, _ := strings.Cut(msg, "\r\n\r\n")
	lines := strings.Split(hdr, "\r\n")
	for i := 0; i < len(lines); i++ {
		if !strings.HasPrefix(strings.ToLower(lines[i]), "authentication-results:") {
			continue
		}
		v := lines[i]
		for i+1 < len(lines) && (strings.HasPrefix(lines[i+1], " ") || strings.HasPrefix(lines[i+1], "\t")) {
			i++
			v += " " + strings.TrimSpace(lines[i])
		}
		if strings.Contains(v, id+";") {
			return v
		}
	}
	return ""
}

// passFor reports whether ar has dkim=pass for the signature of selector
// sel (both gomilter and OpenDKIM write header.s=).
func passFor(ar, sel string) bool {
	for _, clause := range strings.Split(ar, ";") {
		c := strings.TrimSpace(clause)
		if !strings.HasPrefix(c, "dkim=pass") {
			continue
		}
		if strings.Contains(c, "header.s="+sel+" ") || strings.HasSuffix(c, "header.s="+sel) {
			return true
		}
	}
	return false
}

func dnsResolver(t *testing.T, addr string) *dns.Resolver {
	t.Helper()
	r, err := dns.New(dns.Options{Servers: []string{addr}, Timeout: 2 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// TestRealPostfixDKIMSignsLocalSubmission: mail that Postfix's pickup
// hands to non_smtpd_milters (sendmail, PHP mail()) is signed even when
// 127.0.0.1 is not an InternalHost, while the same mail over SMTP from
// 127.0.0.1 is only verified.
func TestRealPostfixDKIMSignsLocalSubmission(t *testing.T) {
	w := newDKIMWorld(t)
	conf := w.confInternal(t, "local", "sv", "*@example.com rsa\n", "gomilter.local", "192.0.2.1")
	sock := "unix:" + gomilterDKIM(t, w, conf, "gomilter.local")
	pf := postfixtest.Start(t, postfixtest.Options{MainCF: map[string]string{
		"smtpd_milters":         sock,
		"non_smtpd_milters":     sock,
		"milter_default_action": "reject",
	}})
	msg := []byte("From: user@example.com\r\nTo: rcpt@example.org\r\nSubject: local\r\n\r\nhello\r\n")
	if err := pf.Send(t, "user@example.com", []string{"rcpt@example.org"}, msg); err != nil {
		t.Fatal(err)
	}
	if err := pf.Sendmail(t, "user@example.com", []string{"rcpt@example.org"}, bytes.ReplaceAll(msg, []byte("\r\n"), []byte("\n"))); err != nil {
		t.Fatal(err)
	}
	got := pf.Sink().WaitMessages(t, 2, 30*time.Second)
	signed := 0
	for _, m := range got {
		viaPickup := strings.Contains(string(m.Data), "by mx.test.example (Postfix, from userid")
		has := strings.Contains(string(m.Data), "DKIM-Signature:")
		if viaPickup != has {
			t.Errorf("pickup=%v but signed=%v:\n%s", viaPickup, has, m.Data)
		}
		if has {
			signed++
		}
	}
	if signed != 1 {
		t.Errorf("%d of 2 messages signed, want exactly the sendmail one", signed)
	}
}
