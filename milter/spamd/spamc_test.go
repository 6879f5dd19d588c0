package spamd

import (
	"bytes"
	"context"
	"errors"
	"net"
	"os/exec"
	"strings"
	"sync"
	"testing"

	"github.com/gomilter/gomilter/internal/bayes"
	"github.com/gomilter/gomilter/internal/mailmsg"
	"github.com/gomilter/gomilter/internal/testenv"
	"github.com/prometheus/client_golang/prometheus"
)

// fakeScorer calls a message spam when it contains "VIAGRA".
var fakeScorer = ScorerFunc(func(ctx context.Context, raw []byte, user string) (Verdict, error) {
	if bytes.Contains(raw, []byte("FAILME")) {
		return Verdict{}, errors.New("database at /secret/path unreachable")
	}
	if bytes.Contains(raw, []byte("VIAGRA")) {
		return Verdict{Score: 7.3, Required: 5, IsSpam: true, Rules: []string{"DRUGS_ERECTILE", "USER_" + strings.ToUpper(user)},
			Report:  "Spam detection software says spam\n 7.3 DRUGS_ERECTILE  Refers to an erectile drug\n",
			Headers: []mailmsg.Field{{Name: "X-Spam-Flag", Value: " YES"}, {Name: "X-Spam-Status", Value: " Yes, score=7.3\r\n\trequired=5.0"}}}, nil
	}
	return Verdict{Score: 1.2, Required: 5, Rules: []string{"HAM_RULE"}, Report: "ham report\n",
		Headers: []mailmsg.Field{{Name: "X-Spam-Flag", Value: " NO"}}}, nil
})

// memLearner records TELLs.
type memLearner struct {
	mu   sync.Mutex
	seen map[string]bool // body -> spam
}

func (m *memLearner) Learn(_ context.Context, raw []byte, _ string, spam bool) (bool, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if old, ok := m.seen[string(raw)]; ok && old == spam {
		return false, nil
	}
	m.seen[string(raw)] = spam
	return true, nil
}

func (m *memLearner) Forget(_ context.Context, raw []byte, _ string) (bool, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	_, ok := m.seen[string(raw)]
	delete(m.seen, string(raw))
	return ok, nil
}

func startServer(t *testing.T, opts Options) (*Server, string) {
	t.Helper()
	s, err := NewServer(fakeScorer, opts)
	if err != nil {
		t.Fatal(err)
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- s.Serve(l) }()
	t.Cleanup(func() {
		s.Shutdown(context.Background())
		if err := <-done; !errors.Is(err, ErrServerClosed) {
			t.Errorf("Serve = %v", err)
		}
	})
	return s, l.Addr().String()
}

// runSpamc runs Debian's spamc against addr and returns stdout and the exit code.
func runSpamc(t *testing.T, addr string, msg string, args ...string) (string, int) {
	t.Helper()
	bin := testenv.LookPath(t, "spamc")
	host, port, _ := net.SplitHostPort(addr)
	cmd := exec.Command(bin, append([]string{"-d", host, "-p", port, "-t", "10", "--connect-retries=1"}, args...)...)
	cmd.Stdin = strings.NewReader(msg)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	code := 0
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatalf("spamc: %v", err)
	}
	t.Logf("spamc %v -> %d stdout=%q stderr=%q", args, code, out.String(), errb.String())
	return out.String(), code
}

const (
	spamMsg = "From: a@example.com\nSubject: buy\n\nCheap VIAGRA here\n"
	hamMsg  = "From: b@example.com\nSubject: lunch\n\nSee you at noon\n"
)

func TestSpamc(t *testing.T) {
	learner := &memLearner{seen: map[string]bool{}}
	_, addr := startServer(t, Options{AllowTell: true, Learner: learner, Registerer: prometheus.NewRegistry()})
	spamProcessed := "From: a@example.com\nSubject: buy\nX-Spam-Flag: YES\nX-Spam-Status: Yes, score=7.3\n\trequired=5.0\n\nCheap VIAGRA here\n"
	tests := []struct {
		name, msg string
		args      []string
		out       string
		code      int
	}{
		{"check spam", spamMsg, []string{"-c"}, "7.3/5.0\n", 1},
		{"check ham", hamMsg, []string{"-c"}, "1.2/5.0\n", 0},
		{"report", spamMsg, []string{"-R"}, "7.3/5.0\nSpam detection software says spam\n 7.3 DRUGS_ERECTILE  Refers to an erectile drug\n", 0},
		{"report ham", hamMsg, []string{"-R"}, "1.2/5.0\nham report\n", 0},
		{"report if spam, ham", hamMsg, []string{"-r"}, "", 0},
		{"symbols with user", spamMsg, []string{"-y", "-u", "alice"}, "DRUGS_ERECTILE,USER_ALICE", 0},
		{"process", spamMsg, nil, spamProcessed, 0},
		{"process CRLF", "Subject: x\r\n\r\nVIAGRA\r\n", nil, "Subject: x\r\nX-Spam-Flag: YES\r\nX-Spam-Status: Yes, score=7.3\r\n\trequired=5.0\r\n\r\nVIAGRA\r\n", 0},
		{"headers", spamMsg, []string{"--headers"}, spamProcessed, 0},
		{"learn spam", spamMsg, []string{"-L", "spam"}, "Message successfully un/learned\n", 0},
		{"learn again", spamMsg, []string{"-L", "spam"}, "Message was already un/learned\n", 0},
		{"relearn as ham", spamMsg, []string{"-L", "ham"}, "Message successfully un/learned\n", 0},
		{"forget", spamMsg, []string{"-L", "forget"}, "Message successfully un/learned\n", 0},
		{"forget again", spamMsg, []string{"-L", "forget"}, "Message was already un/learned\n", 0},
		{"ping", "", []string{"-K"}, "SPAMD/1.5 0\n", 0},
		// A scorer failure: spamc passes the message through unchanged, and
		// with -x exits with an error (spamc turns every non-zero spamd
		// code into EX_PROTOCOL; the wire code is checked in proto tests).
		{"scorer failure", "Subject: FAILME\n\nx\n", nil, "Subject: FAILME\n\nx\n", 0},
		{"scorer failure -x", "Subject: FAILME\n\nx\n", []string{"-x"}, "", ExProtocol},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			out, code := runSpamc(t, addr, tc.msg, tc.args...)
			if out != tc.out || code != tc.code {
				t.Errorf("spamc %v = %q, exit %d; want %q, exit %d", tc.args, out, code, tc.out, tc.code)
			}
		})
	}
	if len(learner.seen) != 0 {
		t.Errorf("learner still holds %d messages after forget", len(learner.seen))
	}
}

func TestSpamcLimits(t *testing.T) {
	learner := &memLearner{seen: map[string]bool{}}
	_, addr := startServer(t, Options{Limits: Limits{MaxMessageSize: 100}, Learner: learner})
	big := "Subject: big\n\n" + strings.Repeat("VIAGRA ", 50) + "\n"
	// Too big for the server: refused, so spamc -c -x reports a failure
	// and prints 0/0 instead of a verdict.
	if out, code := runSpamc(t, addr, big, "-x", "-c"); code != ExProtocol || out != "0/0\n" {
		t.Errorf("oversized -x -c: %q, exit %d; want 0/0, exit %d", out, code, ExProtocol)
	}
	// Without -x the message passes through unprocessed.
	if out, _ := runSpamc(t, addr, big); out != big {
		t.Errorf("oversized message not passed through: %q", out)
	}
	// TELL is refused without AllowTell: nothing is learned.
	if out, _ := runSpamc(t, addr, spamMsg, "-L", "spam"); strings.Contains(out, "successfully") || len(learner.seen) != 0 {
		t.Errorf("TELL without AllowTell learned: %q, %d messages", out, len(learner.seen))
	}
}

// TestSpamcTellBayes learns through spamc -L into a real Bayes classifier.
func TestSpamcTellBayes(t *testing.T) {
	st := bayes.NewMemoryStore()
	c, err := bayes.New(bayes.Options{Store: st})
	if err != nil {
		t.Fatal(err)
	}
	_, addr := startServer(t, Options{AllowTell: true, Learner: NewBayesLearner(c)})
	msg := "Message-ID: <t1@example.com>\nSubject: win\n\nlottery winner claim prize\n"
	if out, _ := runSpamc(t, addr, msg, "-L", "spam", "-u", "bob"); out != "Message successfully un/learned\n" {
		t.Fatalf("learn: %q", out)
	}
	if out, _ := runSpamc(t, addr, msg, "-L", "spam", "-u", "bob"); out != "Message was already un/learned\n" {
		t.Fatalf("relearn: %q", out)
	}
	ctx := context.Background()
	if ns, _, _ := st.Totals(ctx, "bob"); ns != 1 {
		t.Errorf("bob's nspam = %d, want 1", ns)
	}
	counts, _ := st.Tokens(ctx, "bob", []bayes.Hash{bayes.HashToken("lottery")})
	if counts[0] != (bayes.Counts{Spam: 1}) {
		t.Errorf("token counts = %+v", counts[0])
	}
}
