package dovecotauth_test

import (
	"bufio"
	"context"
	"fmt"
	"net"
	"strings"

	"github.com/gomilter/gomilter/dovecotauth"
)

// Example serves one user from memory and shows the exchange Postfix has
// with it: the server's handshake, then AUTH PLAIN with an initial response
// ("\x00alice\x00secret" in base64).
func Example() {
	auth := dovecotauth.AuthenticatorFunc(func(_ context.Context, user string, _ dovecotauth.RequestInfo) (dovecotauth.Credentials, error) {
		if user != "alice" {
			return dovecotauth.Credentials{}, dovecotauth.ErrUnknownUser
		}
		return dovecotauth.Credentials{Password: "{PLAIN}secret"}, nil
	})
	srv, err := dovecotauth.NewServer(auth, dovecotauth.Options{})
	if err != nil {
		panic(err)
	}
	l, _ := net.Listen("tcp", "127.0.0.1:0")
	go srv.Serve(l)
	defer srv.Close()

	c, _ := net.Dial("tcp", l.Addr().String())
	defer c.Close()
	r := bufio.NewReader(c)
	fmt.Fprint(c, "VERSION\t1\t0\nCPID\t1\n")
	for {
		line, _ := r.ReadString('\n')
		if strings.HasPrefix(line, "MECH") || line == "DONE\n" {
			fmt.Print(strings.ReplaceAll(line, "\t", " "))
		}
		if line == "DONE\n" {
			break
		}
	}
	fmt.Fprint(c, "AUTH\t1\tPLAIN\tservice=smtp\tnologin\tlip=127.0.0.1\trip=192.0.2.1\tresp=AGFsaWNlAHNlY3JldA==\n")
	line, _ := r.ReadString('\n')
	fmt.Print(strings.ReplaceAll(line, "\t", " "))
	// Output:
	// MECH PLAIN plaintext
	// MECH LOGIN plaintext
	// DONE
	// OK 1 user=alice
}
