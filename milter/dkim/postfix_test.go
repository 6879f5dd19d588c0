package dkim

import (
	"context"
	"fmt"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/gomilter/gomilter/internal/postfixtest"
)

func freeTCPPort(t *testing.T) int {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// postfixMessages are sent through Postfix: corner cases (bare CR, 8-bit,
// folding) as they survive SMTP, plus a few corpus messages.
func postfixMessages(t *testing.T) map[string][]byte {
	msgs := corpusSample(t, 250)
	for _, name := range []string{"plain", "folded", "repeated", "odd case", "8bit", "wsp", "long lines",
		"bare CR mid", "bare CR wsp", "CR CR", "CR eol", "CR line", "CR in header", "fold at colon"} {
		msgs["corner/"+name] = []byte(cornerMessages()[name])
	}
	for name, raw := range msgs {
		msgs[name] = append([]byte("X-Case: "+name+"\r\n"), raw...)
	}
	return msgs
}

// TestPostfixOpenDKIMSigns: real Postfix with Debian's OpenDKIM as its
// milter signs mail from 127.0.0.1; gomilter verifies exactly what Postfix
// relays (the bytes the sink received).
func TestPostfixOpenDKIMSigns(t *testing.T) {
	t.Parallel()
	for _, canon := range []string{"relaxed/relaxed", "simple/simple"} {
		port := freeTCPPort(t)
		od := startOpenDKIMWith(t, canon, "rsa-sha256", fmt.Sprintf("inet:%d@127.0.0.1", port), "127.0.0.1")
		inst := postfixtest.Start(t, postfixtest.Options{MainCF: map[string]string{
			"smtpd_milters": fmt.Sprintf("inet:127.0.0.1:%d", port), "milter_default_action": "tempfail",
			// Postfix's smtp client breaks lines over 998 bytes on the way
			// out; that would change long-line messages after the milter.
			"smtp_line_length_limit": "0"}})
		msgs := postfixMessages(t)
		for name, raw := range msgs {
			if err := inst.Send(t, "user@example.com", []string{"rcpt@example.org"}, raw); err != nil {
				t.Fatalf("%s %s: %v", canon, name, err)
			}
		}
		got := inst.Sink().WaitMessages(t, len(msgs), 60*time.Second)
		v := NewVerifier(od.pub, VerifyOptions{})
		ext := od.dialTCP(t, port, "192.0.2.1")
		pass := 0
		for _, sm := range got {
			m, err := ReadMessage(sm.Data)
			if err != nil {
				t.Fatal(err)
			}
			res := v.Verify(context.Background(), m)
			_, back := od.run(t, ext, sm.Data)
			ar := arDKIM(back)
			name, _ := m.Get("X-Case")
			if len(res) != 1 || len(ar) != 1 || !strings.HasPrefix(ar[0], "dkim="+string(res[0].Status)) {
				t.Errorf("%s %s: gomilter %+v, OpenDKIM %q", canon, name, res, ar)
			} else if res[0].Status == StatusPass {
				pass++
			} else {
				t.Logf("%s %s: Postfix changed the message after signing: both say %s", canon, name, res[0].Status)
			}
		}
		t.Logf("%s: %d messages signed by OpenDKIM behind Postfix; gomilter and OpenDKIM agree on all, %d pass", canon, len(got), pass)
	}
}

// TestPostfixOpenDKIMVerifies: gomilter signs; the signed mail goes
// through Postfix, whose OpenDKIM milter verifies it (127.0.0.1 is not an
// InternalHosts address there) and writes its verdict in A-R.
func TestPostfixOpenDKIMVerifies(t *testing.T) {
	t.Parallel()
	port := freeTCPPort(t)
	od := startOpenDKIMWith(t, "relaxed/relaxed", "rsa-sha256", fmt.Sprintf("inet:%d@127.0.0.1", port), "192.0.2.99")
	inst := postfixtest.Start(t, postfixtest.Options{MainCF: map[string]string{
		"smtpd_milters": fmt.Sprintf("inet:127.0.0.1:%d", port), "milter_default_action": "tempfail",
		// Postfix's smtp client breaks lines over 998 bytes on the way
		// out; that would change long-line messages after the milter.
		"smtp_line_length_limit": "0"}})
	msgs := postfixMessages(t)
	for _, canon := range []string{"relaxed/relaxed", "simple/simple"} {
		inst.Sink().Reset()
		s := newTestSigner(t, od, canon)
		for name, raw := range msgs {
			m, err := ReadMessage(raw)
			if err != nil {
				t.Fatal(err)
			}
			fields, err := s.Sign(context.Background(), m, s.ShouldSign(localEnv, m))
			if err != nil || len(fields) != 2 {
				t.Fatalf("%s: %d fields, %v", name, len(fields), err)
			}
			if err := inst.Send(t, "user@example.com", []string{"rcpt@example.org"}, render(prepend(m, fields...))); err != nil {
				t.Fatalf("%s: %v", name, err)
			}
		}
		v := NewVerifier(od.pub, VerifyOptions{})
		pass := 0
		for _, sm := range inst.Sink().WaitMessages(t, len(msgs), 60*time.Second) {
			m, _ := ReadMessage(sm.Data)
			name, _ := m.Get("X-Case")
			ar := arDKIM(m)
			res := v.Verify(context.Background(), m)
			if len(ar) != 2 || len(res) != 2 {
				t.Errorf("%s %s: OpenDKIM %q, gomilter %+v", canon, name, ar, res)
				continue
			}
			for i := range res {
				// A-R lists results in signature order, as Verify does.
				if !strings.HasPrefix(ar[i], "dkim="+string(res[i].Status)) {
					t.Errorf("%s %s: OpenDKIM %q, gomilter %s", canon, name, ar[i], res[i].Status)
				} else if res[i].Status == StatusPass {
					pass++
				} else {
					t.Logf("%s %s: Postfix changed the message after signing: both say %s", canon, name, res[i].Status)
				}
			}
		}
		t.Logf("%s: %d gomilter signatures through Postfix, OpenDKIM and gomilter agree on all, %d pass", canon, 2*len(msgs), pass)
	}
}
