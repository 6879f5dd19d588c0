package lmtp_test

import (
	"context"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strings"

	"github.com/emersion/go-smtp"
	"github.com/gomilter/gomilter/lmtp"
)

// A server delivering to one Maildir user; Postfix's lmtp client would
// connect the same way. The exchange, as Postfix sees it:
//
//	C: LHLO mx.example.org
//	C: MAIL FROM:<bob@example.net>
//	C: RCPT TO:<alice@example.org>
//	C: RCPT TO:<nobody@example.org>
//	S: 550 5.1.1 <nobody@example.org> User doesn't exist: nobody@example.org
//	C: DATA
//	C: ...
//	S: 250 2.0.0 <alice@example.org> <session id> Saved
func Example() {
	dir, _ := os.MkdirTemp("", "lmtp-example")
	defer os.RemoveAll(dir)
	users := lmtp.BackendFunc(func(_ context.Context, addr string) (lmtp.User, error) {
		if addr != "alice@example.org" {
			return lmtp.User{}, lmtp.ErrUserNotFound
		}
		return lmtp.User{Name: addr, Home: dir, MailDir: filepath.Join(dir, "Maildir"), UID: -1, GID: -1}, nil
	})
	srv, _ := lmtp.NewServer(users, lmtp.Options{Hostname: "mda.example.org"})
	l, _ := net.Listen("tcp", "127.0.0.1:0")
	go srv.Serve(l)
	defer srv.Close()

	conn, _ := net.Dial("tcp", l.Addr().String())
	c := smtp.NewClientLMTP(conn)
	c.Hello("mx.example.org")
	c.Mail("bob@example.net", nil)
	c.Rcpt("alice@example.org", nil)
	fmt.Println(c.Rcpt("nobody@example.org", nil))
	w, _ := c.Data()
	w.Write([]byte("Subject: hi\r\n\r\nHello Alice.\r\n"))
	resp, err := w.CloseWithLMTPResponse()
	fmt.Println(err, strings.HasSuffix(resp["alice@example.org"].StatusText, " Saved"))
	files, _ := filepath.Glob(filepath.Join(dir, "Maildir", "new", "*"))
	fmt.Println(len(files), "message in new/")
	// Output:
	// SMTP error 550: <nobody@example.org> User doesn't exist: nobody@example.org
	// <nil> true
	// 1 message in new/
}
