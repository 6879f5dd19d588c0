package main

import (
	"fmt"
	"log/slog"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/gomilter/gomilter/internal/listen"
	"github.com/gomilter/gomilter/internal/postfixtest"
	"github.com/gomilter/gomilter/internal/testenv"
	"github.com/gomilter/gomilter/milter"
	"github.com/gomilter/gomilter/milter/dkim"
)

// dkimE2E holds a key, its TestPublicKeys file and OpenDKIM's test mode
// ("opendkim -t FILE"), used as the independent signer and verifier.
type dkimE2E struct {
	dir, opendkim string
}

func newDKIME2E(t *testing.T) *dkimE2E {
	e := &dkimE2E{dir: t.TempDir(), opendkim: testenv.LookPath(t, "opendkim")}
	key, err := dkim.GenerateKey("rsa", 2048)
	if err != nil {
		t.Fatal(err)
	}
	zone, err := dkim.WriteKeyFiles(e.dir, "sel", "example.com", key)
	if err != nil || zone == "" {
		t.Fatal(err)
	}
	rec, _ := dkim.KeyRecordText(key.Public())
	e.write(t, "pub", "sel._domainkey.example.com "+rec+"\n")
	// relaxed headers: OpenDKIM's test mode (-t FILE) rewrites the white
	// space after a header's colon, so it cannot check simple header
	// canonicalization of "Subject:  x" or "Subject:\r\n\tx"; the
	// milter-level interop tests in milter/dkim cover simple/simple.
	common := "Syslog no\nRequireSafeKeys no\nTestPublicKeys " + e.dir + "/pub\nCanonicalization relaxed/simple\n" +
		"Domain example.com\nSelector sel\nKeyFile " + e.dir + "/sel.private\nAuthservID mx.test\n"
	e.write(t, "sign.conf", common+"Mode sv\nInternalHosts 127.0.0.1\n")
	e.write(t, "verify.conf", common+"Mode sv\nInternalHosts 192.0.2.99\n")
	// OpenDKIM's test mode as a verifier (a minimal config: with Domain
	// set it says nothing about verification).
	e.write(t, "check.conf", "Syslog no\nMode v\nTestPublicKeys "+e.dir+"/pub\n")
	return e
}

func (e *dkimE2E) write(t *testing.T, name, data string) {
	if err := os.WriteFile(filepath.Join(e.dir, name), []byte(data), 0o600); err != nil {
		t.Fatal(err)
	}
}

// opendkimTest runs OpenDKIM's test mode on a message and returns its
// output: the signature it would add, or its verification verdict.
func (e *dkimE2E) opendkimTest(t *testing.T, conf string, msg []byte) string {
	f := filepath.Join(e.dir, "msg.eml")
	e.write(t, "msg.eml", string(msg))
	out, _ := exec.Command(e.opendkim, "-x", filepath.Join(e.dir, conf), "-t", f).CombinedOutput()
	return string(out)
}

// startDKIMMilter serves "gomilter dkim milter" on a TCP port for Postfix.
func startDKIMMilter(t *testing.T, conf string) int {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := l.Addr().(*net.TCPAddr).Port
	l.Close()
	log := slog.New(slog.DiscardHandler)
	_, newFilter, sock, err := dkimMilterSetup(conf, fmt.Sprintf("inet:127.0.0.1:%d", port), "", "", log)
	if err != nil {
		t.Fatal(err)
	}
	srv, _ := milter.NewServer(newFilter, milter.Options{Logger: log})
	ln, err := listen.Open(sock)
	if err != nil {
		t.Fatal(err)
	}
	go srv.Serve(ln)
	t.Cleanup(func() { srv.Close() })
	return port
}

var e2eMessages = []string{
	"From: User <user@example.com>\r\nTo: a@example.org,\r\n\tb@example.org\r\nSubject:  folded \r\n  subject\r\n\r\nbody\r\n",
	"From: user@example.com\r\nSubject: Gr\xc3\xbc\xc3\x9fe\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n\xc3\xa7a va \t \r\n\r\n\r\n",
	"From: user@example.com\r\nSubject:\r\n\tfold at colon\r\n\r\n" + strings.Repeat("long line ", 150) + "\r\n",
}

// TestDKIMMilterPostfixSigns: Postfix -> gomilter dkim milter signs mail
// from 127.0.0.1; OpenDKIM verifies what Postfix relayed.
func TestDKIMMilterPostfixSigns(t *testing.T) {
	e := newDKIME2E(t)
	port := startDKIMMilter(t, filepath.Join(e.dir, "sign.conf"))
	inst := postfixtest.Start(t, postfixtest.Options{MainCF: map[string]string{
		"smtpd_milters": fmt.Sprintf("inet:127.0.0.1:%d", port), "smtp_line_length_limit": "0"}})
	for _, m := range e2eMessages {
		if err := inst.Send(t, "user@example.com", []string{"rcpt@example.org"}, []byte(m)); err != nil {
			t.Fatal(err)
		}
	}
	for i, sm := range inst.Sink().WaitMessages(t, len(e2eMessages), 30*time.Second) {
		if !strings.Contains(string(sm.Data), "DKIM-Signature:") {
			t.Errorf("message %d not signed", i)
			continue
		}
		if out := e.opendkimTest(t, "check.conf", sm.Data); !strings.Contains(out, "verification (s=sel, d=example.com") || !strings.Contains(out, "succeeded") {
			t.Errorf("message %d: OpenDKIM: %s", i, out)
		}
	}
}

// TestDKIMMilterPostfixVerifies: OpenDKIM signs; the signed mail goes
// through Postfix to gomilter dkim milter, which must write dkim=pass.
func TestDKIMMilterPostfixVerifies(t *testing.T) {
	e := newDKIME2E(t)
	port := startDKIMMilter(t, filepath.Join(e.dir, "verify.conf"))
	inst := postfixtest.Start(t, postfixtest.Options{MainCF: map[string]string{
		"smtpd_milters": fmt.Sprintf("inet:127.0.0.1:%d", port), "smtp_line_length_limit": "0"}})
	for _, m := range e2eMessages {
		out := e.opendkimTest(t, "sign.conf", []byte(m))
		i := strings.Index(out, "DKIM-Signature:")
		if i < 0 {
			t.Fatalf("OpenDKIM did not sign: %s", out)
		}
		sig := strings.TrimRight(out[i:], "\r\n") + "\r\n"
		if err := inst.Send(t, "user@example.com", []string{"rcpt@example.org"}, []byte(sig+m)); err != nil {
			t.Fatal(err)
		}
	}
	for i, sm := range inst.Sink().WaitMessages(t, len(e2eMessages), 30*time.Second) {
		m, err := dkim.ReadMessage(sm.Data)
		if err != nil {
			t.Fatal(err)
		}
		ar, _ := m.Get("Authentication-Results")
		if !strings.HasPrefix(ar, "mx.test;") || !strings.Contains(ar, "dkim=pass header.d=example.com") {
			t.Errorf("message %d: A-R %q", i, ar)
		}
	}
}
