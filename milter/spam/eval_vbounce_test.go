package spam

import "testing"

const vbounceCF = `
welcomelist_bounce_relays relay*.example.org mx.example.net
body MY_SERVERS eval:check_welcomelist_bounce_relays()
body OLD_NAME   eval:check_whitelist_bounce_relays()
body HAVE_RELAYS eval:have_any_bounce_relays()
`

func TestBounceRelays(t *testing.T) {
	head := "From: MAILER-DAEMON@example.com\nTo: me@example.org\nSubject: Undelivered Mail Returned to Sender\n"
	tests := []struct {
		name, msg string
		want      bool
	}{
		{"quoted in the text", head + "\nThe original message:\n\n> Received: from relay7.example.org (relay7.example.org [192.0.2.1]) by x\n", true},
		{"other relay in the text", head + "\n> Received: from relay7.example.com (h [192.0.2.1]) by x\n", false},
		{"folded in an attached message", head + "Content-Type: multipart/report; boundary=B\n\n--B\nContent-Type: text/plain\n\nbounce\n" +
			"--B\nContent-Type: message/rfc822\n\nReceived: from client (client [192.0.2.9])\n\tby mx.example.net (Postfix) with ESMTP id 1\nFrom: me@example.org\n\nhello\n--B--\n", true},
		{"a continuation of another field", head + "Content-Type: multipart/report; boundary=B\n\n--B\nContent-Type: message/rfc822\n\n" +
			"Received: from a.example.com by b.example.com\nX-Other: x\n\tby mx.example.net y\n\nhello\n--B--\n", false},
		{"no bounce", head + "\nhello there\n", false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			hits := ruleHits(t, vbounceCF, tc.msg)
			if hits["MY_SERVERS"] != tc.want || hits["OLD_NAME"] != tc.want {
				t.Errorf("MY_SERVERS = %v, OLD_NAME = %v, want %v", hits["MY_SERVERS"], hits["OLD_NAME"], tc.want)
			}
			if !hits["HAVE_RELAYS"] {
				t.Error("have_any_bounce_relays = false with relays configured")
			}
		})
	}
	// Without welcomelist_bounce_relays (Debian's default) nothing hits.
	hits := ruleHits(t, "body MY_SERVERS eval:check_welcomelist_bounce_relays()\nbody HAVE_RELAYS eval:have_any_bounce_relays()\n",
		head+"\n> Received: from relay7.example.org (relay7.example.org [192.0.2.1]) by x\n")
	if hits["MY_SERVERS"] || hits["HAVE_RELAYS"] {
		t.Errorf("with no relays configured: %v", hits)
	}
}

func TestRawBodyRelayListed(t *testing.T) {
	list := appendGlobs(nil, "mx.example.net")
	for _, tc := range []struct {
		body string
		want bool
	}{
		{"Received: from a by mx.example.net with SMTP\n", true},
		{"Received: from a\n\tby mx.example.net with SMTP\n", true},
		// Continuation lines are joined without a separator, as SA does.
		{"Received: from a by\n mx.example.net \n", true},
		{"Received: from a by\n mx.example.net\n", false}, // the name ends the field: no whitespace after it
		{"Received: from a by\nmx.example.net x\n", false},
		{">> Received: from mx.example.net (x)\n", true},
		{"Received: by mx.example.net", false}, // no whitespace after the name
		{"", false},
	} {
		if got := rawBodyRelayListed([]byte(tc.body), list); got != tc.want {
			t.Errorf("rawBodyRelayListed(%q) = %v, want %v", tc.body, got, tc.want)
		}
	}
}
