package postfixtest

import (
	"bytes"
	"fmt"
	"sort"
	"strings"
	"testing"
	"time"
)

func testMsg(subject string) []byte {
	return []byte(fmt.Sprintf("From: a@example.com\r\nTo: b@example.org\r\nSubject: %s\r\nMessage-ID: <%s@example.com>\r\n\r\nHello.\r\n.dot line\r\n", subject, strings.ReplaceAll(subject, " ", "-")))
}

func TestSendReachesSink(t *testing.T) {
	inst := Start(t, Options{})
	t.Logf("postfix started in %v", inst.StartDuration())
	id, err := inst.SendID(t, "a@example.com", []string{"b@example.org", "c@example.net"}, testMsg("one"))
	if err != nil {
		t.Fatal(err)
	}
	if id == "" {
		t.Error("no queue ID in the DATA reply")
	}
	msgs := inst.Sink().WaitMessages(t, 1, 20*time.Second)
	m := msgs[0]
	if m.From != "a@example.com" {
		t.Errorf("sink MAIL FROM = %q", m.From)
	}
	to := append([]string(nil), m.To...)
	sort.Strings(to) // qmgr may reorder recipients
	if strings.Join(to, ",") != "b@example.org,c@example.net" {
		t.Errorf("sink RCPT TO = %q", m.To)
	}
	if !bytes.Contains(m.Data, []byte("Subject: one\r\n")) || !bytes.Contains(m.Data, []byte("\r\n.dot line\r\n")) {
		t.Errorf("sink data:\n%s", m.Data)
	}
	line := inst.WaitLog(t, id+": to=<b@example.org>", 10*time.Second)
	if !strings.Contains(line, "status=sent") {
		t.Errorf("log line %q", line)
	}
	inst.WaitQueueEmpty(t, 10*time.Second)
}
