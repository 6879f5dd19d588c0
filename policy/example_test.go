package policy_test

import (
	"bufio"
	"context"
	"fmt"
	"net"
	"strings"

	"github.com/gomilter/gomilter/policy"
)

// Example runs a policy service that rejects one sender and shows the
// exchange Postfix would have with it.
func Example() {
	h := policy.HandlerFunc(func(ctx context.Context, r *policy.Request) (policy.Action, error) {
		if r.Sender == "spammer@example.com" {
			return policy.Reject("go away"), nil
		}
		return policy.Dunno, nil
	})
	srv, err := policy.NewServer(h, policy.Options{})
	if err != nil {
		panic(err)
	}
	l, _ := net.Listen("tcp", "127.0.0.1:0")
	go srv.Serve(l)
	defer srv.Close()

	c, _ := net.Dial("tcp", l.Addr().String())
	defer c.Close()
	br := bufio.NewReader(c)
	for _, sender := range []string{"alice@example.com", "spammer@example.com"} {
		fmt.Fprintf(c, "request=smtpd_access_policy\nprotocol_state=RCPT\nsender=%s\n\n", sender)
		reply, _ := br.ReadString('\n')
		br.ReadString('\n') // the empty line ending the reply
		fmt.Println(strings.TrimSpace(reply))
	}
	// Output:
	// action=DUNNO
	// action=REJECT go away
}
