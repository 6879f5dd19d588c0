package postfixtest_test

import (
	"testing"
	"time"

	"github.com/gomilter/gomilter/internal/postfixtest"
)

// A test relays one message through a private Postfix and looks at what
// reached the sink; a rejected recipient surfaces as the SMTP code.
func ExampleStart() {
	t := &testing.T{} // in a real test: the *testing.T argument
	inst := postfixtest.Start(t, postfixtest.Options{MainCF: map[string]string{
		"smtpd_recipient_restrictions": "check_recipient_access inline:{bad@example.org=REJECT}",
	}})
	msg := []byte("From: a@example.com\r\nSubject: hi\r\n\r\nhello\r\n")
	if err := inst.Send(t, "a@example.com", []string{"b@example.org"}, msg); err != nil {
		t.Fatal(err)
	}
	got := inst.Sink().WaitMessages(t, 1, 10*time.Second)
	_ = got[0].To // ["b@example.org"]
	err := inst.Send(t, "a@example.com", []string{"bad@example.org"}, msg)
	_ = postfixtest.Code(err) // 554
}
