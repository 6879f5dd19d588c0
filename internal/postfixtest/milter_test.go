package postfixtest

import (
	"bytes"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/emersion/go-milter"
)

// headerMilter adds one header at end of message.
type headerMilter struct {
	milter.NoOpMilter
	from string
}

func (h *headerMilter) MailFrom(from string, m *milter.Modifier) (milter.Response, error) {
	h.from = from
	return milter.RespContinue, nil
}

func (h *headerMilter) Body(m *milter.Modifier) (milter.Response, error) {
	if err := m.AddHeader("X-Harness-Milter", "seen "+h.from); err != nil {
		return nil, err
	}
	return milter.RespAccept, nil
}

// TestMilterWiring proves smtpd_milters reaches a milter on loopback and
// its header edit comes out at the sink.
func TestMilterWiring(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := &milter.Server{
		NewMilter: func() milter.Milter { return &headerMilter{} },
		Actions:   milter.OptAddHeader,
	}
	go srv.Serve(ln)
	t.Cleanup(func() { srv.Close() })

	inst := Start(t, Options{MainCF: map[string]string{
		"smtpd_milters":         "inet:" + ln.Addr().String(),
		"milter_protocol":       "6",
		"milter_default_action": "tempfail", // broken wiring must not pass
	}})
	if err := inst.Send(t, "sender@example.com", []string{"b@example.org"}, testMsg("milter")); err != nil {
		t.Fatal(err)
	}
	m := inst.Sink().WaitMessages(t, 1, 20*time.Second)[0]
	head, _, _ := bytes.Cut(m.Data, []byte("\r\n\r\n"))
	// go-milter hands MailFrom the address without its angle brackets.
	if !strings.Contains(string(head), "\r\nX-Harness-Milter: seen sender@example.com") {
		t.Errorf("milter header missing at the sink:\n%s", head)
	}
}

// TestMilterUnixSocketOverride: a milter on a unix socket in SocketDir,
// enabled for the main smtpd only through SMTPOverrides.
func TestMilterUnixSocketOverride(t *testing.T) {
	sock := filepath.Join(SocketDir(t), "milter.sock")
	ln, err := net.Listen("unix", sock)
	if err != nil {
		t.Fatal(err)
	}
	// smtpd runs as postfix: it needs write permission on the socket.
	if err := os.Chmod(sock, 0o666); err != nil {
		t.Fatal(err)
	}
	srv := &milter.Server{
		NewMilter: func() milter.Milter { return &headerMilter{} },
		Actions:   milter.OptAddHeader,
	}
	go srv.Serve(ln)
	t.Cleanup(func() { srv.Close() })
	inst := Start(t, Options{SMTPOverrides: []string{
		"smtpd_milters=unix:" + sock,
		"milter_default_action=tempfail",
	}})
	if got := inst.Postconf(t, "-h", "smtpd_milters"); strings.TrimSpace(got) != "" {
		t.Errorf("main.cf smtpd_milters = %q, want it only in master.cf", got)
	}
	if err := inst.Send(t, "unix@example.com", []string{"b@example.org"}, testMsg("unix")); err != nil {
		t.Fatal(err)
	}
	m := inst.Sink().WaitMessages(t, 1, 20*time.Second)[0]
	if !bytes.Contains(m.Data, []byte("\r\nX-Harness-Milter: seen unix@example.com\r\n")) {
		t.Errorf("milter header missing:\n%s", m.Data)
	}
}
