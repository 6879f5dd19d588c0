package milter_test

import (
	"context"
	"fmt"
	"github.com/gomilter/gomilter/internal/testenv"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gomilter/gomilter/internal/postfixtest"
	"github.com/gomilter/gomilter/milter"
)

// behave is a Milter whose decisions depend on the MAIL FROM local part,
// after the cases in testsuites/milter-postfix-behaviour (re-implemented).
type behave struct {
	milter.NoOpMilter
	seen *seenLog
	helo string
	seq  int // messages on this connection
	from string
}

// seenLog collects what milters saw, across connections.
type seenLog struct {
	mu       sync.Mutex
	headers  map[string][]string // queue id -> "Name:value" as received
	connects int
	current  []string
}

func (b *behave) Connect(context.Context, milter.ConnectInfo, *milter.Macros) (milter.Response, error) {
	b.seen.mu.Lock()
	b.seen.connects++
	b.seen.mu.Unlock()
	return milter.Continue, nil
}

func (b *behave) Helo(_ context.Context, name string, _ *milter.Macros) (milter.Response, error) {
	b.helo = name
	return milter.Continue, nil
}

func (b *behave) MailFrom(_ context.Context, from string, _ []string, _ *milter.Macros) (milter.Response, error) {
	b.from, _, _ = strings.Cut(from, "@")
	b.seq++
	b.seen.mu.Lock()
	b.seen.current = nil
	b.seen.mu.Unlock()
	switch b.from {
	case "tempfail":
		return milter.TempFail, nil
	case "discard":
		return milter.Discard, nil
	}
	return milter.Continue, nil
}

func (b *behave) RcptTo(_ context.Context, rcpt string, _ []string, _ *milter.Macros) (milter.Response, error) {
	if strings.HasPrefix(rcpt, "bad@") {
		return milter.ReplyCode("550 5.7.1 Rejected by example backend")
	}
	return milter.Continue, nil
}

func (b *behave) Header(_ context.Context, name, value string, _ *milter.Macros) (milter.Response, error) {
	b.seen.mu.Lock()
	b.seen.current = append(b.seen.current, name+":"+value)
	b.seen.mu.Unlock()
	if b.from == "hdr" && name == "Subject" && strings.HasPrefix(strings.TrimSpace(value), "reject") {
		return milter.Reject, nil // a no-reply event: held until end of message
	}
	return milter.Continue, nil
}

func (b *behave) EndOfMessage(_ context.Context, mod *milter.Modifier, m *milter.Macros) (milter.Response, error) {
	b.seen.mu.Lock()
	b.seen.headers[m.Get("i")] = b.seen.current
	b.seen.mu.Unlock()
	switch b.from {
	case "reject-me":
		return milter.ReplyCode("550-5.7.1 We do not like you\r\n550 5.7.1 very much, please go away")
	case "hold":
		return milter.Quarantine("held by test"), nil
	case "edit":
		return milter.Continue, edits(mod)
	}
	info := fmt.Sprintf("seq=%d helo=%s j=%s daemon=%s i=%s", b.seq, b.helo, m.Get("j"), m.Get("{daemon_name}"), m.Get("i"))
	return milter.Continue, mod.AddHeader("X-Test-Info", " "+info)
}

func edits(mod *milter.Modifier) error {
	for _, err := range []error{
		mod.InsertHeader(0, "X-First", " 1"),
		mod.AddHeader("X-Multi", " Line1\r\n\tLine2\r\n\tLine3"),
		mod.ChangeHeader(1, "Subject", " changed"),
		mod.DeleteHeader(1, "X-Delete-Me"),
		mod.AddHeader("X-Raw", "\tverbatim"),
		mod.AddHeader("X-Tight", "nospace"),
	} {
		if err != nil {
			return err
		}
	}
	return nil
}

// startBehave serves behave milters on a loopback port.
func startBehave(t *testing.T) (addr string, seen *seenLog) {
	t.Helper()
	seen = &seenLog{headers: map[string][]string{}}
	srv, err := milter.NewServer(func(context.Context) milter.Milter { return &behave{seen: seen} }, milter.Options{})
	if err != nil {
		t.Fatal(err)
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go srv.Serve(l)
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		srv.Shutdown(ctx)
	})
	return l.Addr().String(), seen
}

func startPostfix(t *testing.T, milterAddr, protocol string) *postfixtest.Instance {
	t.Helper()
	return postfixtest.Start(t, postfixtest.Options{MainCF: map[string]string{
		"smtpd_milters":         "inet:" + milterAddr,
		"milter_protocol":       protocol,
		"milter_default_action": "reject", // a broken milter must fail the test loudly
	}})
}

const rawMsg = "From: a@example.com\r\nTo: b@example.org\r\n" +
	"Subject:  two  spaces\r\n\tfolded line\r\nX-Tab:\ttab\r\nX-Delete-Me: x\r\n\r\nhello\r\n"

// sinkMessage waits for the sink to hold a message for which match is true.
func sinkMessage(t *testing.T, inst *postfixtest.Instance, match func(postfixtest.SinkMessage) bool) (postfixtest.SinkMessage, bool) {
	t.Helper()
	for deadline := time.Now().Add(20 * time.Second); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		for _, m := range inst.Sink().Messages() {
			if match(m) {
				return m, true
			}
		}
	}
	return postfixtest.SinkMessage{}, false
}

func byQueueID(qid string) func(postfixtest.SinkMessage) bool {
	return func(m postfixtest.SinkMessage) bool { return strings.Contains(string(m.Data), "i="+qid) }
}

func TestPostfixSessionStateAndMacros(t *testing.T) {
	testenv.SkipShort(t, "starts Postfix")
	addr, seen := startBehave(t)
	inst := startPostfix(t, addr, "6")
	seen.mu.Lock()
	seen.connects = 0 // the harness's readiness probe was a session too
	seen.mu.Unlock()
	s := inst.NewSession(t)
	if err := s.Helo("client.test"); err != nil {
		t.Fatal(err)
	}
	var qids []string
	for range 2 { // two messages on one SMTP session: one milter connection
		if err := s.Mail("ok@example.com"); err != nil {
			t.Fatal(err)
		}
		if err := s.Rcpt("b@example.org"); err != nil {
			t.Fatal(err)
		}
		if err := s.Data([]byte(rawMsg)); err != nil {
			t.Fatal(err)
		}
		qids = append(qids, s.QueueID())
	}
	s.Close()
	for i, qid := range qids {
		m, ok := sinkMessage(t, inst, byQueueID(qid))
		if !ok {
			t.Fatalf("message %s not relayed; log:\n%s", qid, inst.Log())
		}
		want := fmt.Sprintf("X-Test-Info: seq=%d helo=client.test j=mx.test.example daemon=mx.test.example i=%s\r\n", i+1, qid)
		if !strings.Contains(string(m.Data), want) {
			t.Errorf("message %d lacks %q:\n%s", i+1, want, m.Data)
		}
	}
	seen.mu.Lock()
	defer seen.mu.Unlock()
	if seen.connects != 1 {
		t.Errorf("Connect called %d times for one SMTP session", seen.connects)
	}
	// HDR_LEADSPC: values byte-exact; Postfix's own Received: hidden
	// (cleanup's added Message-Id and Date follow ours).
	want := []string{"From: a@example.com", "To: b@example.org", "Subject:  two  spaces\n\tfolded line", "X-Tab:\ttab", "X-Delete-Me: x"}
	if got := seen.headers[qids[0]]; len(got) < len(want) || strings.Join(got[:len(want)], "|") != strings.Join(want, "|") {
		t.Errorf("headers seen =\n%q\nwant\n%q", got, want)
	}
}

func TestPostfixDecisionsAndEdits(t *testing.T) {
	testenv.SkipShort(t, "starts Postfix")
	for _, proto := range []string{"6", "2"} {
		t.Run("protocol"+proto, func(t *testing.T) {
			addr, _ := startBehave(t)
			inst := startPostfix(t, addr, proto)
			postfixDecisions(t, inst, proto == "6")
		})
	}
}

func postfixDecisions(t *testing.T, inst *postfixtest.Instance, leadSpace bool) {
	// Header edits at end of message.
	qid, err := inst.SendID(t, "edit@example.com", []string{"b@example.org"}, []byte(rawMsg))
	if err != nil {
		t.Fatalf("edit: %v\n%s", err, inst.Log())
	}
	m, ok := sinkMessage(t, inst, func(m postfixtest.SinkMessage) bool { return m.From == "edit@example.com" })
	if !ok {
		t.Fatalf("edited message %s not relayed:\n%s", qid, inst.Log())
	}
	data := string(m.Data)
	// Values are raw (what follows the colon) only with HDR_LEADSPC;
	// without it Postfix always puts a space after the colon.
	raw, tight := "X-Raw:\tverbatim\r\n", "X-Tight:nospace\r\n"
	if !leadSpace {
		raw, tight = "X-Raw: \tverbatim\r\n", "X-Tight: nospace\r\n"
	}
	for _, want := range []string{"X-Multi: Line1\r\n\tLine2\r\n\tLine3\r\n", "Subject: changed\r\n", raw, tight} {
		if !strings.Contains(data, want) {
			t.Errorf("edited message lacks %q:\n%s", want, data)
		}
	}
	if !strings.HasPrefix(data, "X-First: 1\r\nReceived: ") || strings.Contains(data, "X-Delete-Me") {
		t.Errorf("insert at 0 / delete wrong:\n%s", data)
	}

	postfixRefusals(t, inst)
}

// postfixRefusals: a refused recipient, then decisions made at MAIL, at
// end of message and (held) at a header, discard and quarantine.
func postfixRefusals(t *testing.T, inst *postfixtest.Instance) {
	// One recipient refused at RCPT.
	s := inst.NewSession(t)
	s.Helo("client.test")
	s.Mail("ok@example.com")
	err := s.Rcpt("bad@example.org")
	if postfixtest.Code(err) != 550 || !strings.Contains(err.Error(), "5.7.1 Rejected by example backend") {
		t.Errorf("RCPT bad = %v, want 550 5.7.1 Rejected by example backend", err)
	}
	s.Close()

	checks := []struct {
		from, subject string
		code          int
		text          string
	}{
		{"tempfail@example.com", "x", 451, "4.7.1"},
		{"reject-me@example.com", "x", 550, "very much, please go away"},
		{"hdr@example.com", "reject", 550, "5.7.1"},
	}
	for _, c := range checks {
		msg := strings.Replace(rawMsg, "Subject:  two  spaces", "Subject: "+c.subject, 1)
		err := inst.Send(t, c.from, []string{"b@example.org"}, []byte(msg))
		if postfixtest.Code(err) != c.code || !strings.Contains(err.Error(), c.text) {
			t.Errorf("%s: err = %v, want %d ...%s", c.from, err, c.code, c.text)
		}
	}

	// Discard: accepted by SMTP, never relayed. Quarantine: on hold.
	if err := inst.Send(t, "discard@example.com", []string{"b@example.org"}, []byte(rawMsg)); err != nil {
		t.Errorf("discard: %v", err)
	}
	if err := inst.Send(t, "hold@example.com", []string{"b@example.org"}, []byte(rawMsg)); err != nil {
		t.Errorf("hold: %v", err)
	}
	for deadline := time.Now().Add(10 * time.Second); inst.HoldLen() != 1 && time.Now().Before(deadline); {
		time.Sleep(50 * time.Millisecond)
	}
	if n := inst.HoldLen(); n != 1 {
		t.Errorf("hold queue has %d messages, want 1", n)
	}
	inst.WaitQueueEmpty(t, 20*time.Second)
	for _, m := range inst.Sink().Messages() {
		if m.From == "discard@example.com" || m.From == "hold@example.com" {
			t.Errorf("message from %s was relayed", m.From)
		}
	}
}

// symMilter reports at end of message which macros it could see.
type symMilter struct{ milter.NoOpMilter }

func (symMilter) EndOfMessage(_ context.Context, mod *milter.Modifier, m *milter.Macros) (milter.Response, error) {
	_, hasDaemon := m.Lookup("{daemon_name}")
	return milter.Continue, mod.AddHeader("X-Macros", fmt.Sprintf(" j=%s i=%s eom_j=%s mail_addr=%s daemon_name=%v",
		m.Stage(milter.StageConnect)["j"], m.Stage(milter.StageEOM)["i"], m.Stage(milter.StageEOM)["j"],
		m.Stage(milter.StageMail)["{mail_addr}"], hasDaemon))
}

// TestPostfixSymLists: with SETSYMLIST Postfix sends exactly the listed
// macros for the listed stages (here {daemon_name} disappears from
// CONNECT and j appears at end of message). Observed with Postfix 3.7:
// stages not listed keep their default lists.
func TestPostfixSymLists(t *testing.T) {
	testenv.SkipShort(t, "starts Postfix")
	srv, err := milter.NewServer(func(context.Context) milter.Milter { return symMilter{} }, milter.Options{
		SymLists: map[milter.Stage]string{milter.StageConnect: "j", milter.StageMail: "{mail_addr}", milter.StageEOM: "i j"},
	})
	if err != nil {
		t.Fatal(err)
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go srv.Serve(l)
	t.Cleanup(func() { srv.Close() })
	inst := startPostfix(t, l.Addr().String(), "6")
	qid, err := inst.SendID(t, "sym@example.com", []string{"b@example.org"}, []byte(rawMsg))
	if err != nil {
		t.Fatalf("send: %v\n%s", err, inst.Log())
	}
	m, ok := sinkMessage(t, inst, func(m postfixtest.SinkMessage) bool { return m.From == "sym@example.com" })
	if !ok {
		t.Fatalf("not relayed:\n%s", inst.Log())
	}
	want := fmt.Sprintf("X-Macros: j=mx.test.example i=%s eom_j=mx.test.example mail_addr=sym@example.com daemon_name=false\r\n", qid)
	if !strings.Contains(string(m.Data), want) {
		t.Errorf("relayed message lacks %q:\n%s", want, m.Data)
	}
}
