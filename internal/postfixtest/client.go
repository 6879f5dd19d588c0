package postfixtest

import (
	"errors"
	"fmt"
	"net"
	"net/smtp"
	"net/textproto"
	"strings"
	"testing"
	"time"
)

// CommandTimeout bounds each SMTP command of a Session (a DATA with the
// milters behind it included).
const CommandTimeout = 2 * time.Minute

// touch renews the connection deadline before a command.
func (s *Session) touch() { s.conn.SetDeadline(time.Now().Add(CommandTimeout)) }

// ClientHelo is the EHLO name Send and NewSession use by default.
const ClientHelo = "client.test.example"

// Session is one SMTP client connection to the instance, for several
// transactions on one connection or for step-by-step assertions. Every
// method returns the server's error unchanged in its chain:
// errors.As(err, new(*textproto.Error)) yields the SMTP code.
type Session struct {
	tb      testing.TB
	conn    net.Conn
	c       *smtp.Client
	queueID string
	reply   string
}

// NewSession connects to the main smtpd (SMTPAddr).
func (i *Instance) NewSession(tb testing.TB) *Session {
	tb.Helper()
	return i.NewSessionAt(tb, i.SMTPAddr())
}

// NewSessionAt connects to addr (e.g. SubmissionAddr()). The connection
// is closed on tb.Cleanup if the test does not Close it.
func (i *Instance) NewSessionAt(tb testing.TB, addr string) *Session {
	tb.Helper()
	conn, err := net.DialTimeout("tcp", addr, 5*time.Second)
	if err != nil {
		tb.Fatalf("postfixtest: dial %s: %v", addr, err)
	}
	// A hung server must fail the test, not hang it; each command
	// extends the deadline (see touch).
	conn.SetDeadline(time.Now().Add(CommandTimeout))
	host, _, _ := net.SplitHostPort(addr)
	c, err := smtp.NewClient(conn, host)
	if err != nil {
		conn.Close()
		tb.Fatalf("postfixtest: greeting from %s: %v", addr, err)
	}
	s := &Session{tb: tb, c: c, conn: conn}
	tb.Cleanup(func() { s.c.Close() })
	return s
}

// Client exposes the underlying net/smtp client (e.g. for Text.Cmd).
func (s *Session) Client() *smtp.Client { return s.c }

// Helo sends EHLO name.
func (s *Session) Helo(name string) error { s.touch(); return s.c.Hello(name) }

// Auth authenticates with mech ("PLAIN", "LOGIN" or "CRAM-MD5").
func (s *Session) Auth(user, pass, mech string) error {
	s.touch()
	a, err := authFor(mech, user, pass)
	if err != nil {
		return err
	}
	return s.c.Auth(a)
}

// Mail sends MAIL FROM:<from>, with BODY=8BITMIME when the server offers
// it, and SMTPUTF8 only when the address needs it (net/smtp would add it
// whenever offered, and Postfix then writes "with UTF8SMTP" into Received).
func (s *Session) Mail(from string) error {
	s.touch()
	if strings.ContainsAny(from, "\r\n") {
		return errors.New("postfixtest: CR or LF in MAIL FROM address")
	}
	cmd := "MAIL FROM:<" + from + ">"
	if ok, _ := s.c.Extension("8BITMIME"); ok {
		cmd += " BODY=8BITMIME"
	}
	if !isASCII(from) {
		cmd += " SMTPUTF8"
	}
	id, err := s.c.Text.Cmd("%s", cmd)
	if err != nil {
		return err
	}
	s.c.Text.StartResponse(id)
	defer s.c.Text.EndResponse(id)
	_, _, err = s.c.Text.ReadResponse(250)
	return err
}

func isASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= 0x80 {
			return false
		}
	}
	return true
}

// Rcpt sends RCPT TO:<to>.
func (s *Session) Rcpt(to string) error { s.touch(); return s.c.Rcpt(to) }

// Data sends DATA, the message (LF is turned into CRLF, dots are
// stuffed) and the final dot. The final reply is kept: see QueueID and
// LastReply.
func (s *Session) Data(msg []byte) error {
	s.touch()
	s.queueID, s.reply = "", ""
	id, err := s.c.Text.Cmd("DATA")
	if err != nil {
		return err
	}
	s.c.Text.StartResponse(id)
	_, _, err = s.c.Text.ReadResponse(354)
	s.c.Text.EndResponse(id)
	if err != nil {
		return err
	}
	w := s.c.Text.DotWriter()
	if _, err := w.Write(msg); err != nil {
		return err
	}
	if err := w.Close(); err != nil {
		return err
	}
	return s.readDataReply()
}

// DataRaw sends DATA and then raw as is: raw must already be dot-stuffed
// and end with "\r\n.\r\n". It is for messages whose exact bytes matter
// (bare CR or LF, odd line endings) which Data would normalise.
func (s *Session) DataRaw(raw []byte) error {
	s.touch()
	s.queueID, s.reply = "", ""
	id, err := s.c.Text.Cmd("DATA")
	if err != nil {
		return err
	}
	s.c.Text.StartResponse(id)
	_, _, err = s.c.Text.ReadResponse(354)
	s.c.Text.EndResponse(id)
	if err != nil {
		return err
	}
	if _, err := s.c.Text.W.Write(raw); err != nil {
		return err
	}
	if err := s.c.Text.W.Flush(); err != nil {
		return err
	}
	return s.readDataReply()
}

func (s *Session) readDataReply() error {
	var err error
	_, s.reply, err = s.c.Text.ReadResponse(250)
	if err != nil {
		return err
	}
	if _, id, ok := strings.Cut(s.reply, "queued as "); ok {
		if f := strings.Fields(id); len(f) > 0 {
			s.queueID = f[0]
		}
	}
	return nil
}

// QueueID is the Postfix queue ID from the last successful Data ("" if
// the reply had none).
func (s *Session) QueueID() string { return s.queueID }

// LastReply is the text of the last successful Data reply.
func (s *Session) LastReply() string { return s.reply }

// Reset sends RSET.
func (s *Session) Reset() error { s.touch(); return s.c.Reset() }

// Close sends QUIT and closes the connection.
func (s *Session) Close() error {
	s.touch()
	err := s.c.Quit()
	s.c.Close()
	return err
}

// Send submits one message to the main smtpd and returns the first SMTP
// error (as *textproto.Error in the chain) or nil once it is queued.
func (i *Instance) Send(tb testing.TB, from string, to []string, msg []byte) error {
	tb.Helper()
	_, err := i.SendID(tb, from, to, msg)
	return err
}

// SendID is Send that also returns the queue ID Postfix assigned.
func (i *Instance) SendID(tb testing.TB, from string, to []string, msg []byte) (string, error) {
	tb.Helper()
	return i.send(tb, i.SMTPAddr(), "", "", "", from, to, msg)
}

// SendAuth submits one message to addr after AUTH with mech ("PLAIN",
// "LOGIN" or "CRAM-MD5"). An authentication failure is returned like any
// other SMTP error (535 in *textproto.Error).
func (i *Instance) SendAuth(tb testing.TB, addr, user, pass, mech, from string, to []string, msg []byte) error {
	tb.Helper()
	_, err := i.send(tb, addr, user, pass, mech, from, to, msg)
	return err
}

func (i *Instance) send(tb testing.TB, addr, user, pass, mech, from string, to []string, msg []byte) (string, error) {
	tb.Helper()
	s := i.NewSessionAt(tb, addr)
	defer s.c.Close()
	if err := s.Helo(ClientHelo); err != nil {
		return "", fmt.Errorf("EHLO: %w", err)
	}
	if mech != "" {
		if err := s.Auth(user, pass, mech); err != nil {
			return "", fmt.Errorf("AUTH %s: %w", mech, err)
		}
	}
	if err := s.Mail(from); err != nil {
		return "", fmt.Errorf("MAIL FROM:<%s>: %w", from, err)
	}
	for _, r := range to {
		if err := s.Rcpt(r); err != nil {
			return "", fmt.Errorf("RCPT TO:<%s>: %w", r, err)
		}
	}
	if err := s.Data(msg); err != nil {
		return "", fmt.Errorf("DATA: %w", err)
	}
	s.c.Quit()
	return s.QueueID(), nil
}

// Code returns the SMTP reply code in err's chain, or 0.
func Code(err error) int {
	var te *textproto.Error
	if errors.As(err, &te) {
		return te.Code
	}
	return 0
}
