package policy

import (
	"bufio"
	"errors"
	"io"
	"net/netip"
	"strings"
	"testing"
)

// postfixRequest is a request as Postfix 3.7 sends it at RCPT.
const postfixRequest = "request=smtpd_access_policy\nprotocol_state=RCPT\nprotocol_name=ESMTP\n" +
	"client_address=192.0.2.10\nclient_name=mail.example.com\nreverse_client_name=mail.example.com\n" +
	"client_port=41234\nhelo_name=mail.example.com\nsender=alice@example.com\nrecipient=bob@example.org\n" +
	"recipient_count=0\nqueue_id=\ninstance=3c8a.6570a1b2.a1b2c.0\nsize=1234\netrn_domain=\nstress=\n" +
	"sasl_method=\nsasl_username=\nsasl_sender=\nccert_subject=\nccert_issuer=\nccert_fingerprint=\n" +
	"ccert_pubkey_fingerprint=\nencryption_protocol=TLSv1.3\nencryption_cipher=TLS_AES_256_GCM_SHA384\n" +
	"encryption_keysize=256\npolicy_context=\nserver_address=192.0.2.1\nserver_port=25\n\n"

func TestReadRequestTyped(t *testing.T) {
	req, err := ReadRequest(NewReader(strings.NewReader(postfixRequest), Limits{}), Limits{})
	if err != nil {
		t.Fatal(err)
	}
	checks := []struct {
		name      string
		got, want any
	}{
		{"ProtocolState", req.ProtocolState, "RCPT"},
		{"ClientAddress", req.ClientAddress, netip.MustParseAddr("192.0.2.10")},
		{"Sender", req.Sender, "alice@example.com"},
		{"Recipient", req.Recipient, "bob@example.org"},
		{"HeloName", req.HeloName, "mail.example.com"},
		{"Instance", req.Instance, "3c8a.6570a1b2.a1b2c.0"},
		{"Size", req.Size, int64(1234)},
		{"EncryptionKeysize", req.EncryptionKeysize, int64(256)},
		{"ClientPort", req.ClientPort, int64(41234)},
		{"ServerAddress", req.ServerAddress, netip.MustParseAddr("192.0.2.1")},
		{"ServerPort", req.ServerPort, int64(25)},
		{"Stress", req.Stress, false},
		{"Attrs", len(req.Attrs), 29},
	}
	for _, c := range checks {
		if c.got != c.want {
			t.Errorf("%s = %v, want %v", c.name, c.got, c.want)
		}
	}
}

func TestReadRequestErrors(t *testing.T) {
	lim := Limits{MaxLineLength: 64, MaxAttributes: 4, MaxRequestSize: 200}
	tests := []struct {
		name, in string
		syntax   bool  // want *SyntaxError
		err      error // else want this error
	}{
		{"clean EOF", "", false, io.EOF},
		{"EOF mid request", "request=smtpd_access_policy\n", false, io.ErrUnexpectedEOF},
		{"no equals", "request=smtpd_access_policy\ngarbage\n\n", true, nil},
		{"empty name", "=x\n\n", true, nil},
		{"empty request", "\n", true, nil},
		{"wrong type", "request=other\n\n", true, nil},
		{"missing type", "sender=a@b\n\n", true, nil},
		{"long line", "request=smtpd_access_policy\nx=" + strings.Repeat("a", 100) + "\n\n", true, nil},
		{"too many attrs", "request=smtpd_access_policy\na=1\nb=2\nc=3\nd=4\n\n", true, nil},
		{"too big", "request=smtpd_access_policy\n" + strings.Repeat("a=12345678901234567890\n", 3) +
			strings.Repeat("b=12345678901234567890123456789012345678901234\n", 3) + "\n", true, nil},
		{"NUL", "request=smtpd_access_policy\nx=a\x00b\n\n", true, nil},
	}
	for _, tc := range tests {
		_, err := ReadRequest(NewReader(strings.NewReader(tc.in), lim), lim)
		var se *SyntaxError
		if tc.syntax && !errors.As(err, &se) {
			t.Errorf("%s: err = %v, want SyntaxError", tc.name, err)
		}
		if !tc.syntax && !errors.Is(err, tc.err) {
			t.Errorf("%s: err = %v, want %v", tc.name, err, tc.err)
		}
	}
}

func TestReadRequestSequence(t *testing.T) {
	in := "request=smtpd_access_policy\nsender=a@x\nsender=b@x\r\n\nrequest=smtpd_access_policy\nsender=\n\n"
	br := bufio.NewReader(strings.NewReader(in))
	r1, err := ReadRequest(br, Limits{})
	if err != nil || r1.Sender != "b@x" {
		t.Fatalf("first = %+v, %v (duplicate: last wins)", r1, err)
	}
	r2, err := ReadRequest(br, Limits{})
	if err != nil || r2.Sender != "" {
		t.Fatalf("second = %+v, %v", r2, err)
	}
	if _, err := ReadRequest(br, Limits{}); err != io.EOF {
		t.Fatalf("third err = %v, want EOF", err)
	}
}

func TestActionVerb(t *testing.T) {
	tests := map[Action]string{
		Dunno: "dunno", OK: "ok", "123": "ok", Reject("no"): "reject",
		DeferIfPermit("later"): "defer_if_permit", Prepend("X-A: b"): "prepend",
		Reply(550, "5.7.23", "x"): "5xx", "450 try again": "4xx", "permit_mynetworks": "other",
		"  Defer_If_Reject x": "defer_if_reject", "": "other",
	}
	for a, want := range tests {
		if got := a.Verb(); got != want {
			t.Errorf("Action(%q).Verb() = %q, want %q", a, got, want)
		}
	}
	if got := Reply(550, "5.7.23", "Message rejected"); got != "550 5.7.23 Message rejected" {
		t.Errorf("Reply = %q", got)
	}
}

func TestWriteActionSanitizes(t *testing.T) {
	var b strings.Builder
	if err := WriteAction(&b, Reject("a\nb\r\x00c")); err != nil {
		t.Fatal(err)
	}
	if got := b.String(); got != "action=REJECT a b  c\n\n" {
		t.Errorf("WriteAction = %q", got)
	}
}
