package obs

import (
	"bytes"
	"context"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
)

func TestLoggerFormats(t *testing.T) {
	var buf bytes.Buffer
	l, err := NewLogger(&buf, "logfmt", "info")
	if err != nil {
		t.Fatal(err)
	}
	l.Debug("hidden")
	l.Info("hello", "queue_id", "ABC123")
	if got := buf.String(); !strings.Contains(got, "msg=hello queue_id=ABC123") || strings.Contains(got, "hidden") {
		t.Errorf("logfmt output = %q", got)
	}
	buf.Reset()
	l, _ = NewLogger(&buf, "json", "debug")
	l.Debug("x", "k", 1)
	if !strings.Contains(buf.String(), `"k":1`) {
		t.Errorf("json output = %q", buf.String())
	}
	if _, err := NewLogger(&buf, "xml", "info"); err == nil {
		t.Error("bad format accepted")
	}
}

func TestHTTPEndpoints(t *testing.T) {
	reg := NewRegistry()
	h := NewHTTPServer(reg, slogDiscard())
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go h.Serve(ln)
	defer h.Shutdown(context.Background())
	base := "http://" + ln.Addr().String()
	get := func(path string) (int, string) {
		resp, err := http.Get(base + path)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	if code, _ := get("/healthz"); code != 200 {
		t.Errorf("/healthz = %d", code)
	}
	if code, _ := get("/readyz"); code != 503 {
		t.Errorf("/readyz before ready = %d, want 503", code)
	}
	h.SetReady(true)
	if code, _ := get("/readyz"); code != 200 {
		t.Errorf("/readyz after ready = %d", code)
	}
	code, body := get("/metrics")
	if code != 200 || !strings.Contains(body, "go_goroutines") || !strings.Contains(body, "process_cpu_seconds_total") {
		t.Errorf("/metrics = %d, lacks Go/process collectors", code)
	}
}
