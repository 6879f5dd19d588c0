package smtpsink

import (
	"bufio"
	"bytes"
	"io"
	"net"
	"strings"
	"testing"
	"time"
)

// FuzzSession feeds arbitrary client bytes to one session: it must never
// panic or hang, and must record at most what a DATA could carry.
func FuzzSession(f *testing.F) {
	f.Add([]byte("EHLO mx.test.example\r\nMAIL FROM:<a@example.com> BODY=8BITMIME SIZE=120\r\nRCPT TO:<b@example.org>\r\nDATA\r\nSubject: x\r\n\r\n..dot\r\n.\r\nQUIT\r\n"))
	f.Add([]byte("HELO x\r\nMAIL FROM:<>\r\nRCPT TO:<b@y>\r\nDATA\r\n.\r\nRSET\r\nNOOP\r\n"))
	f.Add([]byte("EHLO x\nMAIL FROM:<a@b>\nRCPT TO:<c@d>\nDATA\nbody\n.\n"))
	f.Add([]byte("DATA\r\n\x00\xff\r\nMAIL\r\nRCPT TO:<\r\n"))
	f.Fuzz(func(t *testing.T, in []byte) {
		s := &Sink{opts: Options{MaxMessageBytes: 1 << 10, MaxLineBytes: 128, Timeout: time.Second}, fails: map[Stage]reply{}, changed: make(chan struct{})}
		s.opts.setDefaults()
		client, server := net.Pipe()
		done := make(chan struct{})
		go func() {
			newConn(s, server).serve()
			close(done)
		}()
		go io.Copy(io.Discard, client)
		client.SetWriteDeadline(time.Now().Add(2 * time.Second))
		client.Write(in)
		client.Close()
		select {
		case <-done:
		case <-time.After(5 * time.Second):
			t.Fatal("session did not end after the client closed")
		}
		for _, m := range s.Messages() {
			if int64(len(m.Data)) > s.opts.MaxMessageBytes || len(m.To) == 0 {
				t.Fatalf("recorded %d bytes to %d recipients", len(m.Data), len(m.To))
			}
		}
	})
}

// dotStuff encodes body (CRLF lines) as DATA does.
func dotStuff(body string) string {
	var b strings.Builder
	for _, l := range strings.SplitAfter(body, "\r\n") {
		if strings.HasPrefix(l, ".") {
			b.WriteByte('.')
		}
		b.WriteString(l)
	}
	return b.String() + ".\r\n"
}

// FuzzReadData: unstuffing a stuffed body gives the body back.
func FuzzReadData(f *testing.F) {
	f.Add("Subject: a\r\n\r\n.x\r\n..\r\n")
	f.Add("")
	f.Add(strings.Repeat("y", 300) + "\r\n.\r\n")
	f.Fuzz(func(t *testing.T, body string) {
		body = strings.ReplaceAll(body, "\r", "")
		body = strings.ReplaceAll(body, "\n", "\r\n")
		if body != "" && !strings.HasSuffix(body, "\r\n") {
			body += "\r\n"
		}
		r := bufio.NewReaderSize(strings.NewReader(dotStuff(body)), 16)
		got, err := readData(r, 1<<20, func() {})
		if err != nil || !bytes.Equal(got, []byte(body)) {
			t.Fatalf("readData(stuffed %q) = %q, %v", body, got, err)
		}
	})
}
