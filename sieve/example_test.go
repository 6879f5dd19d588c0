package sieve_test

import (
	"context"
	"fmt"

	"github.com/gomilter/gomilter/sieve"
)

// A spam-filing script run on one message: the script files the message
// into Junk with the \Seen flag, which cancels the implicit keep.
func Example() {
	src := `require ["fileinto", "imap4flags"];
if header :contains "X-Spam-Flag" "YES" {
	fileinto :flags "\\Seen" "Junk";
	stop;
}`
	script, err := sieve.Compile([]byte(src), sieve.Options{Name: "spam.sieve"})
	if err != nil {
		fmt.Println(err)
		return
	}
	msg := sieve.ParseMessage([]byte("From: a@example.org\r\nX-Spam-Flag: YES\r\nSubject: hi\r\n\r\nbody\r\n"))
	res, err := script.Run(context.Background(), &sieve.Input{Message: msg,
		Envelope: sieve.Envelope{From: "a@example.org", To: "me@example.com"}})
	if err != nil {
		fmt.Println(err)
		return
	}
	for _, a := range res.Actions {
		fmt.Println(a.Kind, a.Mailbox, a.Flags)
	}
	// Output: fileinto Junk [\Seen]
}

// Compile errors carry the line and column of each problem.
func ExampleCompile_error() {
	_, err := sieve.Compile([]byte("require \"fileinto\";\nfileinto;\n"), sieve.Options{})
	fmt.Println(err)
	// Output: line 2:1: the fileinto command requires 1 positional argument(s), but 0 is/are specified
}
