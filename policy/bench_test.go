package policy

import (
	"bufio"
	"bytes"
	"context"
	"net"
	"testing"
)

// BenchmarkReadRequest parses a full Postfix 3.7 request.
func BenchmarkReadRequest(b *testing.B) {
	data := []byte(postfixRequest)
	r := bytes.NewReader(data)
	br := NewReader(r, Limits{})
	b.ReportAllocs()
	b.SetBytes(int64(len(data)))
	for b.Loop() {
		r.Reset(data)
		br.Reset(r)
		if _, err := ReadRequest(br, Limits{}); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkRoundTrip measures one request/reply on a persistent loopback
// connection with a trivial handler: the server's own overhead.
func BenchmarkRoundTrip(b *testing.B) {
	s, err := NewServer(HandlerFunc(func(context.Context, *Request) (Action, error) { return Dunno, nil }), Options{})
	if err != nil {
		b.Fatal(err)
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	go s.Serve(l)
	defer s.Close()
	c, err := net.Dial("tcp", l.Addr().String())
	if err != nil {
		b.Fatal(err)
	}
	defer c.Close()
	br := bufio.NewReader(c)
	req := []byte(postfixRequest)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := c.Write(req); err != nil {
			b.Fatal(err)
		}
		if line, err := br.ReadString('\n'); err != nil || line != "action=DUNNO\n" {
			b.Fatal(line, err)
		}
		br.ReadString('\n')
	}
}
