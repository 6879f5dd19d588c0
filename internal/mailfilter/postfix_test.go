package mailfilter

import (
	"context"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gomilter/gomilter/internal/mailmsg"
	"github.com/gomilter/gomilter/internal/postfixtest"
	"github.com/gomilter/gomilter/milter"
)

// envRecorder is a test Check that writes what the filter knew about the
// connection into a header, so the test can read it back from what
// Postfix delivered.
type envRecorder struct {
	mu   sync.Mutex
	seen []mailmsg.Envelope
}

func (*envRecorder) Name() string { return "env-recorder" }

func (r *envRecorder) Check(_ context.Context, tx *Tx) error {
	r.mu.Lock()
	r.seen = append(r.seen, tx.Env)
	n := len(r.seen)
	r.mu.Unlock()
	tx.Prepend = append(tx.Prepend, mailmsg.Field{Name: "X-Test-Env",
		Value: fmt.Sprintf(" n=%d client=%s helo=%s from=%s queue=%s", n, tx.Env.ClientAddr, tx.Env.Helo, tx.Env.MailFrom, tx.Env.QueueID)})
	return nil
}

// startMilter serves f on a unix socket Postfix (running as user postfix)
// can reach.
func startMilter(t *testing.T, f *Filter) string {
	t.Helper()
	dir, err := os.MkdirTemp("", "gomilter-mf-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	os.Chmod(dir, 0o755)
	sock := filepath.Join(dir, "milter.sock")
	ln, err := net.Listen("unix", sock)
	if err != nil {
		t.Fatal(err)
	}
	os.Chmod(sock, 0o666)
	srv, err := milter.NewServer(f.NewMilter, milter.Options{})
	if err != nil {
		t.Fatal(err)
	}
	go srv.Serve(ln)
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		srv.Shutdown(ctx)
	})
	return sock
}

// TestRealPostfixFirstSlice is the foundation's end-to-end check: a real
// Postfix with smtpd_milters pointing at gomilter delivers messages that
// carry our Authentication-Results header, and two messages on one SMTP
// connection both see the right client address and HELO.
func TestRealPostfixFirstSlice(t *testing.T) {
	rec := &envRecorder{}
	f, err := New(Options{AuthservID: "mx.test.example", Checks: []Check{rec}})
	if err != nil {
		t.Fatal(err)
	}
	sock := startMilter(t, f)
	pf := postfixtest.Start(t, postfixtest.Options{MainCF: map[string]string{
		"smtpd_milters":         "unix:" + sock,
		"milter_default_action": "reject", // a broken milter must fail the test, not pass mail
	}})

	s := pf.NewSession(t)
	if err := s.Helo("client.example.net"); err != nil {
		t.Fatal(err)
	}
	for i := 1; i <= 2; i++ {
		msg := fmt.Sprintf("From: a@example.net\r\nTo: b@example.org\r\n"+
			"Authentication-Results: mx.test.example; dkim=pass (forged)\r\n"+
			"Subject: msg %d\r\n\r\nbody %d\r\n", i, i)
		if err := s.Mail(fmt.Sprintf("sender%d@example.net", i)); err != nil {
			t.Fatal(err)
		}
		if err := s.Rcpt("b@example.org"); err != nil {
			t.Fatal(err)
		}
		if err := s.Data([]byte(msg)); err != nil {
			t.Fatalf("DATA %d: %v", i, err)
		}
	}
	s.Close()
	got := pf.Sink().WaitMessages(t, 2, 30*time.Second)
	t.Logf("first delivered message:\n%s", got[0].Data)
	// Postfix's queue manager may deliver the two in either order, so each
	// message is found by its Subject, not by its place at the sink.
	for i := 1; i <= 2; i++ {
		var data string
		for _, m := range got {
			if strings.Contains(string(m.Data), fmt.Sprintf("\r\nSubject: msg %d\r\n", i)) {
				data = string(m.Data)
			}
		}
		if data == "" {
			t.Errorf("message %d not delivered", i)
			continue
		}
		if !strings.Contains(data, "Authentication-Results: mx.test.example; none") {
			t.Errorf("message %d lacks our Authentication-Results:\n%s", i, data)
		}
		if strings.Contains(data, "(forged)") {
			t.Errorf("message %d still carries the forged Authentication-Results:\n%s", i, data)
		}
		want := fmt.Sprintf("client=127.0.0.1 helo=client.example.net from=sender%d@example.net", i)
		if !strings.Contains(data, want) {
			t.Errorf("message %d: X-Test-Env lacks %q:\n%s", i, want, data)
		}
	}
	rec.mu.Lock()
	defer rec.mu.Unlock()
	if len(rec.seen) != 2 {
		t.Fatalf("filter saw %d transactions, want 2", len(rec.seen))
	}
	for i, e := range rec.seen {
		if e.QueueID == "" {
			t.Errorf("transaction %d has no Postfix queue id", i+1)
		}
		if e.Local {
			t.Errorf("transaction %d marked local though it came over SMTP", i+1)
		}
	}
}
