package bench

import (
	"context"
	"errors"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/gomilter/gomilter/milter"
)

func TestParseStatCPU(t *testing.T) {
	stat := []byte("1234 (go milter (x)) S 1 1234 1234 0 -1 4194560 100 0 0 0 250 50 0 0 20 0 8 0 100 0 0")
	got, err := parseStatCPU(stat)
	if err != nil || got != 3.0 {
		t.Errorf("parseStatCPU = %v, %v; want 3.0 (300 ticks)", got, err)
	}
	if _, err := parseStatCPU([]byte("1 (x) S 1")); err == nil {
		t.Error("short stat accepted")
	}
	if kb := parseStatusKiB([]byte("Name:\tx\nVmHWM:\t   12345 kB\nVmRSS:\t 1 kB\n"), "VmHWM:"); kb != 12345 {
		t.Errorf("VmHWM = %d", kb)
	}
}

func TestReadProcSelf(t *testing.T) {
	s, err := ReadProc(os.Getpid())
	if err != nil || s.PeakRSSKiB <= 0 || s.CPUSeconds < 0 {
		t.Errorf("ReadProc(self) = %+v, %v", s, err)
	}
}

func TestPercentile(t *testing.T) {
	r := &Report{}
	for i := 1; i <= 100; i++ {
		r.Latencies = append(r.Latencies, time.Duration(i)*time.Millisecond)
	}
	for p, want := range map[float64]time.Duration{50: 50 * time.Millisecond, 95: 95 * time.Millisecond, 99: 99 * time.Millisecond, 100: 100 * time.Millisecond, 0: time.Millisecond} {
		if got := r.Percentile(p); got != want {
			t.Errorf("Percentile(%v) = %v, want %v", p, got, want)
		}
	}
}

func TestLoadMessages(t *testing.T) {
	dir := t.TempDir()
	md := filepath.Join(dir, "Maildir")
	for _, d := range []string{"cur", "new", "tmp"} {
		os.MkdirAll(filepath.Join(md, d), 0o755)
	}
	os.WriteFile(filepath.Join(md, "cur", "1:2,S"), []byte("From a@b  Thu Aug 22 2002\nSubject: x\n\nbody\n"), 0o644)
	os.WriteFile(filepath.Join(md, "new", "2"), []byte("Subject: y\r\n\r\nb\r\n"), 0o644)
	os.WriteFile(filepath.Join(md, "tmp", "3"), []byte("Subject: partial\n"), 0o644)
	msgs, err := LoadMessages(md, 0)
	if err != nil {
		t.Fatal(err)
	}
	if len(msgs) != 2 || string(msgs[0]) != "Subject: x\r\n\r\nbody\r\n" || string(msgs[1]) != "Subject: y\r\n\r\nb\r\n" {
		t.Errorf("LoadMessages = %q", msgs)
	}
	if _, err := LoadMessages(filepath.Join(md, "tmp", "nope"), 0); err == nil {
		t.Error("missing dir accepted")
	}
	if msgs, _ := LoadMessages(filepath.Join(md, "cur"), 1); len(msgs) != 1 {
		t.Errorf("max=1 gave %d messages", len(msgs))
	}
}

func TestEnvelopeFrom(t *testing.T) {
	for msg, want := range map[string]string{
		"Return-Path: <bounce@list.example>\r\nFrom: A <a@x>\r\n\r\n": "bounce@list.example",
		"From: \"A B\" <a@x.example>\r\n\r\n":                         "a@x.example",
		"from: a@y.example (A)\r\n\r\n":                               "a@y.example",
		"Subject: none\r\n\r\nFrom: body@z\r\n":                       "sender@example.com",
	} {
		if got := envelopeFrom([]byte(msg)); got != want {
			t.Errorf("envelopeFrom(%q) = %q, want %q", msg, got, want)
		}
	}
}

// judge decides by the Subject: the load generator must count each kind.
type judge struct{ milter.NoOpMilter }

func (j *judge) Header(_ context.Context, name, value string, _ *milter.Macros) (milter.Response, error) {
	if name == "Subject" {
		switch strings.TrimSpace(value) {
		case "reject":
			return milter.Reject, nil
		case "tempfail":
			return milter.ReplyCode("451 4.3.0 later")
		case "discard":
			return milter.Discard, nil
		case "hold":
			return milter.Quarantine("held"), nil
		case "broken":
			return milter.Continue, errors.New("backend down")
		}
	}
	return milter.Continue, nil
}

func (j *judge) EndOfMessage(_ context.Context, mod *milter.Modifier, _ *milter.Macros) (milter.Response, error) {
	return milter.Continue, mod.AddHeader("X-Judged", " yes")
}

func TestRunMilterCountsResults(t *testing.T) {
	srv, err := milter.NewServer(func(context.Context) milter.Milter { return &judge{} }, milter.Options{})
	if err != nil {
		t.Fatal(err)
	}
	sock := filepath.Join(t.TempDir(), "m.sock")
	l, err := net.Listen("unix", sock)
	if err != nil {
		t.Fatal(err)
	}
	go srv.Serve(l)
	t.Cleanup(func() { srv.Close() })
	var msgs [][]byte
	for _, s := range []string{"ok", "reject", "tempfail", "discard", "hold", "broken", "ok"} {
		msgs = append(msgs, []byte("From: a@example.com\r\nSubject: "+s+"\r\n\r\nbody\r\n"))
	}
	rep, err := RunMilter(context.Background(), MilterOptions{
		Addr: "unix:" + sock, Messages: msgs, Workers: 3, N: 70, PerConn: 4, PID: os.Getpid(),
	})
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]int{"accept": 20, "reject": 10, "tempfail": 20, "discard": 10, "quarantine": 10}
	for k, n := range want {
		if rep.Outcomes[k] != n {
			t.Errorf("Outcomes[%s] = %d, want %d (all: %v, first error %v)", k, rep.Outcomes[k], n, rep.Outcomes, rep.FirstErr)
		}
	}
	if rep.Extra["headers_added"] != 30 || rep.Extra["header:X-Judged"] != 30 {
		t.Errorf("extras = %v, want 30 messages with X-Judged", rep.Extra)
	}
	if len(rep.Latencies) != 70 || rep.Percentile(99) <= 0 || rep.Proc == nil {
		t.Errorf("report: %d latencies, p99 %v, proc %v", len(rep.Latencies), rep.Percentile(99), rep.Proc)
	}
	var b strings.Builder
	rep.Print(&b)
	if !strings.Contains(b.String(), "reject=10") || !strings.Contains(b.String(), "CPU-s per 1000 msgs") {
		t.Errorf("Print output:\n%s", b.String())
	}
}

func TestRunCancelledKeepsExecutedOnly(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	rep, err := Run(ctx, "x", RunOptions{Workers: 2, N: 1000}, func(_ context.Context, _, i int) (string, []string, error) {
		if i == 10 {
			cancel()
		}
		time.Sleep(time.Millisecond)
		return "ok", nil, nil
	})
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v", err)
	}
	if rep.N >= 1000 || rep.N < 11 || len(rep.Latencies) != rep.N || rep.Outcomes["ok"] != rep.N || rep.Percentile(0) <= 0 {
		t.Errorf("N=%d latencies=%d outcomes=%v p0=%v", rep.N, len(rep.Latencies), rep.Outcomes, rep.Percentile(0))
	}
}
