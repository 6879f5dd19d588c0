package main

import (
	"bytes"
	"context"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/gomilter/gomilter/milter"
)

type benchCmdMilter struct{ milter.NoOpMilter }

func (benchCmdMilter) EndOfMessage(_ context.Context, mod *milter.Modifier, _ *milter.Macros) (milter.Response, error) {
	return milter.Continue, mod.AddHeader("X-Bench", " 1")
}

func TestBenchMilterCommand(t *testing.T) {
	dir := t.TempDir()
	for i, m := range []string{"Subject: a\n\nx\n", "From a@b Mon\nSubject: b\n\ny\n"} {
		os.WriteFile(filepath.Join(dir, string(rune('a'+i))), []byte(m), 0o644)
	}
	srv, err := milter.NewServer(func(context.Context) milter.Milter { return benchCmdMilter{} }, milter.Options{})
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
	var out, errOut bytes.Buffer
	code := dispatch([]string{"bench", "milter", "-addr", "unix:" + sock, "-dir", dir, "-c", "2", "-n", "10",
		"-per-conn", "3", "-pid", "0"}, &out, &errOut)
	if code != 0 {
		t.Fatalf("exit %d; stdout:\n%s\nstderr:\n%s", code, out.String(), errOut.String())
	}
	for _, want := range []string{"2 message files", "10 msgs", "results: accept=10", "header:X-Bench=10", "p99"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("output lacks %q:\n%s", want, out.String())
		}
	}
	if code := dispatch([]string{"bench", "milter", "-dir", dir}, &out, &errOut); code != 2 {
		t.Errorf("missing -addr: exit %d, want 2", code)
	}
	if code := dispatch([]string{"bench", "nosuch"}, &out, &errOut); code != 2 {
		t.Errorf("unknown kind: exit %d, want 2", code)
	}
}
