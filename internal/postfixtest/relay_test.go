package postfixtest

import (
	"bytes"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gomilter/gomilter/internal/smtpsink"
)

// TestSinkTempfailIsRetried: a 4xx from the sink defers the message; once
// the sink accepts again, WaitQueueEmpty's flush delivers it.
func TestSinkTempfailIsRetried(t *testing.T) {
	inst := Start(t, Options{})
	inst.Sink().Fail(smtpsink.StageRcpt, 451, "4.3.0 try again later")
	id, err := inst.SendID(t, "a@example.com", []string{"b@example.org"}, testMsg("deferred"))
	if err != nil {
		t.Fatal(err)
	}
	line := inst.WaitLog(t, id+": to=<b@example.org>", 20*time.Second)
	if !strings.Contains(line, "status=deferred") || !strings.Contains(line, "451 4.3.0 try again later") {
		t.Fatalf("log line %q", line)
	}
	if n := inst.Sink().Len(); n != 0 {
		t.Fatalf("sink accepted %d message(s) while failing", n)
	}
	if inst.Sink().Rejected() == 0 {
		t.Error("sink counted no rejection")
	}
	inst.Sink().Fail(smtpsink.StageRcpt, 0, "")
	inst.WaitQueueEmpty(t, 20*time.Second)
	if m := inst.Sink().WaitMessages(t, 1, 5*time.Second); !bytes.Contains(m[0].Data, []byte("Subject: deferred")) {
		t.Errorf("delivered data:\n%s", m[0].Data)
	}
}

// TestSinkRejectBounces: a 5xx from the sink for one recipient makes
// Postfix send a bounce (null sender) back to the sender, via the sink.
func TestSinkRejectBounces(t *testing.T) {
	inst := Start(t, Options{})
	inst.Sink().SetHook(func(stage smtpsink.Stage, arg string) (int, string) {
		if stage == smtpsink.StageRcpt && arg == "bad@example.org" {
			return 550, "5.1.1 no such user"
		}
		return 0, ""
	})
	if err := inst.Send(t, "a@example.com", []string{"bad@example.org", "good@example.org"}, testMsg("bounce")); err != nil {
		t.Fatal(err)
	}
	msgs := inst.Sink().WaitMessages(t, 2, 20*time.Second)
	var bounce, good *SinkMessage
	for i := range msgs {
		if msgs[i].From == "" {
			bounce = &msgs[i]
		} else {
			good = &msgs[i]
		}
	}
	if good == nil || strings.Join(good.To, ",") != "good@example.org" {
		t.Errorf("delivered copy: %+v", good)
	}
	if bounce == nil || strings.Join(bounce.To, ",") != "a@example.com" {
		t.Fatalf("no bounce to the sender among %d messages", len(msgs))
	}
	if !bytes.Contains(bounce.Data, []byte("bad@example.org")) || !bytes.Contains(bounce.Data, []byte("550 5.1.1 no such user")) {
		t.Errorf("bounce text:\n%s", bounce.Data)
	}
	inst.WaitLog(t, "to=<bad@example.org>", 5*time.Second)
	if l := inst.LogLines("status=bounced"); len(l) != 1 {
		t.Errorf("bounced lines: %q", l)
	}
}

// TestParallelInstances runs three instances at once: ports, queues, logs
// and sinks must not mix.
func TestParallelInstances(t *testing.T) {
	var mu sync.Mutex
	ports := map[string]bool{}
	for k := range 3 {
		subj := fmt.Sprintf("parallel-%d", k)
		t.Run(subj, func(t *testing.T) {
			t.Parallel()
			inst := Start(t, Options{})
			mu.Lock()
			if ports[inst.SMTPAddr()] {
				t.Errorf("port %s used twice", inst.SMTPAddr())
			}
			ports[inst.SMTPAddr()] = true
			mu.Unlock()
			if err := inst.Send(t, subj+"@example.com", []string{"b@example.org"}, testMsg(subj)); err != nil {
				t.Fatal(err)
			}
			m := inst.Sink().WaitMessages(t, 1, 20*time.Second)
			inst.WaitQueueEmpty(t, 10*time.Second)
			if got := inst.Sink().Messages(); len(got) != 1 || got[0].From != subj+"@example.com" ||
				!bytes.Contains(m[0].Data, []byte("Subject: "+subj+"\r\n")) {
				t.Errorf("sink of %s got %d messages, first from %q", subj, len(got), got[0].From)
			}
			if l := inst.LogLines("status=sent"); len(l) != 1 {
				t.Errorf("maillog of %s has %d status=sent lines", subj, len(l))
			}
		})
	}
}

// TestVirtualDomainRouting: mail for a VirtualDomains domain goes to
// virtual_transport (here a second sink), other mail to the relay sink.
func TestVirtualDomainRouting(t *testing.T) {
	local := smtpsink.Start(t, smtpsink.Options{Hostname: "mailstore.test"})
	inst := Start(t, Options{
		VirtualDomains: []string{"hosted.example"},
		MainCF:         map[string]string{"virtual_transport": fmt.Sprintf("smtp:[127.0.0.1]:%d", local.Port())},
	})
	if err := inst.Send(t, "a@example.com", []string{"user@hosted.example", "far@example.org"}, testMsg("routing")); err != nil {
		t.Fatal(err)
	}
	if m := local.WaitMessages(t, 1, 20*time.Second); strings.Join(m[0].To, ",") != "user@hosted.example" {
		t.Errorf("virtual transport got %q", m[0].To)
	}
	if m := inst.Sink().WaitMessages(t, 1, 20*time.Second); strings.Join(m[0].To, ",") != "far@example.org" {
		t.Errorf("relay sink got %q", m[0].To)
	}
}

// TestBodyBytesPreserved: an 8-bit body and long lines reach the sink
// byte for byte (no quoted-printable conversion, no line folding), so
// signature tests can compare bodies. 100 recipients arrive as two
// transactions: smtp_destination_recipient_limit is 50.
func TestBodyBytesPreserved(t *testing.T) {
	inst := Start(t, Options{})
	var body bytes.Buffer
	body.WriteString("Gr\xc3\xbc\xc3\x9fe aus K\xc3\xb6ln, raw 8-bit \xe9\r\n")
	for k := range 20000 {
		fmt.Fprintf(&body, "line %05d %s\r\n", k, strings.Repeat("x", k%900))
	}
	msg := "From: a@example.com\r\nTo: b@example.org\r\nSubject: big\r\nMIME-Version: 1.0\r\n" +
		"Content-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: 8bit\r\n\r\n" + body.String()
	var to []string
	for k := range 100 {
		to = append(to, fmt.Sprintf("r%03d@example.org", k))
	}
	if err := inst.Send(t, "a@example.com", to, []byte(msg)); err != nil {
		t.Fatal(err)
	}
	msgs := inst.Sink().WaitMessages(t, 2, 30*time.Second)
	seen := map[string]bool{}
	for _, m := range msgs {
		if len(m.To) != 50 {
			t.Errorf("a transaction carried %d recipients, want 50", len(m.To))
		}
		for _, r := range m.To {
			seen[r] = true
		}
		_, gotBody, ok := bytes.Cut(m.Data, []byte("\r\n\r\n"))
		if !ok || !bytes.Equal(gotBody, body.Bytes()) {
			t.Errorf("body changed on the way: %d bytes in, %d out", body.Len(), len(gotBody))
		}
	}
	if len(seen) != len(to) {
		t.Errorf("%d distinct recipients at the sink, want %d", len(seen), len(to))
	}
}
