package lmtp

import (
	"context"
	"errors"
	"net"
	"net/textproto"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
)

// testEnv is a running server with an in-memory user table.
type testEnv struct {
	t     *testing.T
	srv   *Server
	sock  string
	users map[string]User
	fail  map[string]error
	reg   *prometheus.Registry
	dir   string
	// panics is how many recovered panics the test provokes on purpose.
	panics float64
}

func newTestEnv(t *testing.T, mod func(*Options)) *testEnv {
	t.Helper()
	dir := t.TempDir()
	e := &testEnv{t: t, users: map[string]User{}, fail: map[string]error{}, reg: prometheus.NewRegistry(), dir: dir}
	for _, n := range []string{"alice", "bob"} {
		home := filepath.Join(dir, n)
		e.users[n+"@example.org"] = User{Name: n + "@example.org", Home: home, MailDir: filepath.Join(home, "Maildir"), UID: -1, GID: -1}
	}
	be := BackendFunc(func(_ context.Context, addr string) (User, error) {
		if err := e.fail[addr]; err != nil {
			return User{}, err
		}
		if addr == "panic@example.org" {
			panic("backend bug")
		}
		u, ok := e.users[addr]
		if !ok {
			return User{}, ErrUserNotFound
		}
		return u, nil
	})
	opts := Options{Hostname: "mda.test", Registerer: e.reg, Sieve: &SieveOptions{}}
	if mod != nil {
		mod(&opts)
	}
	srv, err := NewServer(be, opts)
	if err != nil {
		t.Fatal(err)
	}
	e.srv = srv
	e.sock = filepath.Join(dir, "lmtp.sock")
	l, err := net.Listen("unix", e.sock)
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- srv.Serve(l) }()
	t.Cleanup(func() {
		srv.Close()
		if err := <-done; !errors.Is(err, ErrServerClosed) {
			t.Errorf("Serve returned %v, want ErrServerClosed", err)
		}
		if n := testutil.ToFloat64(srv.metrics.panics); n != e.panics {
			t.Errorf("%v panics recovered, want %v", n, e.panics)
		}
	})
	return e
}

// client is a line-level LMTP client with one-line expectations.
type client struct {
	t  *testing.T
	c  net.Conn
	tp *textproto.Conn
}

func (e *testEnv) dial() *client {
	e.t.Helper()
	c, err := net.Dial("unix", e.sock)
	if err != nil {
		e.t.Fatal(err)
	}
	c.SetDeadline(time.Now().Add(20 * time.Second))
	cl := &client{t: e.t, c: c, tp: textproto.NewConn(c)}
	e.t.Cleanup(func() { c.Close() })
	cl.expect("220 *")
	return cl
}

// send writes raw lines (pipelining: no reads in between).
func (c *client) send(lines ...string) {
	c.t.Helper()
	for _, l := range lines {
		if err := c.tp.PrintfLine("%s", l); err != nil {
			c.t.Fatal(err)
		}
	}
}

// expect reads one (possibly multi-line) reply and matches its last line
// against pattern ("*" matches anything). It returns all lines.
func (c *client) expect(pattern string) []string {
	c.t.Helper()
	var lines []string
	for {
		l, err := c.tp.ReadLine()
		if err != nil {
			c.t.Fatalf("reading reply (want %q): %v", pattern, err)
		}
		lines = append(lines, l)
		if len(l) < 4 || l[3] != '-' {
			break
		}
	}
	last := lines[len(lines)-1]
	re := "^" + strings.ReplaceAll(regexp.QuoteMeta(pattern), `\*`, ".*") + "$"
	if !regexp.MustCompile(re).MatchString(last) {
		c.t.Fatalf("reply %q, want %q", strings.Join(lines, " | "), pattern)
	}
	return lines
}

// data sends a message body after DATA's 354 (dot-stuffed).
func (c *client) data(msg string) {
	c.t.Helper()
	w := c.tp.DotWriter()
	w.Write([]byte(msg))
	if err := w.Close(); err != nil {
		c.t.Fatal(err)
	}
}

// files lists the messages under a Maildir folder's new/ and cur/.
func files(t *testing.T, dir string) []string {
	t.Helper()
	var out []string
	for _, sub := range []string{"new", "cur"} {
		m, _ := filepath.Glob(filepath.Join(dir, sub, "*"))
		out = append(out, m...)
	}
	return out
}

func readFile(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func writeFile(t testing.TB, path, content string) {
	t.Helper()
	os.MkdirAll(filepath.Dir(path), 0o755)
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}
