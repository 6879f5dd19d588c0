package milter

import (
	"bytes"
	"context"
	"log/slog"
	"strings"
	"sync"
	"testing"
)

// syncBuffer lets the session goroutine log while the test reads.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

type attrMilter struct{ NoOpMilter }

func (attrMilter) EndOfMessage(ctx context.Context, _ *Modifier, _ *Macros) (Response, error) {
	AddLogAttrs(ctx, slog.String("dkim", "pass"))
	if Negotiated(ctx).Version != 6 {
		return TempFail, nil
	}
	return Continue, nil
}

func TestOneLogLinePerTransaction(t *testing.T) {
	var buf syncBuffer
	logger := slog.New(slog.NewTextHandler(&buf, nil))
	c := newTConn(t, func(context.Context) Milter { return attrMilter{} }, Options{Logger: logger})
	c.negotiate(6, postfixActions, postfixProtocol)
	c.send(CmdConnect, connectData("client.example", "192.0.2.9", 5))
	c.expect(RespContinue, nil)
	got := sendMessage(c, "7QX1", "a@example.com", []string{"b@y", "c@y"})
	if got[0].Code != RespContinue {
		t.Fatalf("EOM reply %s", got[0].Code)
	}
	c.send(CmdMail, EncodeStrings("<x@y>"))
	c.expect(RespContinue, nil)
	c.send(CmdAbort)
	c.send(CmdQuit)
	c.expectClosed()
	<-c.done
	lines := strings.Split(strings.TrimSpace(buf.String()), "\n")
	if len(lines) != 2 {
		t.Fatalf("log has %d lines, want 2:\n%s", len(lines), buf.String())
	}
	for _, want := range []string{"queue_id=7QX1", `client="client.example [192.0.2.9]"`, "from=a@example.com", "rcpts=2", "result=accept", "duration=", "dkim=pass"} {
		if !strings.Contains(lines[0], want) {
			t.Errorf("log line lacks %s: %s", want, lines[0])
		}
	}
	if !strings.Contains(lines[1], "result=aborted") || strings.Contains(lines[1], "dkim=pass") {
		t.Errorf("abort line: %s", lines[1])
	}
}

func TestQuitNCStartsFreshMilter(t *testing.T) {
	var made []*recorder
	c := newTConn(t, func(context.Context) Milter { r := newRecorder(); made = append(made, r); return r }, Options{})
	c.negotiate(6, postfixActions, postfixProtocol)
	c.send(CmdConnect, connectData("one", "192.0.2.1", 1))
	c.expect(RespContinue, nil)
	c.send(CmdMail, EncodeStrings("<a@b>"))
	c.expect(RespContinue, nil)
	c.send(CmdQuitNC)
	c.send(CmdConnect, connectData("two", "192.0.2.2", 2))
	c.expect(RespContinue, nil)
	c.send(CmdMail, EncodeStrings("<c@d>"))
	c.expect(RespContinue, nil)
	if len(made) != 2 || !made[0].closed || made[1].host != "two" {
		t.Errorf("milters made %d, first closed %v", len(made), len(made) > 0 && made[0].closed)
	}
}

func TestSymListsInReply(t *testing.T) {
	lists := map[Stage]string{StageMail: "{auth_authen} {mail_addr}", StageEOM: "i"}
	c := newTConn(t, func(context.Context) Milter { return NoOpMilter{} }, Options{SymLists: lists})
	got := c.negotiate(6, postfixActions, postfixProtocol)
	if got.Actions&ActSetSymList == 0 || len(got.SymLists) != 2 || got.SymLists[StageMail] != lists[StageMail] || got.SymLists[StageEOM] != "i" {
		t.Errorf("reply = %+v", got)
	}
	// An MTA without SETSYMLIST gets no lists.
	c = newTConn(t, func(context.Context) Milter { return NoOpMilter{} }, Options{SymLists: lists})
	if got := c.negotiate(6, postfixActions&^ActSetSymList, postfixProtocol); got.SymLists != nil || got.Actions&ActSetSymList != 0 {
		t.Errorf("reply without offer = %+v", got)
	}
}

func TestMacrosLookup(t *testing.T) {
	var m Macros
	m.set(StageConnect, []string{"j", "mx", "{daemon_name}", "ORIGINATING"})
	m.set(StageMail, []string{"{auth_authen}", "alice", "i", "MAILQ"})
	m.set(StageRcpt, []string{"i", "RCPTQ"})
	tests := []struct {
		name, want string
		ok         bool
	}{
		{"j", "mx", true}, {"{daemon_name}", "ORIGINATING", true}, {"daemon_name", "ORIGINATING", true},
		{"auth_authen", "alice", true}, {"i", "RCPTQ", true}, {"{client_addr}", "", false},
	}
	for _, tc := range tests {
		if v, ok := m.Lookup(tc.name); v != tc.want || ok != tc.ok {
			t.Errorf("Lookup(%q) = %q, %v; want %q, %v", tc.name, v, ok, tc.want, tc.ok)
		}
	}
	m.set(StageMail, []string{"i", "NEXT"}) // a new transaction drops RCPT's values
	if v := m.Get("i"); v != "NEXT" {
		t.Errorf("after new MAIL, i = %q", v)
	}
	m.abort()
	if v := m.Get("i"); v != "" || m.Get("j") != "mx" {
		t.Errorf("after abort: i=%q j=%q", v, m.Get("j"))
	}
	if got := m.Stage(StageConnect); got["j"] != "mx" || len(got) != 2 {
		t.Errorf("Stage(connect) = %v", got)
	}
}

func TestHeaderField(t *testing.T) {
	f := HeaderField("Subject", " a\n\tb")
	if f.Raw() != "Subject: a\r\n\tb\r\n" {
		t.Errorf("Raw = %q", f.Raw())
	}
	if f := HeaderField("X", " a\r\n b"); f.Value != " a\r\n b" {
		t.Errorf("CRLF value changed: %q", f.Value)
	}
}

func TestTrace(t *testing.T) {
	var buf syncBuffer
	c := newTConn(t, func(context.Context) Milter { return NoOpMilter{} }, Options{Trace: &buf})
	c.negotiate(6, postfixActions, postfixProtocol)
	c.send(CmdMail, EncodeStrings("<a@b>"))
	c.expect(RespContinue, nil)
	c.send(CmdBody, []byte("secret body"))
	c.send(CmdQuit)
	c.expectClosed()
	<-c.done
	got := buf.String()
	for _, want := range []string{"< OPTNEG 12 ", "> OPTNEG 12 ", "< MAIL 6 \"<a@b>\\x00\"", "> CONTINUE 0", "< BODY 11 \"\""} {
		if !strings.Contains(got, want) {
			t.Errorf("trace lacks %q:\n%s", want, got)
		}
	}
	if strings.Contains(got, "secret") {
		t.Error("trace shows body data")
	}
}
