package spamd

import (
	"bufio"
	"context"
	"io"
	"net"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/gomilter/gomilter/milter/spam"
)

const testConf = `
required_score 3
body  CHEAP_MEDS  /cheap\s+meds/i
score CHEAP_MEDS  3.5
rewrite_header Subject [SPAM]
`

const spamMsg = "From: a@example.com\r\nSubject: hi\r\nX-Spam-Flag: YES\r\n\r\nGet cheap meds\r\n"

func startServer(t *testing.T, opts Options) string {
	t.Helper()
	eng, _, err := spam.LoadConf("t.cf", testConf, spam.Options{Hostname: "h", BayesPath: filepath.Join(t.TempDir(), "b.db")})
	if err != nil {
		t.Fatal(err)
	}
	s, err := NewServer(eng, opts)
	if err != nil {
		t.Fatal(err)
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go s.Serve(l)
	t.Cleanup(func() { s.Shutdown(context.Background()); eng.Close() })
	return l.Addr().String()
}

// transact sends one raw request and returns the whole reply.
func transact(t *testing.T, addr, req string) string {
	t.Helper()
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if _, err := io.WriteString(c, req); err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(bufio.NewReader(c))
	return string(b)
}

func request(method, msg string, extra ...string) string {
	h := method + " SPAMC/1.5\r\n"
	for _, e := range extra {
		h += e + "\r\n"
	}
	return h + "Content-length: " + strconv.Itoa(len(msg)) + "\r\n\r\n" + msg
}

func TestSpamdVerbs(t *testing.T) {
	addr := startServer(t, Options{AllowTell: true})
	tests := []struct {
		name, req string
		want      []string
	}{
		{"ping", "PING SPAMC/1.5\r\n\r\n", []string{"SPAMD/1.1 0 PONG\r\n"}},
		{"check", request("CHECK", spamMsg), []string{"SPAMD/1.1 0 EX_OK\r\n", "Spam: True ; 3.5 / 3.0\r\n"}},
		{"symbols", request("SYMBOLS", spamMsg), []string{"Content-length: 10\r\n\r\nCHEAP_MEDS"}},
		{"process", request("PROCESS", spamMsg), []string{"Subject: [SPAM] hi\r\n", "X-Spam-Flag: YES\r\n", "X-Spam-Level: ***\r\n", "X-Spam-Prev-Subject: hi\r\n", "\r\n\r\nGet cheap meds\r\n"}},
		{"headers", request("HEADERS", spamMsg), []string{"X-Spam-Status: Yes, score=3.5 required=3.0 tests=CHEAP_MEDS"}},
		{"report ham", request("REPORT_IFSPAM", "Subject: x\r\n\r\nhello\r\n"), []string{"Spam: False ; 0.0 / 3.0\r\n\r\n"}},
		{"tell", request("TELL", spamMsg, "Message-class: spam", "Set: local"), []string{"SPAMD/1.1 0 EX_OK\r\nDidSet: local\r\n"}},
		{"bad verb", "FOO SPAMC/1.5\r\n\r\n", []string{"SPAMD/1.1 76 bad request line"}},
		{"no length", "CHECK SPAMC/1.5\r\n\r\n", []string{"SPAMD/1.1 76 missing Content-length"}},
		{"bad header", "CHECK SPAMC/1.5\r\nnocolon\r\n\r\n", []string{"SPAMD/1.1 76 bad header line"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := transact(t, addr, tc.req)
			for _, w := range tc.want {
				if !strings.Contains(got, w) {
					t.Errorf("reply %q lacks %q", got, w)
				}
			}
		})
	}
	// The old X-Spam-Flag must not survive PROCESS twice.
	if got := transact(t, addr, request("PROCESS", spamMsg)); strings.Count(got, "X-Spam-Flag") != 1 {
		t.Errorf("PROCESS kept the forged flag: %q", got)
	}
}

func TestSpamdLimits(t *testing.T) {
	addr := startServer(t, Options{MaxMessage: 10, MaxLine: 40})
	if got := transact(t, addr, request("CHECK", spamMsg)); !strings.HasPrefix(got, "SPAMD/1.1 65 message too large") {
		t.Errorf("oversize message: %q", got)
	}
	if got := transact(t, addr, "CHECK SPAMC/1.5\r\nX: "+strings.Repeat("a", 100)+"\r\n\r\n"); !strings.HasPrefix(got, "SPAMD/1.1 76") {
		t.Errorf("long header: %q", got)
	}
	if got := transact(t, addr, request("TELL", "x", "Message-class: spam", "Set: local")); !strings.HasPrefix(got, "SPAMD/1.1 77") {
		t.Errorf("TELL without AllowTell: %q", got)
	}
}

func FuzzReadRequest(f *testing.F) {
	f.Add(request("CHECK", spamMsg))
	f.Add("PING SPAMC/1.5\r\n\r\n")
	f.Add(request("TELL", "x", "Message-class: ham", "Set: local"))
	f.Fuzz(func(t *testing.T, in string) {
		req, err := ReadRequest(bufio.NewReader(strings.NewReader(in)), 1024, 1<<16)
		if err == nil && req.Method != MethodPing && req.Method != MethodSkip && int64(len(req.Body)) > 1<<16 {
			t.Fatalf("body %d over the limit", len(req.Body))
		}
	})
}
