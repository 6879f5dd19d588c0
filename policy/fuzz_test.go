package policy

import (
	"bufio"
	"bytes"
	"context"
	"io"
	"net"
	"sort"
	"strings"
	"testing"
	"time"
)

// FuzzReadRequest: never panics; an accepted request re-encoded and parsed
// again gives the same attributes (round trip).
func FuzzReadRequest(f *testing.F) {
	f.Add([]byte(postfixRequest))
	f.Add([]byte("request=smtpd_access_policy\nsender=\n\nrequest=smtpd_access_policy\n\n"))
	f.Add([]byte("request=smtpd_access_policy\r\nclient_address=::ffff:1.2.3.4\r\n\r\n"))
	f.Add([]byte("=\n\n"))
	lim := Limits{MaxLineLength: 256, MaxAttributes: 40, MaxRequestSize: 4096}
	f.Fuzz(func(t *testing.T, data []byte) {
		req, err := ReadRequest(NewReader(bytes.NewReader(data), lim), lim)
		if err != nil {
			return
		}
		names := make([]string, 0, len(req.Attrs))
		for k := range req.Attrs {
			names = append(names, k)
		}
		sort.Strings(names)
		var b strings.Builder
		for _, k := range names {
			b.WriteString(k + "=" + req.Attrs[k] + "\n")
		}
		b.WriteString("\n")
		again, err := ReadRequest(bufio.NewReaderSize(strings.NewReader(b.String()), 1<<16), Limits{MaxLineLength: 1 << 15, MaxRequestSize: 1 << 20})
		if err != nil {
			t.Fatalf("re-encoded request rejected: %v\n%q", err, b.String())
		}
		for k, v := range req.Attrs {
			if again.Attrs[k] != v {
				t.Fatalf("attr %q: %q became %q", k, v, again.Attrs[k])
			}
		}
	})
}

// FuzzSession drives a whole connection over net.Pipe with arbitrary
// bytes: the server must neither panic nor hang, and every reply it writes
// must be a well-formed action.
func FuzzSession(f *testing.F) {
	f.Add([]byte(postfixRequest + postfixRequest))
	f.Add([]byte("request=smtpd_access_policy\nrecipient=panic@x\n\nrequest=smtpd_access_policy\nsender=a\n\n"))
	f.Add([]byte("request=smtpd_access_policy\nrecipient=fail@x\n\ngarbage\n\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		s, err := NewServer(echo, Options{ReadTimeout: time.Second, IdleTimeout: time.Second,
			Limits: Limits{MaxLineLength: 512, MaxAttributes: 50, MaxRequestSize: 8192}})
		if err != nil {
			t.Fatal(err)
		}
		client, server := net.Pipe()
		s.startConn(server)
		out := make(chan []byte)
		go func() {
			b, _ := io.ReadAll(client)
			out <- b
		}()
		client.SetWriteDeadline(time.Now().Add(2 * time.Second))
		client.Write(data)
		time.AfterFunc(5*time.Millisecond, func() { client.Close() })
		replies := <-out
		s.Shutdown(context.Background())
		for _, blk := range strings.SplitAfter(string(replies), "\n\n") {
			if !strings.HasSuffix(blk, "\n\n") {
				continue // cut short by our Close
			}
			if !strings.HasPrefix(blk, "action=") || strings.Count(blk, "\n") != 2 {
				t.Fatalf("malformed reply block %q", blk)
			}
		}
	})
}
