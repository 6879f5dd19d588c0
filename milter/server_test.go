package milter

import (
	"context"
	"errors"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil/promlint"
)

func dialNegotiate(t *testing.T, addr string) *tconn {
	t.Helper()
	nc, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { nc.Close() })
	tc := &tconn{t: t, c: nc}
	tc.negotiate(6, postfixActions, postfixProtocol)
	return tc
}

func TestServeShutdownDrains(t *testing.T) {
	srv, err := NewServer(func(context.Context) Milter { return NoOpMilter{} }, Options{})
	if err != nil {
		t.Fatal(err)
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	served := make(chan error, 1)
	go func() { served <- srv.Serve(l) }()
	c := dialNegotiate(t, l.Addr().String())
	c.send(CmdMail, EncodeStrings("<a@x>"))
	c.expect(RespContinue, nil)

	shut := make(chan error, 1)
	go func() { shut <- srv.Shutdown(context.Background()) }()
	if err := <-served; !errors.Is(err, ErrServerClosed) {
		t.Errorf("Serve = %v, want ErrServerClosed", err)
	}
	// The open session still works while draining...
	c.send(CmdEOB)
	c.expect(RespContinue, nil)
	select {
	case err := <-shut:
		t.Fatalf("Shutdown returned %v before the session ended", err)
	case <-time.After(50 * time.Millisecond):
	}
	// ...and Shutdown returns once the MTA quits.
	c.send(CmdQuit)
	if err := <-shut; err != nil {
		t.Errorf("Shutdown = %v", err)
	}
	if _, err := net.Dial("tcp", l.Addr().String()); err == nil {
		t.Error("listener still accepts after Shutdown")
	}
}

type blocker struct {
	NoOpMilter
	entered chan struct{}
}

func (b blocker) MailFrom(ctx context.Context, _ string, _ []string, _ *Macros) (Response, error) {
	close(b.entered)
	<-ctx.Done() // a slow check that honours cancellation
	return TempFail, ctx.Err()
}

func TestShutdownDeadlineCancelsSessions(t *testing.T) {
	b := blocker{entered: make(chan struct{})}
	srv, err := NewServer(func(context.Context) Milter { return b }, Options{})
	if err != nil {
		t.Fatal(err)
	}
	l, _ := net.Listen("tcp", "127.0.0.1:0")
	go srv.Serve(l)
	c := dialNegotiate(t, l.Addr().String())
	c.send(CmdMail, EncodeStrings("<a@x>"))
	<-b.entered
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	if err := srv.Shutdown(ctx); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("Shutdown = %v, want deadline exceeded", err)
	}
}

func TestOptionsValidation(t *testing.T) {
	mk := func(context.Context) Milter { return NoOpMilter{} }
	for _, o := range []Options{
		{MaxPacketSize: 1000},
		{ReadTimeout: -1},
		{NoReply: ProtoHdrLeadSpc},
		{Actions: 1 << 12},
	} {
		if _, err := NewServer(mk, o); err == nil {
			t.Errorf("NewServer(%+v) succeeded", o)
		}
	}
	if _, err := NewServer(nil, Options{}); err == nil {
		t.Error("NewServer(nil) succeeded")
	}
	reg := prometheus.NewRegistry()
	if _, err := NewServer(mk, Options{Registerer: reg}); err != nil {
		t.Fatal(err)
	}
	if _, err := NewServer(mk, Options{Registerer: reg}); err == nil {
		t.Error("second server on the same registry succeeded")
	}
}

func TestMetricNames(t *testing.T) {
	reg := prometheus.NewRegistry()
	if _, err := NewServer(func(context.Context) Milter { return NoOpMilter{} }, Options{Registerer: reg}); err != nil {
		t.Fatal(err)
	}
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	if len(mfs) != 6 {
		t.Errorf("gathered %d metric families, want 6", len(mfs))
	}
	problems, err := promlint.NewWithMetricFamilies(mfs).Lint()
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range problems {
		t.Errorf("promlint: %s: %s", p.Metric, p.Text)
	}
	for _, mf := range mfs {
		n := mf.GetName()
		if !strings.HasPrefix(n, "gomilter_milter_") || mf.GetHelp() == "" {
			t.Errorf("metric %q: want gomilter_milter_ prefix and help", n)
		}
		switch mf.GetType().String() {
		case "COUNTER":
			if !strings.HasSuffix(n, "_total") {
				t.Errorf("counter %q lacks _total", n)
			}
		case "HISTOGRAM":
			if !strings.HasSuffix(n, "_seconds") {
				t.Errorf("histogram %q lacks a unit suffix", n)
			}
		}
	}
}

type hangupMilter struct {
	blocker
	closed chan struct{}
}

func (h hangupMilter) Close(ctx context.Context) {
	if ctx.Err() != nil {
		panic("Close got a cancelled context")
	}
	close(h.closed)
}

// TestMTAHangupCancelsCallback: the MTA going away while a callback runs
// cancels the callback's context at once (not at the next read).
func TestMTAHangupCancelsCallback(t *testing.T) {
	h := hangupMilter{blocker: blocker{entered: make(chan struct{})}, closed: make(chan struct{})}
	c := newTConn(t, func(context.Context) Milter { return h }, Options{})
	c.negotiate(6, postfixActions, postfixProtocol)
	c.send(CmdMail, EncodeStrings("<a@x>"))
	<-h.entered
	c.c.Close()
	select {
	case <-h.closed:
	case <-time.After(5 * time.Second):
		t.Fatal("callback not cancelled after the MTA hung up")
	}
	if n := c.counter(c.srv.m.panics); n != 0 {
		t.Errorf("panics_total = %v", n)
	}
}
