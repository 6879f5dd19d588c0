package lmtp

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"os/exec"
	"strings"
	"time"

	"github.com/emersion/go-smtp"
)

// Relay sends a message Sieve produced (redirect, vacation, notify).
type Relay interface {
	Send(ctx context.Context, from string, to []string, msg []byte) error
}

// SMTPRelay submits through an SMTP server, normally Postfix's own smtpd
// on localhost (so the message gets the usual milters and queueing).
type SMTPRelay struct {
	// Network is "tcp" or "unix"; Addr is host:port or a socket path.
	Network, Addr string
	// Helo is the name sent in EHLO (default "localhost").
	Helo string
	// Timeout bounds the whole submission (default 60s).
	Timeout time.Duration
}

// Send implements Relay.
func (r *SMTPRelay) Send(ctx context.Context, from string, to []string, msg []byte) error {
	timeout := r.Timeout
	if timeout <= 0 {
		timeout = time.Minute
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	var d net.Dialer
	conn, err := d.DialContext(ctx, cmpOr(r.Network, "tcp"), r.Addr)
	if err != nil {
		return fmt.Errorf("relay: %w", err)
	}
	deadline, _ := ctx.Deadline()
	conn.SetDeadline(deadline)
	c := smtp.NewClient(conn)
	defer c.Close()
	if err := c.Hello(cmpOr(r.Helo, "localhost")); err != nil {
		return fmt.Errorf("relay: %w", err)
	}
	if err := c.SendMail(from, to, bytes.NewReader(msg)); err != nil {
		return fmt.Errorf("relay: %w", err)
	}
	return c.Quit()
}

// SendmailRelay pipes the message into a sendmail(1) program (Postfix's
// /usr/sbin/sendmail), as Dovecot's sendmail_path does.
type SendmailRelay struct {
	Path    string // default /usr/sbin/sendmail
	Timeout time.Duration
}

// Send implements Relay.
func (r *SendmailRelay) Send(ctx context.Context, from string, to []string, msg []byte) error {
	timeout := r.Timeout
	if timeout <= 0 {
		timeout = time.Minute
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	for _, a := range append([]string{from}, to...) {
		if strings.HasPrefix(a, "-") || strings.ContainsAny(a, "\r\n\x00") {
			return errors.New("relay: refusing an address that looks like an option")
		}
	}
	args := append([]string{"-i", "-f", from, "--"}, to...)
	if from == "" {
		args[2] = "<>"
	}
	cmd := exec.CommandContext(ctx, cmpOr(r.Path, "/usr/sbin/sendmail"), args...)
	cmd.Stdin = bytes.NewReader(msg)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("relay: sendmail: %w: %.200s", err, out.String())
	}
	return nil
}

func cmpOr(a, b string) string {
	if a != "" {
		return a
	}
	return b
}
