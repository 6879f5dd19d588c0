package smtpsink

import (
	"bufio"
	"errors"
	"fmt"
	"net"
	"net/smtp"
	"net/textproto"
	"strings"
	"sync"
	"testing"
	"time"
)

func TestParsePath(t *testing.T) {
	tests := []struct {
		arg, prefix, want string
		ok                bool
	}{
		{"FROM:<a@b.c>", "FROM:", "a@b.c", true},
		{"from:<a@b.c> SIZE=10 BODY=8BITMIME", "FROM:", "a@b.c", true},
		{"FROM: <a@b.c>", "FROM:", "a@b.c", true},
		{"FROM:<>", "FROM:", "", true},
		{"TO:<x@y>", "TO:", "x@y", true},
		{"FROM:a@b.c", "FROM:", "", false},
		{"FROM:<a@b.c", "FROM:", "", false},
		{"TO:<x@y>", "FROM:", "", false},
		{"", "TO:", "", false},
	}
	for _, tc := range tests {
		got, ok := parsePath(tc.arg, tc.prefix)
		if got != tc.want || ok != tc.ok {
			t.Errorf("parsePath(%q, %q) = %q, %v, want %q, %v", tc.arg, tc.prefix, got, ok, tc.want, tc.ok)
		}
	}
}

func TestReadData(t *testing.T) {
	tests := []struct {
		name, in, want string
		err            error
	}{
		{"plain", "a\r\nb\r\n.\r\n", "a\r\nb\r\n", nil},
		{"unstuff", "..x\r\n.\r\n", ".x\r\n", nil},
		{"bare LF end", "a\n.\n", "a\n", nil},
		{"dot inside line", "a.b\r\n.\r\n", "a.b\r\n", nil},
		{"empty", ".\r\n", "", nil},
		{"too big", strings.Repeat("x", 30) + "\r\n.\r\n", "", errTooBig},
		{"eof", "a\r\n", "", errEOF},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := bufio.NewReaderSize(strings.NewReader(tc.in), 16)
			got, err := readData(r, 20, func() {})
			if tc.err == errEOF {
				if err == nil {
					t.Fatalf("readData(%q) = nil error, want EOF", tc.in)
				}
				return
			}
			if !errors.Is(err, tc.err) || string(got) != tc.want {
				t.Errorf("readData(%q) = %q, %v, want %q, %v", tc.in, got, err, tc.want, tc.err)
			}
		})
	}
}

var errEOF = errors.New("eof expected")

func sendMail(addr, from string, to []string, msg string) error {
	return smtp.SendMail(addr, nil, from, to, []byte(msg))
}

func TestAcceptAndRecord(t *testing.T) {
	s := Start(t, Options{})
	msg := "Subject: x\r\n\r\n.leading dot\r\n" + strings.Repeat("long", 3000) + "\r\nend\r\n"
	if err := sendMail(s.Addr(), "a@example.com", []string{"b@example.org", "c@example.org"}, msg); err != nil {
		t.Fatal(err)
	}
	m := s.WaitMessages(t, 1, 5*time.Second)[0]
	if m.From != "a@example.com" || strings.Join(m.To, ",") != "b@example.org,c@example.org" || m.Helo != "localhost" {
		t.Errorf("envelope %q %q helo %q", m.From, m.To, m.Helo)
	}
	if string(m.Data) != msg {
		t.Errorf("data = %q, want %q", m.Data, msg)
	}
	s.Reset()
	if s.Len() != 0 {
		t.Errorf("Len after Reset = %d", s.Len())
	}
}

func TestFailStages(t *testing.T) {
	for _, stage := range []Stage{StageConnect, StageHelo, StageMail, StageRcpt, StageData, StageMessage} {
		t.Run(stage.String(), func(t *testing.T) {
			s := Start(t, Options{})
			s.Fail(stage, 451, "4.3.0 later")
			err := sendMail(s.Addr(), "a@example.com", []string{"b@example.org"}, "x\r\n")
			var te *textproto.Error
			if !errors.As(err, &te) || te.Code != 451 {
				t.Fatalf("at %v: err = %v, want 451", stage, err)
			}
			// net/smtp retries a refused EHLO as HELO: count >= 1.
			if s.Len() != 0 || s.Rejected() < 1 {
				t.Errorf("Len %d Rejected %d", s.Len(), s.Rejected())
			}
			s.Fail(stage, 0, "")
			if err := sendMail(s.Addr(), "a@example.com", []string{"b@example.org"}, "x\r\n"); err != nil {
				t.Fatalf("after clearing: %v", err)
			}
		})
	}
}

func TestHookSeesArguments(t *testing.T) {
	s := Start(t, Options{})
	var mu sync.Mutex
	var seen []string
	s.SetHook(func(stage Stage, arg string) (int, string) {
		mu.Lock()
		defer mu.Unlock()
		seen = append(seen, fmt.Sprintf("%v=%q", stage, arg))
		if stage == StageRcpt && arg == "no@example.org" {
			return 550, "5.1.1 unknown"
		}
		return 0, ""
	})
	err := sendMail(s.Addr(), "a@example.com", []string{"yes@example.org", "no@example.org"}, "body\r\n")
	var te *textproto.Error
	if !errors.As(err, &te) || te.Code != 550 {
		t.Fatalf("err = %v, want 550", err)
	}
	want := `connect="" helo="localhost" mail="a@example.com" rcpt="yes@example.org" rcpt="no@example.org"`
	mu.Lock()
	defer mu.Unlock()
	if got := strings.Join(seen, " "); got != want {
		t.Errorf("hook calls %s, want %s", got, want)
	}
}

// dialRaw opens a raw connection and reads the greeting.
func dialRaw(t *testing.T, addr string) (net.Conn, *textproto.Reader) {
	t.Helper()
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	c.SetDeadline(time.Now().Add(10 * time.Second))
	r := textproto.NewReader(bufio.NewReader(c))
	if _, _, err := r.ReadResponse(220); err != nil {
		t.Fatal(err)
	}
	return c, r
}

func TestPipelinedAndLimits(t *testing.T) {
	s := Start(t, Options{MaxMessageBytes: 100, MaxLineBytes: 64})
	c, r := dialRaw(t, s.Addr())
	// One write with a whole pipelined transaction, an overlong line, a
	// too-big message and a good one after it.
	fmt.Fprintf(c, "EHLO me\r\nMAIL FROM:<a@x>\r\nRCPT TO:<b@y>\r\nDATA\r\n")
	wantCodes := []int{250, 250, 250, 354}
	for _, code := range wantCodes {
		if _, _, err := r.ReadResponse(code); err != nil {
			t.Fatalf("want %d: %v", code, err)
		}
	}
	fmt.Fprintf(c, "%s\r\n.\r\n", strings.Repeat("z", 200))
	if _, _, err := r.ReadResponse(552); err != nil {
		t.Fatalf("want 552: %v", err)
	}
	fmt.Fprintf(c, "NOOP %s\r\nNOOP\r\nMAIL FROM:<a@x>\r\nRCPT TO:<b@y>\r\nDATA\r\nok\r\n.\r\nQUIT\r\n", strings.Repeat("n", 100))
	for _, code := range []int{500, 250, 250, 250, 354, 250, 221} {
		if _, _, err := r.ReadResponse(code); err != nil {
			t.Fatalf("want %d: %v", code, err)
		}
	}
	if m := s.Messages(); len(m) != 1 || string(m[0].Data) != "ok\r\n" {
		t.Errorf("messages %+v", m)
	}
}

func TestSequenceErrors(t *testing.T) {
	s := Start(t, Options{})
	c, r := dialRaw(t, s.Addr())
	steps := []struct {
		cmd  string
		code int
	}{
		{"MAIL FROM:<a@x>", 503}, {"HELO", 501}, {"HELO me", 250},
		{"RCPT TO:<b@y>", 503}, {"DATA", 503}, {"MAIL FROM:a@x", 501},
		{"MAIL FROM:<a@x>", 250}, {"MAIL FROM:<a@x>", 503}, {"RCPT TO:<>", 501},
		{"RSET", 250}, {"RCPT TO:<b@y>", 503}, {"VRFY x", 252}, {"BDAT 1", 502},
	}
	for _, st := range steps {
		fmt.Fprintf(c, "%s\r\n", st.cmd)
		if _, _, err := r.ReadResponse(st.code); err != nil {
			t.Errorf("%s: %v, want %d", st.cmd, err, st.code)
		}
	}
}

func TestWaitTimeout(t *testing.T) {
	s := Start(t, Options{})
	if _, err := s.Wait(1, 50*time.Millisecond); err == nil {
		t.Fatal("Wait on an empty sink returned no error")
	}
}

func TestCloseDropsConnections(t *testing.T) {
	s, err := New(Options{})
	if err != nil {
		t.Fatal(err)
	}
	_, r := dialRaw(t, s.Addr())
	done := make(chan struct{})
	go func() { s.Close(); close(done) }()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		t.Fatal("Close hangs on an idle connection")
	}
	if _, err := r.ReadLine(); err == nil {
		t.Error("connection still open after Close")
	}
}
