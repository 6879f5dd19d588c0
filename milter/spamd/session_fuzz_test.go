package spamd

import (
	"io"
	"net"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
)

// FuzzSession runs whole connections against a server with TELL enabled:
// whatever the client sends (then half-closing, as spamc does), the server
// answers nothing or one reply starting with "SPAMD/", never panics, and
// closes the connection.
func FuzzSession(f *testing.F) {
	f.Add([]byte(req("CHECK", spamMsg)))
	f.Add([]byte(req("TELL", hamMsg, "Message-class: ham\r\nSet: local\r\n")))
	f.Add([]byte(req("PROCESS", zlibBytes(spamMsg), "Compress: zlib\r\n")))
	f.Add([]byte("PING SPAMC/1.5\r\n\r\n"))
	f.Add([]byte("SKIP SPAMC/1.5\r\n\r\n"))
	s, err := NewServer(fakeScorer, Options{AllowTell: true, Learner: &memLearner{seen: map[string]bool{}},
		Registerer: prometheus.NewRegistry(), ReadTimeout: 2 * time.Second, Limits: Limits{MaxMessageSize: 2048}})
	if err != nil {
		f.Fatal(err)
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		f.Fatal(err)
	}
	go s.Serve(l)
	defer s.Close()
	f.Fuzz(func(t *testing.T, in []byte) {
		c, err := net.Dial("tcp", l.Addr().String())
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		c.SetDeadline(time.Now().Add(10 * time.Second))
		c.Write(in)
		c.(*net.TCPConn).CloseWrite()
		out, err := io.ReadAll(c)
		if err != nil {
			t.Fatalf("reading reply: %v", err)
		}
		if len(out) > 0 && string(out[:min(6, len(out))]) != "SPAMD/" {
			t.Fatalf("reply does not start with SPAMD/: %q", out)
		}
		if n := testutil.ToFloat64(s.m.panics); n != 0 {
			t.Fatalf("panics = %v", n)
		}
	})
}
