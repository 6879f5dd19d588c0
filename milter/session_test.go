package milter

import (
	"context"
	"errors"
	"reflect"
	"strings"
	"testing"
)

func TestNegotiation(t *testing.T) {
	tests := []struct {
		name      string
		version   uint32
		act       OptAction
		proto     OptProtocol
		opts      Options
		wantVer   uint32
		wantAct   OptAction
		wantProto OptProtocol
	}{
		{"postfix v6", 6, postfixActions, postfixProtocol, Options{}, 6, DefaultActions,
			ProtoHdrLeadSpc | ProtoSkip | ProtoNoUnknown | DefaultNoReply},
		{"v2 MTA", 2, 0x3F, 0x7F, Options{}, 2, DefaultActions, 0},
		{"future v7", 7, postfixActions, postfixProtocol, Options{}, 6, DefaultActions,
			ProtoHdrLeadSpc | ProtoSkip | ProtoNoUnknown | DefaultNoReply},
		{"reply always, body off", 6, postfixActions, postfixProtocol,
			Options{ReplyAlways: true, NoEvents: ProtoNoBody}, 6, DefaultActions,
			ProtoHdrLeadSpc | ProtoSkip | ProtoNoUnknown | ProtoNoBody},
		{"actions reduced to offer", 6, ActAddHeader, postfixProtocol,
			Options{Actions: ActAddHeader | ActChangeBody}, 6, ActAddHeader,
			ProtoHdrLeadSpc | ProtoSkip | ProtoNoUnknown | DefaultNoReply},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c := newTConn(t, func(context.Context) Milter { return NoOpMilter{} }, tc.opts)
			got := c.negotiate(tc.version, tc.act, tc.proto)
			if got.Version != tc.wantVer || got.Actions != tc.wantAct || got.Protocol != tc.wantProto {
				t.Errorf("OPTNEG reply = v%d act=%#x proto=%#x, want v%d act=%#x proto=%#x",
					got.Version, got.Actions, got.Protocol, tc.wantVer, tc.wantAct, tc.wantProto)
			}
		})
	}
}

func TestVersionTooOldCloses(t *testing.T) {
	c := newTConn(t, func(context.Context) Milter { return NoOpMilter{} }, Options{})
	c.send(CmdOptNeg, OptNeg{Version: 1, Actions: 1, Protocol: 0}.Encode())
	c.expectClosed()
	if n := c.counter(c.srv.m.protocolErrors); n != 1 {
		t.Errorf("protocol_errors_total = %v, want 1", n)
	}
}

// sendMessage plays one Postfix transaction with headers/body/EOH under
// the NR_* defaults (no replies for those) and returns the EOM replies.
func sendMessage(c *tconn, qid, from string, rcpts []string) []Packet {
	c.t.Helper()
	c.macros(CmdMail, "i", qid, "{mail_addr}", from)
	c.send(CmdMail, EncodeStrings("<"+from+">", "SIZE=100"))
	c.expect(RespContinue, nil)
	for _, r := range rcpts {
		c.macros(CmdRcpt, "i", qid, "{rcpt_addr}", r)
		c.send(CmdRcpt, EncodeStrings("<"+r+">"))
		c.expect(RespContinue, nil)
	}
	c.macros(CmdData, "i", qid)
	c.send(CmdData)
	c.macros(CmdHeader, "i", qid)
	c.send(CmdHeader, EncodeStrings("Subject", " hello\n\tworld"))
	c.send(CmdEOH)
	c.send(CmdBody, []byte("line\r\n"))
	c.macros(CmdEOB, "i", qid)
	c.send(CmdEOB)
	var out []Packet
	for {
		p := c.read()
		out = append(out, p)
		if p.Code != RespAddHeader && p.Code != RespInsHeader && p.Code != RespChgHeader && p.Code != RespQuarantine {
			return out
		}
	}
}

func TestTwoMessagesOneConnection(t *testing.T) {
	rec := newRecorder()
	rec.eom = func(ctx context.Context, mod *Modifier, m *Macros) (Response, error) {
		return Continue, mod.AddHeader("X-Seen", " "+rec.host+" "+m.Get("i"))
	}
	c := newTConn(t, func(context.Context) Milter { return rec }, Options{})
	neg := c.negotiate(6, postfixActions, postfixProtocol)
	if neg.Protocol&ProtoNRData == 0 {
		t.Fatalf("NR_DATA not negotiated: %#x", neg.Protocol)
	}
	c.macros(CmdConnect, "j", "mx.example", "{daemon_name}", "mx.example")
	c.send(CmdConnect, connectData("client.example", "192.0.2.1", 40000))
	c.expect(RespContinue, nil)
	c.macros(CmdHelo)
	c.send(CmdHelo, EncodeStrings("client.example"))
	c.expect(RespContinue, nil)

	for i, qid := range []string{"AAA111", "BBB222"} {
		got := sendMessage(c, qid, "a@client.example", []string{"b@example.org"})
		want := []Packet{
			{RespAddHeader, EncodeStrings("X-Seen", " client.example "+qid)},
			{RespContinue, []byte{}},
		}
		if len(got) != 2 || got[0].Code != want[0].Code || string(got[0].Data) != string(want[0].Data) || got[1].Code != RespContinue {
			t.Fatalf("message %d: EOM replies = %q, want %q", i, got, want)
		}
		if rec.seen["eom:j"] != "mx.example" || rec.seen["eom:i"] != qid || rec.seen["eom:mail_addr"] != "a@client.example" {
			t.Errorf("message %d: macros at EOM = %v", i, rec.seen)
		}
	}
	c.send(CmdQuit)
	c.expectClosed()
	wantCalls := []string{"connect client.example 192.0.2.1", "helo client.example"}
	for range 2 {
		wantCalls = append(wantCalls, "mail a@client.example", "rcpt b@example.org", "data",
			"header Subject: hello\n\tworld", "eoh", "body line\r\n", "eom")
	}
	if got := rec.callList(); !reflect.DeepEqual(got, wantCalls) {
		t.Errorf("calls =\n%q\nwant\n%q", got, wantCalls)
	}
	if n := c.messages("accept"); n != 2 {
		t.Errorf("messages_total{accept} = %v, want 2", n)
	}
	if !rec.closed {
		t.Error("Close not called after QUIT")
	}
}

func TestAbortKeepsConnectionMacros(t *testing.T) {
	rec := newRecorder()
	c := newTConn(t, func(context.Context) Milter { return rec }, Options{})
	c.negotiate(6, postfixActions, postfixProtocol)
	c.macros(CmdConnect, "j", "mx.example")
	c.send(CmdConnect, connectData("[192.0.2.1]", "192.0.2.1", 1))
	c.expect(RespContinue, nil)
	c.macros(CmdMail, "{mail_addr}", "a@x")
	c.send(CmdMail, EncodeStrings("<a@x>"))
	c.expect(RespContinue, nil)
	c.send(CmdAbort)
	// A second transaction sees CONNECT's j but no longer MAIL's {mail_addr}.
	c.send(CmdMail, EncodeStrings("<>"))
	c.expect(RespContinue, nil)
	if rec.seen["mail:j"] != "mx.example" {
		t.Errorf("j after abort = %q", rec.seen["mail:j"])
	}
	c.send(CmdEOB)
	c.expect(RespContinue, nil)
	if rec.seen["eom:mail_addr"] != "" || rec.seen["eom:j"] != "mx.example" {
		t.Errorf("macros after ABORT: %v", rec.seen)
	}
	if n := c.messages("aborted"); n != 1 {
		t.Errorf("messages_total{aborted} = %v, want 1", n)
	}
	calls := rec.callList()
	if calls[2] != "abort" || calls[3] != "mail " {
		t.Errorf("calls = %q", calls)
	}
}

func TestHeldRejectFromNoReplyEvent(t *testing.T) {
	rec := newRecorder()
	rec.answer["header"] = Reject
	c := newTConn(t, func(context.Context) Milter { return rec }, Options{})
	c.negotiate(6, postfixActions, postfixProtocol)
	got := sendMessage(c, "Q1", "a@x", []string{"b@y"})
	if len(got) != 1 || got[0].Code != RespReject {
		t.Fatalf("EOM reply = %q, want reject", got)
	}
	for _, call := range rec.callList() {
		if call == "eoh" || call == "eom" || strings.HasPrefix(call, "body") {
			t.Errorf("callback %q made after the decision", call)
		}
	}
	if n := c.messages("reject"); n != 1 {
		t.Errorf("messages_total{reject} = %v, want 1", n)
	}
}

func TestReplyAlwaysRepliesEveryEvent(t *testing.T) {
	rec := newRecorder()
	rec.answer["body"] = Skip
	c := newTConn(t, func(context.Context) Milter { return rec }, Options{ReplyAlways: true})
	neg := c.negotiate(6, postfixActions, postfixProtocol)
	if neg.Protocol&ProtoNRAll != 0 {
		t.Fatalf("NR bits negotiated with ReplyAlways: %#x", neg.Protocol)
	}
	c.send(CmdMail, EncodeStrings("<a@x>"))
	c.expect(RespContinue, nil)
	c.send(CmdData)
	c.expect(RespContinue, nil)
	c.send(CmdHeader, EncodeStrings("From", " a@x"))
	c.expect(RespContinue, nil)
	c.send(CmdEOH)
	c.expect(RespContinue, nil)
	c.send(CmdBody, []byte("one\r\n"))
	c.expect(RespSkip, nil)
	c.send(CmdEOB)
	c.expect(RespContinue, nil)
}

func TestSkipWithoutReplyStopsBodyCalls(t *testing.T) {
	rec := newRecorder()
	rec.answer["body"] = Skip
	c := newTConn(t, func(context.Context) Milter { return rec }, Options{})
	c.negotiate(6, postfixActions, postfixProtocol)
	c.send(CmdMail, EncodeStrings("<a@x>"))
	c.expect(RespContinue, nil)
	c.send(CmdBody, []byte("one\r\n"))
	c.send(CmdBody, []byte("two\r\n"))
	c.send(CmdEOB)
	c.expect(RespContinue, nil)
	n := 0
	for _, call := range rec.callList() {
		if strings.HasPrefix(call, "body") {
			n++
		}
	}
	if n != 1 {
		t.Errorf("BodyChunk called %d times after Skip, want 1", n)
	}
}

func TestV2MTA(t *testing.T) {
	rec := newRecorder()
	rec.eom = func(ctx context.Context, mod *Modifier, m *Macros) (Response, error) {
		return Continue, mod.AddHeader("X-A", " spaced")
	}
	c := newTConn(t, func(context.Context) Milter { return rec }, Options{})
	c.negotiate(2, 0x3F, 0x7F)
	c.send(CmdConnect, connectData("h", "192.0.2.7", 25))
	c.expect(RespContinue, nil)
	c.send(CmdMail, EncodeStrings("<a@x>"))
	c.expect(RespContinue, nil)
	c.send(CmdRcpt, EncodeStrings("<b@y>"))
	c.expect(RespContinue, nil)
	// v2: no DATA, replies to every header; the MTA stripped the space.
	c.send(CmdHeader, EncodeStrings("Subject", "hi"))
	c.expect(RespContinue, nil)
	c.send(CmdHeader, EncodeStrings("X-Tab", "\tx"))
	c.expect(RespContinue, nil)
	c.send(CmdEOH)
	c.expect(RespContinue, nil)
	c.send(CmdBody, []byte("b\r\n"))
	c.expect(RespContinue, nil)
	c.send(CmdEOB)
	// Without LEADSPC the MTA adds the space itself: we drop ours.
	c.expect(RespAddHeader, EncodeStrings("X-A", "spaced"))
	c.expect(RespContinue, nil)
	calls := rec.callList()
	if calls[3] != "header Subject: hi" || calls[4] != "header X-Tab:\tx" {
		t.Errorf("header values = %q", calls[3:5])
	}
}

type panicky struct{ NoOpMilter }

func (panicky) MailFrom(context.Context, string, []string, *Macros) (Response, error) {
	panic("boom")
}
func (panicky) RcptTo(context.Context, string, []string, *Macros) (Response, error) {
	return Continue, errors.New("database down")
}

func TestPanicAndErrorGiveTempfail(t *testing.T) {
	c := newTConn(t, func(context.Context) Milter { return panicky{} }, Options{})
	c.negotiate(6, postfixActions, postfixProtocol)
	c.send(CmdMail, EncodeStrings("<a@x>"))
	c.expect(RespTempFail, nil)
	if n := c.counter(c.srv.m.panics); n != 1 {
		t.Errorf("panics_total = %v, want 1", n)
	}
	// The connection survives; a new MAIL starts a new transaction.
	c.send(CmdAbort)
	c.send(CmdMail, EncodeStrings("<a@x>"))
	c.expect(RespTempFail, nil)
	c.send(CmdAbort)
	if n := c.messages("tempfail"); n != 2 {
		t.Errorf("messages_total{tempfail} = %v, want 2", n)
	}
}

func TestErrorAtRcptRefusesOnlyRecipient(t *testing.T) {
	c := newTConn(t, func(context.Context) Milter { return NoOpMilterWithRcptErr{} }, Options{})
	c.negotiate(6, postfixActions, postfixProtocol)
	c.send(CmdMail, EncodeStrings("<a@x>"))
	c.expect(RespContinue, nil)
	c.send(CmdRcpt, EncodeStrings("<b@y>"))
	c.expect(RespTempFail, nil)
	c.send(CmdEOB)
	c.expect(RespContinue, nil)
	if n := c.messages("accept"); n != 1 {
		t.Errorf("messages_total{accept} = %v, want 1 (a recipient tempfail does not end the message)", n)
	}
}

type NoOpMilterWithRcptErr struct{ NoOpMilter }

func (NoOpMilterWithRcptErr) RcptTo(context.Context, string, []string, *Macros) (Response, error) {
	return Continue, errors.New("lookup failed")
}

func TestOversizePacketCloses(t *testing.T) {
	c := newTConn(t, func(context.Context) Milter { return NoOpMilter{} }, Options{MaxPacketSize: 70000})
	c.negotiate(6, postfixActions, postfixProtocol)
	c.send(CmdMail, EncodeStrings("<a@x>"))
	c.expect(RespContinue, nil)
	// Only the length prefix is sent: the server must not wait for 2 MiB.
	c.c.Write([]byte{0, 0x20, 0, 0})
	c.expectClosed()
	if n := c.counter(c.srv.m.protocolErrors); n != 1 {
		t.Errorf("protocol_errors_total = %v, want 1", n)
	}
	if n := c.messages("aborted"); n != 1 {
		t.Errorf("messages_total{aborted} = %v, want 1", n)
	}
}

func TestProtocolErrors(t *testing.T) {
	tests := []struct {
		name string
		pkts []Packet
	}{
		{"connect before optneg", []Packet{{CmdConnect, connectData("h", "1.2.3.4", 1)}}},
		{"rcpt outside transaction", []Packet{{CmdRcpt, EncodeStrings("<a@b>")}}},
		{"eom outside transaction", []Packet{{CmdEOB, nil}}},
		{"unknown command", []Packet{{Code('Z'), nil}}},
		{"header without NUL", []Packet{{CmdMail, EncodeStrings("<>")}, {CmdHeader, []byte("Subject")}}},
		{"second optneg", []Packet{{CmdOptNeg, OptNeg{Version: 6}.Encode()}}},
		{"bad connect family", []Packet{{CmdConnect, []byte("h\x00X\x00\x01a\x00")}}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c := newTConn(t, func(context.Context) Milter { return NoOpMilter{} }, Options{ReplyAlways: true})
			if tc.name != "connect before optneg" {
				c.negotiate(6, postfixActions, postfixProtocol)
			}
			for i, p := range tc.pkts {
				c.send(p.Code, p.Data)
				if i < len(tc.pkts)-1 {
					c.read()
				}
			}
			c.expectClosed()
			if n := c.counter(c.srv.m.protocolErrors); n != 1 {
				t.Errorf("protocol_errors_total = %v, want 1", n)
			}
		})
	}
}

func TestEOBWithLastChunk(t *testing.T) {
	rec := newRecorder()
	c := newTConn(t, func(context.Context) Milter { return rec }, Options{})
	c.negotiate(6, postfixActions, postfixProtocol)
	c.send(CmdMail, EncodeStrings("<a@x>"))
	c.expect(RespContinue, nil)
	c.send(CmdEOB, []byte("tail\r\n"))
	c.expect(RespContinue, nil)
	calls := rec.callList()
	if len(calls) != 3 || calls[1] != "body tail\r\n" || calls[2] != "eom" {
		t.Errorf("calls = %q", calls)
	}
	rec.answer["body"] = Reject
	c.send(CmdMail, EncodeStrings("<a@x>"))
	c.expect(RespContinue, nil)
	c.send(CmdEOB, []byte("tail\r\n"))
	c.expect(RespReject, nil)
}
