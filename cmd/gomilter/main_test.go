package main

import (
	"bytes"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil/promlint"
)

var (
	buildOnce sync.Once
	binPath   string
	buildErr  error
)

// binary builds gomilter once per test run; serve is tested as a real
// process because it is about signals, sockets and exit codes.
func binary(t *testing.T) string {
	t.Helper()
	buildOnce.Do(func() {
		dir, err := os.MkdirTemp("", "gomilter-bin-")
		if err != nil {
			buildErr = err
			return
		}
		os.Chmod(dir, 0o755)
		binPath = filepath.Join(dir, "gomilter")
		out, err := exec.Command("go", "build", "-race", "-o", binPath, ".").CombinedOutput()
		if err != nil {
			buildErr = fmt.Errorf("go build: %v\n%s", err, out)
		}
	})
	if buildErr != nil {
		t.Fatal(buildErr)
	}
	return binPath
}

func TestMain(m *testing.M) {
	code := m.Run()
	if binPath != "" {
		os.RemoveAll(filepath.Dir(binPath))
	}
	os.Exit(code)
}

func freeAddr(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().String()
}

// daemon is a running `gomilter serve` with its stderr captured.
type daemon struct {
	cmd    *exec.Cmd
	mu     sync.Mutex
	stderr bytes.Buffer
	done   chan error
}

func (d *daemon) Write(p []byte) (int, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.stderr.Write(p)
}

func (d *daemon) log() string {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.stderr.String()
}

func startDaemon(t *testing.T, dir string, cred *syscall.Credential, args ...string) *daemon {
	t.Helper()
	d := &daemon{done: make(chan error, 1)}
	d.cmd = exec.Command(binary(t), append([]string{"serve"}, args...)...)
	d.cmd.Dir = dir
	d.cmd.Stderr = d
	d.cmd.SysProcAttr = &syscall.SysProcAttr{Credential: cred}
	if err := d.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { d.done <- d.cmd.Wait() }()
	t.Cleanup(func() {
		if d.cmd.ProcessState == nil {
			d.cmd.Process.Kill()
			<-d.done
		}
	})
	return d
}

func (d *daemon) waitLog(t *testing.T, substr string) {
	t.Helper()
	// Generous: loading Debian's full rule set under -race on a busy
	// 2-core machine has taken over 20 s. Readiness, not a speed check.
	deadline := time.Now().Add(90 * time.Second)
	for time.Now().Before(deadline) {
		if strings.Contains(d.log(), substr) {
			return
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatalf("daemon log never showed %q:\n%s", substr, d.log())
}

// stop sends SIGTERM and expects a clean exit 0.
func (d *daemon) stop(t *testing.T) {
	t.Helper()
	d.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case err := <-d.done:
		if err != nil {
			t.Fatalf("serve exited with %v after SIGTERM:\n%s", err, d.log())
		}
	case <-time.After(20 * time.Second):
		t.Fatalf("serve did not exit after SIGTERM:\n%s", d.log())
	}
}

func httpGet(t *testing.T, url string) (int, string) {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// TestServeEmbeddedDefault runs `gomilter serve` with no config file at
// all, as an unprivileged user so the sockets go to ./run/, and checks
// that /metrics answers with promlint-clean gomilter metrics.
func TestServeEmbeddedDefault(t *testing.T) {
	dir, err := os.MkdirTemp("", "gomilter-serve-")
	if err != nil {
		t.Fatal(err)
	}
	defer os.RemoveAll(dir)
	os.Chmod(dir, 0o777)
	var cred *syscall.Credential
	if os.Geteuid() == 0 {
		cred = &syscall.Credential{Uid: 65534, Gid: 65534} // nobody
	}
	d := startDaemon(t, dir, cred)
	d.waitLog(t, "piece=http")
	if _, err := os.Stat(filepath.Join(dir, "run", "gomilter.sock")); err != nil {
		t.Errorf("default milter socket not in ./run: %v", err)
	}
	code, body := httpGet(t, "http://127.0.0.1:9710/readyz")
	if code != 200 {
		t.Fatalf("/readyz = %d %s", code, body)
	}
	_, metrics := httpGet(t, "http://127.0.0.1:9710/metrics")
	if !strings.Contains(metrics, "gomilter_milter_connections_total") || !strings.Contains(metrics, "process_cpu_seconds_total") {
		t.Errorf("/metrics lacks gomilter or process metrics")
	}
	problems, err := promlint.New(strings.NewReader(metrics)).Lint()
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range problems {
		if strings.HasPrefix(p.Metric, "gomilter_") {
			t.Errorf("promlint: %s: %s", p.Metric, p.Text)
		}
	}
	for _, line := range strings.Split(metrics, "\n") {
		if strings.HasPrefix(line, "# TYPE gomilter_") {
			name := strings.Fields(line)[2]
			if parts := strings.Split(name, "_"); len(parts) < 4 {
				t.Errorf("metric %s is not gomilter_<piece>_<what>_<unit>", name)
			}
		}
	}
	d.stop(t)
}

func TestCheckConfigReportsAllErrors(t *testing.T) {
	path := filepath.Join(t.TempDir(), "bad.yaml")
	os.WriteFile(path, []byte("log:\n  format: json\n  colour: red\nmilter:\n  listen: tcp:x\n  bogus: 1\n"), 0o600)
	var out, errb bytes.Buffer
	if code := dispatch([]string{"check-config", "-config", path}, &out, &errb); code != 1 {
		t.Fatalf("exit = %d, want 1", code)
	}
	for _, want := range []string{path + ":3: log.colour: unknown key", path + ":5: milter.listen:", path + ":6: milter.bogus: unknown key"} {
		if !strings.Contains(errb.String(), want) {
			t.Errorf("stderr lacks %q:\n%s", want, errb.String())
		}
	}
	out.Reset()
	if code := dispatch([]string{"check-config"}, &out, &errb); code != 0 || !strings.Contains(out.String(), "embedded default") {
		t.Errorf("check-config of the default = %d:\n%s", code, out.String())
	}
}

// TestReloadRefusesBadConfig: SIGHUP with a broken file keeps the old
// config serving; a good file is taken.
func TestReloadRefusesBadConfig(t *testing.T) {
	dir := t.TempDir()
	httpAddr := freeAddr(t)
	cfgPath := filepath.Join(dir, "g.yaml")
	cfg := fmt.Sprintf("http:\n  listen: %s\nstate_dir: %s\nmilter:\n  listen: inet:%s\n  authserv_id: one.example\npolicy:\n  enabled: false\nauth:\n  enabled: false\n",
		httpAddr, dir, freeAddr(t))
	os.WriteFile(cfgPath, []byte(cfg), 0o600)
	d := startDaemon(t, dir, nil, "-config", cfgPath)
	d.waitLog(t, "piece=http")

	os.WriteFile(cfgPath, []byte(cfg+"bogus_key: 1\n"), 0o600)
	d.cmd.Process.Signal(syscall.SIGHUP)
	d.waitLog(t, "reload refused")
	if code, _ := httpGet(t, "http://"+httpAddr+"/readyz"); code != 200 {
		t.Errorf("not ready after a refused reload: %d", code)
	}
	os.WriteFile(cfgPath, []byte(strings.Replace(cfg, "one.example", "two.example", 1)), 0o600)
	d.cmd.Process.Signal(syscall.SIGHUP)
	d.waitLog(t, "config reloaded")
	d.stop(t)
}
