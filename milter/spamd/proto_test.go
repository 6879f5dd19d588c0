package spamd

import (
	"bytes"
	"compress/zlib"
	"context"
	"io"
	"net"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	"github.com/prometheus/client_golang/prometheus/testutil/promlint"
	dto "github.com/prometheus/client_model/go"
)

// transact sends raw bytes to addr, half-closes, and returns the whole reply.
func transact(t *testing.T, addr, req string) string {
	t.Helper()
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(10 * time.Second))
	if _, err := io.WriteString(c, req); err != nil {
		t.Fatal(err)
	}
	c.(*net.TCPConn).CloseWrite()
	b, err := io.ReadAll(c)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func zlibBytes(s string) string {
	var b bytes.Buffer
	w := zlib.NewWriter(&b)
	io.WriteString(w, s)
	w.Close()
	return b.String()
}

func req(cmd, body string, hdrs ...string) string {
	h := strings.Join(hdrs, "")
	return cmd + " SPAMC/1.5\r\n" + h + "Content-length: " + itoa(len(body)) + "\r\n\r\n" + body
}

func itoa(n int) string { return strconv.Itoa(n) }

func gather(t *testing.T, reg *prometheus.Registry) []*dto.MetricFamily {
	t.Helper()
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	return mfs
}

func TestTranscripts(t *testing.T) {
	reg := prometheus.NewRegistry()
	learner := &memLearner{seen: map[string]bool{}}
	s, addr := startServer(t, Options{Registerer: reg, AllowTell: true, Learner: learner, Limits: Limits{MaxMessageSize: 1000}})
	z := zlibBytes(spamMsg)
	tests := []struct{ name, req, want string }{
		{"ping", "PING SPAMC/1.5\r\n\r\n", "SPAMD/1.5 0 PONG\r\n\r\n"},
		{"check", req("CHECK", spamMsg), "SPAMD/1.1 0 EX_OK\r\nSpam: True ; 7.3 / 5.0\r\n\r\n"},
		{"check ham", req("CHECK", hamMsg), "SPAMD/1.1 0 EX_OK\r\nSpam: False ; 1.2 / 5.0\r\n\r\n"},
		{"symbols", req("SYMBOLS", spamMsg, "User: bob\r\n"), "SPAMD/1.1 0 EX_OK\r\nSpam: True ; 7.3 / 5.0\r\nContent-length: 23\r\n\r\nDRUGS_ERECTILE,USER_BOB"},
		{"report_ifspam ham", req("REPORT_IFSPAM", hamMsg), "SPAMD/1.1 0 EX_OK\r\nSpam: False ; 1.2 / 5.0\r\nContent-length: 0\r\n\r\n"},
		{"compressed", req("CHECK", z, "Compress: zlib\r\n"), "SPAMD/1.1 0 EX_OK\r\nSpam: True ; 7.3 / 5.0\r\n\r\n"},
		{"headers", req("HEADERS", hamMsg), "SPAMD/1.1 0 EX_OK\r\nSpam: False ; 1.2 / 5.0\r\nContent-length: 52\r\n\r\nFrom: b@example.com\nSubject: lunch\nX-Spam-Flag: NO\n\n"},
		{"tell", req("TELL", hamMsg, "Message-class: ham\r\nSet: local, remote\r\n"), "SPAMD/1.1 0 EX_OK\r\nDidSet: local\r\nContent-length: 0\r\n\r\n"},
		{"tell remove", req("TELL", hamMsg, "Remove: local\r\n"), "SPAMD/1.1 0 EX_OK\r\nDidRemove: local\r\nContent-length: 0\r\n\r\n"},
		{"no length reads to EOF", "CHECK SPAMC/1.0\r\n\r\n" + spamMsg, "SPAMD/1.1 0 EX_OK\r\nSpam: True ; 7.3 / 5.0\r\n\r\n"},
		{"skip", "SKIP SPAMC/1.5\r\n\r\n", ""},
		// Errors: the internal cause never reaches the client.
		{"scorer error", req("CHECK", "FAILME"), "SPAMD/1.0 75 temporary failure\r\n\r\n"},
		{"unknown method", req("FROB", "x"), "SPAMD/1.0 76 bad method\r\n\r\n"},
		{"bad version", "CHECK SPAMC/2.0\r\n\r\n", "SPAMD/1.0 76 bad protocol version\r\n\r\n"},
		{"bad header", "CHECK SPAMC/1.5\r\nno colon\r\n\r\n", "SPAMD/1.0 76 bad header line\r\n\r\n"},
		{"bad length", "CHECK SPAMC/1.5\r\nContent-length: -3\r\n\r\n", "SPAMD/1.0 76 bad Content-length\r\n\r\n"},
		{"too big", req("CHECK", strings.Repeat("x", 1001)), "SPAMD/1.0 65 message too big\r\n\r\n"},
		{"zip bomb", req("CHECK", zlibBytes(strings.Repeat("x", 5000)), "Compress: zlib\r\n"), "SPAMD/1.0 65 message too big\r\n\r\n"},
		{"bad zlib", req("CHECK", "notzlib", "Compress: zlib\r\n"), "SPAMD/1.0 76 bad zlib data\r\n\r\n"},
		{"long line", "CHECK SPAMC/1.5\r\nUser: " + strings.Repeat("u", 2000) + "\r\n\r\n", "SPAMD/1.0 76 line too long\r\n\r\n"},
		{"tell bad class", req("TELL", "x", "Message-class: eggs\r\nSet: local\r\n"), "SPAMD/1.0 76 bad Message-class\r\n\r\n"},
		{"tell conflict", req("TELL", "x", "Message-class: spam\r\nSet: local\r\nRemove: local\r\n"), "SPAMD/1.0 76 cannot Set and Remove the same location\r\n\r\n"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := transact(t, addr, tc.req); got != tc.want {
				t.Errorf("reply = %q, want %q", got, tc.want)
			}
		})
	}
	if n := testutil.ToFloat64(s.m.panics); n != 0 {
		t.Errorf("panics = %v", n)
	}
	problems, err := promlint.NewWithMetricFamilies(gather(t, reg)).Lint()
	if err != nil || len(problems) > 0 {
		t.Errorf("promlint: %v %v", problems, err)
	}
}

func TestTellDisabled(t *testing.T) {
	_, addr := startServer(t, Options{Learner: &memLearner{seen: map[string]bool{}}})
	got := transact(t, addr, req("TELL", hamMsg, "Message-class: ham\r\nSet: local\r\n"))
	if want := "SPAMD/1.0 69 TELL commands are not enabled\r\n\r\n"; got != want {
		t.Errorf("reply = %q, want %q", got, want)
	}
}

func TestPanicRecovered(t *testing.T) {
	reg := prometheus.NewRegistry()
	s, err := NewServer(ScorerFunc(func(context.Context, []byte, string) (Verdict, error) { panic("boom") }), Options{Registerer: reg})
	if err != nil {
		t.Fatal(err)
	}
	l, _ := net.Listen("tcp", "127.0.0.1:0")
	go s.Serve(l)
	defer s.Close()
	if got := transact(t, l.Addr().String(), req("CHECK", "x")); got != "SPAMD/1.0 75 internal error\r\n\r\n" {
		t.Errorf("reply after panic = %q", got)
	}
	if n := testutil.ToFloat64(s.m.panics); n != 1 {
		t.Errorf("panic counter = %v, want 1", n)
	}
}

func TestShutdownDrainsBusy(t *testing.T) {
	release := make(chan struct{})
	started := make(chan struct{})
	s, _ := NewServer(ScorerFunc(func(ctx context.Context, raw []byte, u string) (Verdict, error) {
		close(started)
		<-release
		return Verdict{Score: 1, Required: 5}, nil
	}), Options{})
	l, _ := net.Listen("tcp", "127.0.0.1:0")
	go s.Serve(l)
	got := make(chan string, 1)
	go func() { got <- transactNoT(l.Addr().String(), req("CHECK", "x")) }()
	<-started
	done := make(chan error, 1)
	go func() { done <- s.Shutdown(context.Background()) }()
	time.Sleep(50 * time.Millisecond)
	close(release)
	if err := <-done; err != nil {
		t.Fatalf("Shutdown = %v", err)
	}
	if r := <-got; r != "SPAMD/1.1 0 EX_OK\r\nSpam: False ; 1.0 / 5.0\r\n\r\n" {
		t.Errorf("reply during shutdown = %q", r)
	}
}

func transactNoT(addr, req string) string {
	c, err := net.Dial("tcp", addr)
	if err != nil {
		return err.Error()
	}
	defer c.Close()
	io.WriteString(c, req)
	c.(*net.TCPConn).CloseWrite()
	b, _ := io.ReadAll(c)
	return string(b)
}

func TestMaxConnections(t *testing.T) {
	release := make(chan struct{})
	var once sync.Once
	started := make(chan struct{})
	s, err := NewServer(ScorerFunc(func(ctx context.Context, raw []byte, u string) (Verdict, error) {
		once.Do(func() { close(started) })
		<-release
		return Verdict{Required: 5}, nil
	}), Options{MaxConnections: 1})
	if err != nil {
		t.Fatal(err)
	}
	l, _ := net.Listen("tcp", "127.0.0.1:0")
	go s.Serve(l)
	defer s.Close()
	first := make(chan string, 1)
	go func() { first <- transactNoT(l.Addr().String(), req("CHECK", "x")) }()
	<-started
	// The second connection is over the limit: closed (or reset) without
	// a reply; spamc then passes the message through unchecked.
	if got := transactNoT(l.Addr().String(), req("CHECK", "y")); strings.HasPrefix(got, "SPAMD/") {
		t.Errorf("over-limit connection got %q", got)
	}
	close(release)
	if got := <-first; got != "SPAMD/1.1 0 EX_OK\r\nSpam: False ; 0.0 / 5.0\r\n\r\n" {
		t.Errorf("first connection got %q", got)
	}
}

func TestNewServerValidates(t *testing.T) {
	if _, err := NewServer(nil, Options{}); err == nil {
		t.Error("nil Scorer accepted")
	}
	if _, err := NewServer(fakeScorer, Options{ReadTimeout: -1}); err == nil {
		t.Error("negative timeout accepted")
	}
}

type lockedBuf struct {
	mu sync.Mutex
	b  strings.Builder
}

func (l *lockedBuf) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuf) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

func TestTrace(t *testing.T) {
	var tr lockedBuf
	_, addr := startServer(t, Options{Trace: &tr})
	transact(t, addr, req("SYMBOLS", spamMsg, "User: carol\r\n"))
	want := "C: SYMBOLS SPAMC/1.5 user=\"carol\" length=52\nS: SPAMD/1.1 0 EX_OK\n"
	if got := tr.String(); got != want {
		t.Errorf("trace = %q, want %q", got, want)
	}
}
