package milter_test

import (
	"context"
	"net"
	"net/netip"
	"strings"
	"testing"

	"github.com/gomilter/gomilter/internal/milterclient"
	"github.com/gomilter/gomilter/milter"
)

type benchMilter struct{ milter.NoOpMilter }

func (benchMilter) EndOfMessage(_ context.Context, mod *milter.Modifier, _ *milter.Macros) (milter.Response, error) {
	return milter.Continue, mod.AddHeader("Authentication-Results", " mx.example; none")
}

// benchMessage is about 4 KiB: 12 header fields and a 60-line body.
var benchMessage = []byte("Received: from a by b; Mon, 1 Jan 2024 00:00:00 +0000\r\n" +
	"From: Alice <alice@example.com>\r\nTo: bob@example.org\r\nSubject: load test\r\n" +
	"Date: Mon, 1 Jan 2024 00:00:00 +0000\r\nMessage-ID: <1@example.com>\r\nMIME-Version: 1.0\r\n" +
	"Content-Type: text/plain; charset=us-ascii\r\nX-A: 1\r\nX-B: 2\r\nX-C: 3\r\n" +
	"DKIM-Signature: v=1; a=rsa-sha256; d=example.com; s=s;\r\n\th=from:to; bh=x; b=y\r\n\r\n" +
	strings.Repeat("The quick brown fox jumps over the lazy dog, again and again.\r\n", 60))

func benchServer(b *testing.B) string {
	srv, err := milter.NewServer(func(context.Context) milter.Milter { return benchMilter{} }, milter.Options{})
	if err != nil {
		b.Fatal(err)
	}
	l, err := net.Listen("unix", b.TempDir()+"/m.sock")
	if err != nil {
		b.Fatal(err)
	}
	go srv.Serve(l)
	b.Cleanup(func() { srv.Close() })
	return "unix:" + l.Addr().String()
}

func benchTx(b *testing.B, ctx context.Context, c *milterclient.Conn) {
	res, err := c.Transaction(ctx, milterclient.Tx{From: "alice@example.com", Rcpts: []string{"bob@example.org"},
		QueueID: "4ABC", Message: benchMessage})
	if err != nil || len(res.Mods) != 1 {
		b.Fatalf("transaction: %+v, %v", res, err)
	}
}

// BenchmarkTransaction: one message per op on a kept-open connection
// (an SMTP session with many messages).
func BenchmarkTransaction(b *testing.B) {
	addr := benchServer(b)
	ctx := context.Background()
	c, err := milterclient.Dial(ctx, "", addr, milterclient.Options{})
	if err != nil {
		b.Fatal(err)
	}
	defer c.Close()
	c.Connect(ctx, "client.example", netip.MustParseAddr("192.0.2.1"), 1234)
	b.SetBytes(int64(len(benchMessage)))
	b.ReportAllocs()
	for b.Loop() {
		benchTx(b, ctx, c)
	}
}

// BenchmarkSessionPerMessage: connect, negotiate, CONNECT, HELO, one
// message, QUIT per op (Postfix's usual one-message SMTP session).
func BenchmarkSessionPerMessage(b *testing.B) {
	addr := benchServer(b)
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		c, err := milterclient.Dial(ctx, "", addr, milterclient.Options{})
		if err != nil {
			b.Fatal(err)
		}
		c.Connect(ctx, "client.example", netip.MustParseAddr("192.0.2.1"), 1234)
		c.Helo(ctx, "client.example")
		benchTx(b, ctx, c)
		c.Close()
	}
}
