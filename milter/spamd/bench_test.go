package spamd

import (
	"context"
	"io"
	"net"
	"strings"
	"testing"
)

// BenchmarkServerCheck measures one CHECK round trip (connect, 10 KB
// message, reply, close) over loopback with a trivial Scorer: the protocol
// overhead spamc sees on top of the engine.
func BenchmarkServerCheck(b *testing.B) {
	s, err := NewServer(ScorerFunc(func(context.Context, []byte, string) (Verdict, error) {
		return Verdict{Score: 1, Required: 5}, nil
	}), Options{MaxConnections: 1000})
	if err != nil {
		b.Fatal(err)
	}
	l, _ := net.Listen("tcp", "127.0.0.1:0")
	go s.Serve(l)
	defer s.Close()
	body := "Subject: x\r\n\r\n" + strings.Repeat("0123456789 abcdefghij klmnopqrstuvwxyz\r\n", 256)
	request := req("CHECK", body, "User: bench\r\n")
	b.SetBytes(int64(len(request)))
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			c, err := net.Dial("tcp", l.Addr().String())
			if err != nil {
				b.Error(err)
				return
			}
			io.WriteString(c, request)
			c.(*net.TCPConn).CloseWrite()
			out, _ := io.ReadAll(c)
			c.Close()
			if !strings.HasPrefix(string(out), "SPAMD/1.1 0 EX_OK") {
				b.Errorf("reply %q", out)
				return
			}
		}
	})
}
