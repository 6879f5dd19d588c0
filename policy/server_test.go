package policy

import (
	"bufio"
	"context"
	"errors"
	"io"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	"github.com/prometheus/client_golang/prometheus/testutil/promlint"
)

// testServer starts a Server on 127.0.0.1:0 and returns its address.
func testServer(t *testing.T, h Handler, opts Options) (*Server, string, *prometheus.Registry) {
	t.Helper()
	reg := prometheus.NewRegistry()
	opts.Registerer = reg
	s, err := NewServer(h, opts)
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
		s.Close()
		if err := <-done; !errors.Is(err, ErrServerClosed) {
			t.Errorf("Serve = %v, want ErrServerClosed", err)
		}
		if n := testutil.ToFloat64(s.m.panics); n != 0 && !strings.Contains(t.Name(), "Panic") {
			t.Errorf("panic counter = %v", n)
		}
	})
	return s, l.Addr().String(), reg
}

// client is a tiny Postfix stand-in with one-line expectations.
type client struct {
	t  *testing.T
	c  net.Conn
	br *bufio.Reader
}

func dial(t *testing.T, addr string) *client {
	t.Helper()
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	c.SetDeadline(time.Now().Add(10 * time.Second))
	return &client{t: t, c: c, br: bufio.NewReader(c)}
}

// transact sends a request (attribute lines, request= added) and checks
// the reply action.
func (c *client) transact(want string, attrs ...string) {
	c.t.Helper()
	c.send(attrs...)
	got, err := c.reply()
	if err != nil {
		c.t.Fatalf("reply: %v", err)
	}
	if got != want {
		c.t.Fatalf("action = %q, want %q", got, want)
	}
}

func (c *client) send(attrs ...string) {
	c.t.Helper()
	msg := "request=smtpd_access_policy\n" + strings.Join(attrs, "\n")
	if len(attrs) > 0 {
		msg += "\n"
	}
	if _, err := io.WriteString(c.c, msg+"\n"); err != nil {
		c.t.Fatal(err)
	}
}

func (c *client) reply() (string, error) {
	line, err := c.br.ReadString('\n')
	if err != nil {
		return "", err
	}
	blank, err := c.br.ReadString('\n')
	if err != nil || blank != "\n" {
		return "", errors.New("reply not followed by an empty line")
	}
	if !strings.HasPrefix(line, "action=") {
		return "", errors.New("reply without action=: " + line)
	}
	return strings.TrimSuffix(strings.TrimPrefix(line, "action="), "\n"), nil
}

// expectClosed checks that the server hung up without replying.
func (c *client) expectClosed() {
	c.t.Helper()
	if line, err := c.br.ReadString('\n'); err == nil {
		c.t.Fatalf("got %q, want the connection closed without reply", line)
	}
}

// echo answers "OK <sender>" or a chosen failure by recipient.
var echo = HandlerFunc(func(ctx context.Context, r *Request) (Action, error) {
	switch r.Recipient {
	case "fail@x":
		return "", errors.New("db down: secret dsn user:pw@host")
	case "typed@x":
		return "", &Error{Action: Defer("4.3.0 try later"), Err: errors.New("cause")}
	case "panic@x":
		panic("boom")
	case "empty@x":
		return "", nil
	}
	return Action("OK " + r.Sender), nil
})

func TestSessionPersistent(t *testing.T) {
	_, addr, reg := testServer(t, echo, Options{})
	c := dial(t, addr)
	c.transact("OK a@x", "sender=a@x", "recipient=r@x")
	c.transact("OK b@x", "sender=b@x", "recipient=r@x")
	c.transact("defer_if_permit Service temporarily unavailable", "recipient=fail@x")
	c.transact("DEFER 4.3.0 try later", "recipient=typed@x")
	c.transact("DUNNO", "recipient=empty@x")
	c.transact("OK c@x", "sender=c@x")
	if n := requestsCount(t, reg, "error"); n != 2 {
		t.Errorf("requests{error} = %v, want 2", n)
	}
	if n := requestsCount(t, reg, "ok"); n != 3 {
		t.Errorf("requests{ok} = %v, want 3", n)
	}
}

// requestsCount reads gomilter_policy_requests_total{result=result}.
func requestsCount(t *testing.T, reg *prometheus.Registry, result string) float64 {
	t.Helper()
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() != "gomilter_policy_requests_total" {
			continue
		}
		for _, m := range mf.GetMetric() {
			for _, l := range m.GetLabel() {
				if l.GetName() == "result" && l.GetValue() == result {
					return m.GetCounter().GetValue()
				}
			}
		}
	}
	return 0
}

func TestPanicRecovered(t *testing.T) {
	s, addr, _ := testServer(t, echo, Options{})
	c := dial(t, addr)
	c.transact("defer_if_permit Service temporarily unavailable", "recipient=panic@x")
	c.transact("OK a@x", "sender=a@x") // the connection survives
	if n := testutil.ToFloat64(s.m.panics); n != 1 {
		t.Errorf("panics = %v, want 1", n)
	}
}

func TestMalformedClosesWithoutReply(t *testing.T) {
	for name, raw := range map[string]string{
		"no equals":  "request=smtpd_access_policy\nnonsense\n\n",
		"bad type":   "request=junk\n\n",
		"long line":  "request=smtpd_access_policy\nx=" + strings.Repeat("y", 300) + "\n\n",
		"many attrs": "request=smtpd_access_policy\n" + strings.Repeat("a=b\n", 20) + "\n",
	} {
		t.Run(name, func(t *testing.T) {
			s, addr, _ := testServer(t, echo, Options{Limits: Limits{MaxLineLength: 100, MaxAttributes: 10}})
			c := dial(t, addr)
			c.transact("OK a@x", "sender=a@x")
			io.WriteString(c.c, raw)
			c.expectClosed()
			if n := testutil.ToFloat64(s.m.malformed); n != 1 {
				t.Errorf("malformed = %v, want 1", n)
			}
		})
	}
}

func TestIdleTimeout(t *testing.T) {
	_, addr, _ := testServer(t, echo, Options{IdleTimeout: 50 * time.Millisecond})
	c := dial(t, addr)
	c.transact("OK a@x", "sender=a@x")
	start := time.Now()
	c.expectClosed()
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("idle connection closed after %v", d)
	}
}

func TestReadTimeoutMidRequest(t *testing.T) {
	_, addr, _ := testServer(t, echo, Options{ReadTimeout: 50 * time.Millisecond})
	c := dial(t, addr)
	io.WriteString(c.c, "request=smtpd_access_policy\nsender=a@x\n") // never finished
	c.expectClosed()
}

func TestHandlerTimeoutContext(t *testing.T) {
	slow := HandlerFunc(func(ctx context.Context, r *Request) (Action, error) {
		<-ctx.Done()
		return "", ctx.Err()
	})
	_, addr, _ := testServer(t, slow, Options{HandlerTimeout: 30 * time.Millisecond})
	dial(t, addr).transact("defer_if_permit Service temporarily unavailable", "sender=a@x")
}

func TestShutdownFinishesInFlight(t *testing.T) {
	started := make(chan struct{})
	release := make(chan struct{})
	h := HandlerFunc(func(ctx context.Context, r *Request) (Action, error) {
		close(started)
		<-release
		return Dunno, nil
	})
	s, addr, _ := testServer(t, h, Options{})
	busy := dial(t, addr)
	idle := dial(t, addr)
	busy.send("sender=a@x")
	<-started
	done := make(chan error, 1)
	go func() { done <- s.Shutdown(context.Background()) }()
	idle.expectClosed()
	close(release)
	if got, err := busy.reply(); err != nil || got != "DUNNO" {
		t.Fatalf("in-flight reply = %q, %v", got, err)
	}
	busy.expectClosed()
	if err := <-done; err != nil {
		t.Fatalf("Shutdown = %v", err)
	}
}

func TestMaxConnections(t *testing.T) {
	_, addr, _ := testServer(t, echo, Options{MaxConnections: 1})
	first := dial(t, addr)
	first.transact("OK a@x", "sender=a@x")
	dial(t, addr).expectClosed()
}

func TestChain(t *testing.T) {
	say := func(a Action) Handler {
		return HandlerFunc(func(context.Context, *Request) (Action, error) { return a, nil })
	}
	fail := HandlerFunc(func(context.Context, *Request) (Action, error) { return "", errors.New("x") })
	tests := []struct {
		name  string
		chain Chain
		want  Action
		err   bool
	}{
		{"empty", Chain{}, Dunno, false},
		{"all dunno", Chain{say(Dunno), say(Dunno)}, Dunno, false},
		{"first final wins", Chain{say(Dunno), say(Reject("no")), say(OK)}, Reject("no"), false},
		{"prepend kept", Chain{say(Prepend("X-A: 1")), say(Dunno)}, Prepend("X-A: 1"), false},
		{"final beats prepend", Chain{say(Prepend("X-A: 1")), say(DeferIfPermit("grey"))}, DeferIfPermit("grey"), false},
		{"first prepend kept", Chain{say(Prepend("X-A: 1")), say(Prepend("X-B: 2"))}, Prepend("X-A: 1"), false},
		{"error stops", Chain{say(Dunno), fail, say(OK)}, "", true},
	}
	for _, tc := range tests {
		got, err := tc.chain.Check(context.Background(), &Request{})
		if (err != nil) != tc.err || got != tc.want {
			t.Errorf("%s: Check = %q, %v, want %q (err %v)", tc.name, got, err, tc.want, tc.err)
		}
	}
}

func TestMetricNames(t *testing.T) {
	_, addr, reg := testServer(t, echo, Options{})
	dial(t, addr).transact("OK a@x", "sender=a@x")
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	problems, err := promlint.NewWithMetricFamilies(mfs).Lint()
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range problems {
		t.Errorf("metric %s: %s", p.Metric, p.Text)
	}
	for _, mf := range mfs {
		if !strings.HasPrefix(mf.GetName(), "gomilter_policy_") {
			t.Errorf("metric %s lacks the gomilter_policy_ prefix", mf.GetName())
		}
	}
}

func TestNewServerValidates(t *testing.T) {
	if _, err := NewServer(nil, Options{}); err == nil {
		t.Error("nil handler accepted")
	}
	if _, err := NewServer(echo, Options{IdleTimeout: -1}); err == nil {
		t.Error("negative timeout accepted")
	}
	reg := prometheus.NewRegistry()
	if _, err := NewServer(echo, Options{Registerer: reg}); err != nil {
		t.Fatal(err)
	}
	if _, err := NewServer(echo, Options{Registerer: reg}); err == nil {
		t.Error("double registration accepted")
	}
}
