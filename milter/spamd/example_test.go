package spamd_test

import (
	"context"
	"fmt"
	"io"
	"net"
	"strings"

	"github.com/gomilter/gomilter/milter/spamd"
)

// A Scorer calling everything with "lottery" in it spam, asked by a client
// the way spamc -c asks.
func ExampleServer() {
	sc := spamd.ScorerFunc(func(ctx context.Context, raw []byte, user string) (spamd.Verdict, error) {
		v := spamd.Verdict{Score: 0.5, Required: 5}
		if strings.Contains(string(raw), "lottery") {
			v = spamd.Verdict{Score: 9.1, Required: 5, IsSpam: true, Rules: []string{"LOTTERY"}}
		}
		return v, nil
	})
	srv, err := spamd.NewServer(sc, spamd.Options{})
	if err != nil {
		panic(err)
	}
	l, _ := net.Listen("tcp", "127.0.0.1:0")
	go srv.Serve(l)
	defer srv.Shutdown(context.Background())

	c, _ := net.Dial("tcp", l.Addr().String())
	msg := "Subject: you won\r\n\r\nthe lottery\r\n"
	fmt.Fprintf(c, "CHECK SPAMC/1.5\r\nUser: alice\r\nContent-length: %d\r\n\r\n%s", len(msg), msg)
	reply, _ := io.ReadAll(c)
	fmt.Print(strings.ReplaceAll(string(reply), "\r\n", "\n"))
	// Output:
	// SPAMD/1.1 0 EX_OK
	// Spam: True ; 9.1 / 5.0
}
