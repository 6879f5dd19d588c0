package spamd

import (
	"io"
	"net"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
)

// FuzzSession runs whole connections over net.Pipe with TELL enabled:
// whatever the client sends, the server answers at most one reply line
// that starts with "SPAMD/", never panics, and closes the connection.
func FuzzSession(f *testing.F) {
	f.Add([]byte(req("CHECK", spamMsg)))
	f.Add([]byte(req("TELL", hamMsg, "Message-class: ham\r\nSet: local\r\n")))
	f.Add([]byte(req("PROCESS", zlibBytes(spamMsg), "Compress: zlib\r\n")))
	f.Add([]byte("PING SPAMC/1.5\r\n\r\n"))
	f.Add([]byte("SKIP SPAMC/1.5\r\n\r\n"))
	s, err := NewServer(fakeScorer, Options{AllowTell: true, Learner: &memLearner{seen: map[string]bool{}},
		Registerer: prometheus.NewRegistry(), ReadTimeout: 100 * time.Millisecond, Limits: Limits{MaxMessageSize: 2048}})
	if err != nil {
		f.Fatal(err)
	}
	defer s.Close()
	f.Fuzz(func(t *testing.T, in []byte) {
		client, server := net.Pipe()
		done := make(chan struct{})
		go func() {
			s.serveConn(server)
			server.Close()
			close(done)
		}()
		go func() {
			client.Write(in)
		}()
		client.SetReadDeadline(time.Now().Add(5 * time.Second))
		out, _ := io.ReadAll(client)
		client.Close()
		<-done
		if len(out) > 0 && string(out[:min(6, len(out))]) != "SPAMD/" {
			t.Fatalf("reply does not start with SPAMD/: %q", out)
		}
		if n := testutil.ToFloat64(s.m.panics); n != 0 {
			t.Fatalf("panics = %v", n)
		}
	})
}
