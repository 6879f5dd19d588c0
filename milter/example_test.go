package milter_test

import (
	"context"
	"fmt"
	"net"
	"net/netip"

	"github.com/gomilter/gomilter/internal/milterclient"
	"github.com/gomilter/gomilter/milter"
)

// tagger keeps the client address from CONNECT (per connection) and tags
// every message of the connection at end of message.
type tagger struct {
	milter.NoOpMilter
	client netip.Addr
}

func (t *tagger) Connect(_ context.Context, c milter.ConnectInfo, _ *milter.Macros) (milter.Response, error) {
	t.client = c.Addr
	return milter.Continue, nil
}

func (t *tagger) RcptTo(_ context.Context, rcpt string, _ []string, _ *milter.Macros) (milter.Response, error) {
	if rcpt == "spamtrap@example.org" {
		return milter.ReplyCode("550 5.7.1 Recipient refused")
	}
	return milter.Continue, nil
}

func (t *tagger) EndOfMessage(ctx context.Context, mod *milter.Modifier, m *milter.Macros) (milter.Response, error) {
	milter.AddLogAttrs(ctx) // a real milter adds e.g. slog.String("dkim", "pass")
	return milter.Continue, mod.AddHeader("X-Client", " "+t.client.String()+" queue="+m.Get("i"))
}

// The MTA side here is internal/milterclient speaking as Postfix 3.7:
//
//	MTA: O v6 actions=0x1ff proto=0x1fffff   milter: O v6 actions=0x31 proto=LEADSPC|SKIP|NOUNKNOWN|NR_*
//	MTA: C client.example 4 192.0.2.10       milter: c
//	MTA: M <a@example.com>                   milter: c
//	MTA: R <b@example.org>                   milter: c
//	MTA: R <spamtrap@example.org>            milter: y "550 5.7.1 Recipient refused"
//	MTA: T, L..., N, B... (no replies)       MTA: E   milter: h X-Client, c
func ExampleServer() {
	srv, err := milter.NewServer(func(context.Context) milter.Milter { return &tagger{} }, milter.Options{})
	if err != nil {
		panic(err)
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		panic(err)
	}
	go srv.Serve(l)
	defer srv.Shutdown(context.Background())

	ctx := context.Background()
	c, err := milterclient.Dial(ctx, "tcp", l.Addr().String(), milterclient.Options{})
	if err != nil {
		panic(err)
	}
	defer c.Close()
	c.Connect(ctx, "client.example", netip.MustParseAddr("192.0.2.10"), 40000)
	res, err := c.Transaction(ctx, milterclient.Tx{
		From: "a@example.com", Rcpts: []string{"b@example.org", "spamtrap@example.org"}, QueueID: "4XyZ1",
		Message: []byte("Subject: hi\r\n\r\nhello\r\n"),
	})
	if err != nil {
		panic(err)
	}
	fmt.Println(res.Outcome(), res.Rcpts[1].Text)
	for _, h := range res.HeadersAdded() {
		fmt.Printf("%s:%s\n", h.Name, h.Value)
	}
	// Output:
	// accept 550 5.7.1 Recipient refused
	// X-Client: 192.0.2.10 queue=4XyZ1
}
