package lmtp

import (
	"context"
	"net"
	"path/filepath"
	"strings"
	"testing"

	"github.com/emersion/go-smtp"
)

// BenchmarkDeliver measures one LMTP transaction (MAIL, RCPT, DATA, one
// Maildir copy with fsyncs) on a cached connection, with and without a
// Sieve filing script.
func BenchmarkDeliver(b *testing.B) {
	for _, withSieve := range []bool{false, true} {
		name := "plain"
		if withSieve {
			name = "sieve"
		}
		b.Run(name, func(b *testing.B) {
			dir := b.TempDir()
			u := User{Name: "alice@example.org", Home: dir, MailDir: filepath.Join(dir, "Maildir"), UID: -1, GID: -1}
			if withSieve {
				writeFile(b, filepath.Join(dir, ".dovecot.sieve"), `require ["fileinto","mailbox"];
if header :contains "subject" "report" { fileinto :create "Reports"; }`)
			}
			srv, err := NewServer(BackendFunc(func(context.Context, string) (User, error) { return u, nil }), Options{Sieve: &SieveOptions{}})
			if err != nil {
				b.Fatal(err)
			}
			l, _ := net.Listen("unix", filepath.Join(dir, "s"))
			go srv.Serve(l)
			defer srv.Close()
			conn, _ := net.Dial("unix", filepath.Join(dir, "s"))
			c := smtp.NewClientLMTP(conn)
			defer c.Close()
			msg := []byte("From: a@example.net\r\nSubject: weekly report\r\n\r\n" + strings.Repeat("some text of the body\r\n", 180))
			b.SetBytes(int64(len(msg)))
			b.ResetTimer()
			for range b.N {
				if err := c.SendMail("a@example.net", []string{"alice@example.org"}, strings.NewReader(string(msg))); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
