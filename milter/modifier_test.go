package milter

import (
	"bytes"
	"context"
	"errors"
	"testing"
)

func TestModifierRequests(t *testing.T) {
	body := bytes.Repeat([]byte("x"), MaxBodyChunk+10)
	var notNegotiated error
	rec := newRecorder()
	rec.eom = func(ctx context.Context, mod *Modifier, m *Macros) (Response, error) {
		for _, err := range []error{
			mod.AddHeader("Authentication-Results", " mx; dkim=pass\r\n\theader.d=example.com"),
			mod.InsertHeader(0, "DKIM-Signature", "\tv=1"),
			mod.ChangeHeader(2, "Subject", "new"),
			mod.DeleteHeader(1, "X-Spam"),
			mod.Quarantine("spam"),
			mod.Progress(),
			mod.ReplaceBody(body),
			mod.AddRcpt("c@z", ""),
			mod.AddRcpt("<d@z>", "NOTIFY=NEVER"),
			mod.DelRcpt("b@y"),
			mod.ChangeFrom("new@x", "SIZE=1"),
		} {
			if err != nil {
				return Continue, err
			}
		}
		notNegotiated = mod.AddHeader("bad name", "v")
		return Continue, nil
	}
	all := ActAddHeader | ActChangeHeader | ActQuarantine | ActChangeBody | ActAddRcpt | ActAddRcptPar | ActDelRcpt | ActChangeFrom
	c := newTConn(t, func(context.Context) Milter { return rec }, Options{Actions: all})
	c.negotiate(6, postfixActions, postfixProtocol)
	c.send(CmdMail, EncodeStrings("<a@x>"))
	c.expect(RespContinue, nil)
	c.send(CmdEOB)
	c.expect(RespAddHeader, EncodeStrings("Authentication-Results", " mx; dkim=pass\n\theader.d=example.com"))
	c.expect(RespInsHeader, EncodeIndexed(0, "DKIM-Signature", "\tv=1"))
	c.expect(RespChgHeader, EncodeIndexed(2, "Subject", "new")) // raw: no space added
	c.expect(RespChgHeader, EncodeIndexed(1, "X-Spam", ""))
	c.expect(RespQuarantine, EncodeStrings("spam"))
	c.expect(RespProgress, []byte{})
	c.expect(RespReplBody, body[:MaxBodyChunk])
	c.expect(RespReplBody, body[MaxBodyChunk:])
	c.expect(RespAddRcpt, EncodeStrings("<c@z>"))
	c.expect(RespAddRcptPar, EncodeStrings("<d@z>", "NOTIFY=NEVER"))
	c.expect(RespDelRcpt, EncodeStrings("<b@y>"))
	c.expect(RespChgFrom, EncodeStrings("<new@x>", "SIZE=1"))
	c.expect(RespContinue, []byte{})
	if notNegotiated == nil {
		t.Error("AddHeader with a space in the name succeeded")
	}
	if n := c.messages("quarantine"); n != 1 {
		t.Errorf("messages_total{quarantine} = %v, want 1", n)
	}
}

func TestModifierActionNotNegotiated(t *testing.T) {
	var got error
	rec := newRecorder()
	rec.eom = func(ctx context.Context, mod *Modifier, m *Macros) (Response, error) {
		got = mod.ReplaceBody([]byte("x\r\n"))
		return Accept, nil
	}
	c := newTConn(t, func(context.Context) Milter { return rec }, Options{Actions: DefaultActions &^ ActChangeBody})
	c.negotiate(6, postfixActions, postfixProtocol)
	c.send(CmdMail, EncodeStrings("<a@x>"))
	c.expect(RespContinue, nil)
	c.send(CmdEOB)
	c.expect(RespAccept, nil)
	if !errors.Is(got, ErrActionNotNegotiated) {
		t.Errorf("ReplaceBody without CHGBODY = %v, want ErrActionNotNegotiated", got)
	}
}

func TestReplyCode(t *testing.T) {
	tests := []struct {
		in, want string
		ok       bool
	}{
		{"550 5.7.1 Blocked", "550 5.7.1 Blocked", true},
		{"451 4.7.1 Try later", "451 4.7.1 Try later", true},
		{"550-5.7.1 line one\r\n550 5.7.1 line two", "550-5.7.1 line one\r\n550 5.7.1 line two", true},
		{"550-first\n550 second\n", "550-first\r\n550 second", true},
		{"550 100% spam", "550 100%% spam", true},
		{"550 no enhanced code", "550 no enhanced code", true},
		{"250 ok", "", false},
		{"550 4.7.1 class mismatch", "", false},
		{"450 5.7.1 class mismatch", "", false},
		{"550 5.7 short enhanced", "", false},
		{"55 short", "", false},
		{"550-only continued", "", false},
		{"550 a\n551 b", "", false},
		{"550 first\n550 second", "", false},
		{"550 nul\x00", "", false},
		{"", "", false},
	}
	for _, tc := range tests {
		r, err := ReplyCode(tc.in)
		if (err == nil) != tc.ok || (tc.ok && (r.Text() != tc.want || r.Code() != RespReplyCode)) {
			t.Errorf("ReplyCode(%q) = %q, %v; want %q ok=%v", tc.in, r.Text(), err, tc.want, tc.ok)
		}
	}
}

func TestReplyCodeResponseOnWire(t *testing.T) {
	rec := newRecorder()
	rec.answer["rcpt"], _ = ReplyCode("550 5.1.1 No such user")
	c := newTConn(t, func(context.Context) Milter { return rec }, Options{})
	c.negotiate(6, postfixActions, postfixProtocol)
	c.send(CmdMail, EncodeStrings("<a@x>"))
	c.expect(RespContinue, nil)
	c.send(CmdRcpt, EncodeStrings("<b@y>"))
	c.expect(RespReplyCode, EncodeStrings("550 5.1.1 No such user"))
}
