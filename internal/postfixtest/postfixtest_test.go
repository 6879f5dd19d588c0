package postfixtest

import (
	"bytes"
	"errors"
	"fmt"
	"net"
	"net/textproto"
	"os"
	"sort"
	"strconv"
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

func TestSessionTwoMessages(t *testing.T) {
	inst := Start(t, Options{})
	s := inst.NewSession(t)
	if err := s.Helo("two.test.example"); err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, subj := range []string{"first", "second"} {
		if err := s.Mail("s-" + subj + "@example.com"); err != nil {
			t.Fatal(err)
		}
		if err := s.Rcpt("r-" + subj + "@example.org"); err != nil {
			t.Fatal(err)
		}
		if err := s.Data(testMsg(subj)); err != nil {
			t.Fatal(err)
		}
		ids = append(ids, s.QueueID())
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if ids[0] == "" || ids[0] == ids[1] {
		t.Errorf("queue IDs %q", ids)
	}
	msgs := inst.Sink().WaitMessages(t, 2, 20*time.Second)
	got := map[string]string{}
	for _, m := range msgs {
		got[m.From] = strings.Join(m.To, ",")
	}
	for _, subj := range []string{"first", "second"} {
		if got["s-"+subj+"@example.com"] != "r-"+subj+"@example.org" {
			t.Errorf("sink envelopes %v", got)
		}
	}
	// One smtpd connection carried both messages.
	line := inst.WaitLog(t, "disconnect from localhost[127.0.0.1] ehlo=", 5*time.Second)
	if !strings.Contains(line, "mail=2") || !strings.Contains(line, "data=2") {
		t.Errorf("smtpd disconnect line %q", line)
	}
}

func TestRecipientRejectCode(t *testing.T) {
	inst := Start(t, Options{MainCF: map[string]string{
		"smtpd_recipient_restrictions": "check_recipient_access inline:{bad@example.org=REJECT}",
	}})
	err := inst.Send(t, "a@example.com", []string{"bad@example.org"}, testMsg("rejected"))
	if Code(err) != 554 {
		t.Fatalf("Send to a REJECTed recipient: err = %v (code %d), want 554", err, Code(err))
	}
	var te *textproto.Error
	if !errors.As(err, &te) || !strings.Contains(te.Msg, "Recipient address rejected") {
		t.Errorf("error %v is not the smtpd reply", err)
	}
	inst.WaitLog(t, "NOQUEUE: reject: RCPT from", 5*time.Second)
	if err := inst.Send(t, "a@example.com", []string{"good@example.org"}, testMsg("accepted")); err != nil {
		t.Fatal(err)
	}
	if m := inst.Sink().WaitMessages(t, 1, 20*time.Second); m[0].To[0] != "good@example.org" {
		t.Errorf("sink got %v", m[0].To)
	}
}

// TestStopLeavesNothing also prints the start/stop cost of an instance.
func TestStopLeavesNothing(t *testing.T) {
	began := time.Now()
	inst := Start(t, Options{})
	started := time.Since(began)
	// Make smtpd, cleanup and smtp run, so there are children to reap.
	if err := inst.Send(t, "a@example.com", []string{"b@example.org"}, testMsg("stop")); err != nil {
		t.Fatal(err)
	}
	inst.Sink().WaitMessages(t, 1, 20*time.Second)
	pids := inst.PIDs()
	if len(pids) < 3 {
		t.Fatalf("instance PIDs %v: want master and its children", pids)
	}
	base := inst.BaseDir()
	began = time.Now()
	inst.Stop()
	t.Logf("start %v, stop %v, %d processes", started, time.Since(began), len(pids))
	for _, pid := range pids {
		if st, _, ok := procStat(pid); ok && st != 'Z' {
			t.Errorf("pid %d still alive after Stop (state %c)", pid, st)
		}
	}
	if left := procsMentioning(base); len(left) > 0 {
		t.Errorf("processes still refer to %s: %v", base, left)
	}
	if _, err := os.Stat(base); !os.IsNotExist(err) {
		t.Errorf("instance dir %s not removed: %v", base, err)
	}
	if c, err := net.DialTimeout("tcp", inst.SMTPAddr(), time.Second); err == nil {
		c.Close()
		t.Errorf("smtpd port %s still answers", inst.SMTPAddr())
	}
}

// procsMentioning scans /proc for live processes whose cwd or cmdline
// names dir.
func procsMentioning(dir string) []string {
	ents, _ := os.ReadDir("/proc")
	var out []string
	for _, e := range ents {
		pid, err := strconv.Atoi(e.Name())
		if err != nil || pid == os.Getpid() {
			continue
		}
		if st, _, ok := procStat(pid); !ok || st == 'Z' {
			continue
		}
		p := "/proc/" + e.Name()
		cwd, _ := os.Readlink(p + "/cwd")
		cmd, _ := os.ReadFile(p + "/cmdline")
		if strings.Contains(cwd, dir) || bytes.Contains(cmd, []byte(dir)) {
			out = append(out, fmt.Sprintf("%d %s (cwd %s)", pid, bytes.ReplaceAll(cmd, []byte{0}, []byte{' '}), cwd))
		}
	}
	return out
}
