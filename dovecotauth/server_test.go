package dovecotauth

import (
	"bufio"
	"context"
	"encoding/base64"
	"errors"
	"net"
	"regexp"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/gomilter/gomilter/internal/passwd"
)

// memAuth is an in-memory Authenticator: user -> stored password.
type memAuth struct {
	mu      sync.Mutex
	users   map[string]string
	schemes []string // non-nil: implements SchemeLister semantics via wrapper
	fail    error    // returned for every lookup when set
	delay   time.Duration
	calls   atomic.Int64
}

func (m *memAuth) Lookup(ctx context.Context, user string, _ RequestInfo) (Credentials, error) {
	m.calls.Add(1)
	if m.delay > 0 {
		select {
		case <-time.After(m.delay):
		case <-ctx.Done():
			return Credentials{}, ctx.Err()
		}
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.fail != nil {
		return Credentials{}, m.fail
	}
	pw, ok := m.users[user]
	if !ok {
		return Credentials{}, ErrUnknownUser
	}
	return Credentials{Password: pw}, nil
}

func (m *memAuth) LookupUser(_ context.Context, user string, _ RequestInfo) (UserFields, error) {
	if _, ok := m.users[user]; !ok {
		return UserFields{}, ErrUnknownUser
	}
	return UserFields{Fields: map[string]string{"uid": "1001", "gid": "1001", "home": "/var/mail/" + user}}, nil
}

func (m *memAuth) Iterate(_ context.Context, fn func(string) error) error {
	for _, u := range []string{"alice@example.org", "bob@example.org"} {
		if err := fn(u); err != nil {
			return err
		}
	}
	return nil
}

// listingAuth adds SchemeLister so challenge mechanisms can be offered.
type listingAuth struct{ *memAuth }

func (l listingAuth) Schemes() []string { return l.schemes }

func newMem(t testing.TB) *memAuth {
	t.Helper()
	sha, err := passwd.Generate("SHA512-CRYPT", "s3cret", "", passwd.GenOptions{})
	if err != nil {
		t.Fatal(err)
	}
	return &memAuth{users: map[string]string{
		"alice@example.org": sha,
		"bob@example.org":   "{PLAIN}bobpw",
	}}
}

// testClient speaks the client side over a real loopback socket.
type testClient struct {
	t  testing.TB
	c  net.Conn
	r  *bufio.Reader
	hs []string
}

func startServer(t testing.TB, auth Authenticator, o Options) (*Server, string) {
	t.Helper()
	if o.FailureDelay == 0 {
		o.FailureDelay = -1
	}
	if o.PenaltyInit == 0 {
		o.PenaltyInit = time.Millisecond
		o.PenaltyMax = 4 * time.Millisecond
	}
	s, err := NewServer(auth, o)
	if err != nil {
		t.Fatal(err)
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go s.Serve(l)
	t.Cleanup(func() { s.Close() })
	return s, l.Addr().String()
}

func dial(t testing.TB, addr string) *testClient {
	t.Helper()
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	tc := &testClient{t: t, c: c, r: bufio.NewReader(c)}
	for {
		l := tc.read()
		tc.hs = append(tc.hs, l)
		if l == "DONE" {
			break
		}
	}
	tc.send("VERSION\t1\t0")
	tc.send("CPID\t4711")
	return tc
}

func (tc *testClient) send(line string) {
	tc.t.Helper()
	if _, err := tc.c.Write([]byte(line + "\n")); err != nil {
		tc.t.Fatal(err)
	}
}

func (tc *testClient) read() string {
	tc.t.Helper()
	tc.c.SetReadDeadline(time.Now().Add(5 * time.Second))
	l, err := tc.r.ReadString('\n')
	if err != nil {
		tc.t.Fatalf("read: %v", err)
	}
	return strings.TrimSuffix(l, "\n")
}

// expect reads one line and matches it against a regexp (anchored).
func (tc *testClient) expect(re string) string {
	tc.t.Helper()
	l := tc.read()
	if !regexp.MustCompile("^" + re + "$").MatchString(l) {
		tc.t.Fatalf("got %q, want /%s/", l, re)
	}
	return l
}

func (tc *testClient) expectEOF() {
	tc.t.Helper()
	tc.c.SetReadDeadline(time.Now().Add(5 * time.Second))
	l, err := tc.r.ReadString('\n')
	if err == nil {
		tc.t.Fatalf("got %q, want connection closed", l)
	}
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() {
		tc.t.Fatal("timeout waiting for close")
	}
}

func b64(s string) string { return base64.StdEncoding.EncodeToString([]byte(s)) }

const authPrefix = "\tservice=smtp\tnologin\tlip=127.0.0.1\trip=192.0.2.7"

func TestHandshake(t *testing.T) {
	_, addr := startServer(t, newMem(t), Options{})
	tc := dial(t, addr)
	want := []string{`VERSION\t1\t2`, `MECH\tPLAIN\tplaintext`, `MECH\tLOGIN\tplaintext`,
		`SPID\t\d+`, `CUID\t\d+`, `COOKIE\t[0-9a-f]{32}`, `DONE`}
	if len(tc.hs) != len(want) {
		t.Fatalf("handshake = %q", tc.hs)
	}
	for i, re := range want {
		if !regexp.MustCompile("^" + re + "$").MatchString(tc.hs[i]) {
			t.Errorf("handshake line %d = %q, want /%s/", i, tc.hs[i], re)
		}
	}
}

func TestPlain(t *testing.T) {
	_, addr := startServer(t, newMem(t), Options{})
	tc := dial(t, addr)
	tc.send("AUTH\t1\tPLAIN" + authPrefix + "\tresp=" + b64("\x00alice@example.org\x00s3cret"))
	tc.expect("OK\t1\tuser=alice@example.org")
	// Case is normalised (%Lu) and the typed name reported.
	tc.send("AUTH\t2\tPLAIN" + authPrefix + "\tresp=" + b64("\x00Alice@Example.org\x00s3cret"))
	tc.expect("OK\t2\tuser=alice@example.org\toriginal_user=Alice@Example.org")
	// Wrong password and unknown user look the same.
	tc.send("AUTH\t3\tPLAIN" + authPrefix + "\tresp=" + b64("\x00alice@example.org\x00nope"))
	tc.expect("FAIL\t3\tuser=alice@example.org")
	tc.send("AUTH\t4\tPLAIN" + authPrefix + "\tresp=" + b64("\x00carol@example.org\x00nope"))
	tc.expect("FAIL\t4\tuser=carol@example.org")
	// No initial response: empty challenge, then the data.
	tc.send("AUTH\t5\tPLAIN" + authPrefix)
	tc.expect("CONT\t5\t")
	tc.send("CONT\t5\t" + b64("\x00bob@example.org\x00bobpw"))
	tc.expect("OK\t5\tuser=bob@example.org")
	// Master-user style authzid is refused.
	tc.send("AUTH\t6\tPLAIN" + authPrefix + "\tresp=" + b64("bob@example.org\x00alice@example.org\x00s3cret"))
	tc.expect("FAIL\t6\tcode=authz_fail")
	// Bad base64 fails at once with Dovecot's code.
	tc.send("AUTH\t7\tPLAIN" + authPrefix + "\tresp=!!!")
	tc.expect("FAIL\t7\tcode=invalid_base64\treason=Invalid base64 data in initial response")
	// Characters outside auth_username_chars fail like a bad password.
	tc.send("AUTH\t8\tPLAIN" + authPrefix + "\tresp=" + b64("\x00al'ice\x00x"))
	tc.expect("FAIL\t8")
}

func TestLogin(t *testing.T) {
	_, addr := startServer(t, newMem(t), Options{})
	tc := dial(t, addr)
	tc.send("AUTH\t1\tLOGIN" + authPrefix)
	tc.expect("CONT\t1\tVXNlcm5hbWU6")
	tc.send("CONT\t1\t" + b64("bob@example.org"))
	tc.expect("CONT\t1\tUGFzc3dvcmQ6")
	tc.send("CONT\t1\t" + b64("bobpw"))
	tc.expect("OK\t1\tuser=bob@example.org")
	// Initial response = user name.
	tc.send("AUTH\t2\tLOGIN" + authPrefix + "\tresp=" + b64("bob@example.org"))
	tc.expect("CONT\t2\tUGFzc3dvcmQ6")
	tc.send("CONT\t2\t" + b64("wrong"))
	tc.expect("FAIL\t2\tuser=bob@example.org")
}

func TestContinueTimeout(t *testing.T) {
	_, addr := startServer(t, newMem(t), Options{ContinueTimeout: 50 * time.Millisecond, MaxInFlight: 1})
	tc := dial(t, addr)
	tc.send("AUTH\t1\tLOGIN" + authPrefix)
	tc.expect("CONT\t1\tVXNlcm5hbWU6")
	// The SMTP client aborted; Postfix never sends the CONT.
	tc.expect("FAIL\t1\treason=Authentication timed out")
	// The slot is free again (MaxInFlight 1).
	tc.send("AUTH\t2\tPLAIN" + authPrefix + "\tresp=" + b64("\x00bob@example.org\x00bobpw"))
	tc.expect("OK\t2\tuser=bob@example.org")
}

func TestProtocolViolationsClose(t *testing.T) {
	_, addr := startServer(t, newMem(t), Options{})
	for _, line := range []string{
		"AUTH\t1\tPLAIN\tnologin",          // no service=
		"AUTH\t1\tANONYMOUS\tservice=smtp", // not offered
		"AUTH\t0\tPLAIN\tservice=smtp",     // id 0
		"BOGUS\tline",                      // unknown command
		"AUTH\t1\tPLAIN\tservice=smtp\tresp=" + strings.Repeat("A", 20000), // too long
	} {
		tc := dial(t, addr)
		tc.send(line)
		tc.expectEOF()
	}
	// AUTH before the client handshake.
	c, _ := net.Dial("tcp", addr)
	defer c.Close()
	c.Write([]byte("AUTH\t1\tPLAIN\tservice=smtp\n"))
	tc := &testClient{t: t, c: c, r: bufio.NewReader(c)}
	for tc.read() != "DONE" {
	}
	tc.expectEOF()
}

func TestTempFailClosesConnection(t *testing.T) {
	m := newMem(t)
	m.fail = &TempError{Err: errors.New("db down")}
	reg := prometheus.NewRegistry()
	_, addr := startServer(t, m, Options{Registerer: reg})
	tc := dial(t, addr)
	tc.send("AUTH\t1\tPLAIN" + authPrefix + "\tresp=" + b64("\x00alice@example.org\x00s3cret"))
	tc.expectEOF()
	if got := testutil.ToFloat64(mustCounter(t, reg, "PLAIN", "tempfail")); got != 1 {
		t.Errorf("tempfail counter = %v", got)
	}
	// Slow store: the lookup timeout turns into a temporary failure too.
	m.fail, m.delay = nil, time.Second
	_, addr2 := startServer(t, m, Options{LookupTimeout: 50 * time.Millisecond})
	tc2 := dial(t, addr2)
	tc2.send("AUTH\t1\tPLAIN" + authPrefix + "\tresp=" + b64("\x00alice@example.org\x00s3cret"))
	tc2.expectEOF()
}

func TestUnusableStoredHashIsTemporary(t *testing.T) {
	m := newMem(t)
	m.users["broken@example.org"] = "{NOSUCH}abc"
	_, addr := startServer(t, m, Options{})
	tc := dial(t, addr)
	tc.send("AUTH\t1\tPLAIN" + authPrefix + "\tresp=" + b64("\x00broken@example.org\x00x"))
	tc.expectEOF()
}

func TestTempFailAsFail(t *testing.T) {
	m := newMem(t)
	m.fail = errors.New("anything unknown is temporary")
	_, addr := startServer(t, m, Options{TempFailAsFail: true})
	tc := dial(t, addr)
	tc.send("AUTH\t1\tPLAIN" + authPrefix + "\tresp=" + b64("\x00alice@example.org\x00s3cret"))
	tc.expect("FAIL\t1\tcode=temp_fail")
}

func mustCounter(t *testing.T, reg *prometheus.Registry, mech, result string) prometheus.Collector {
	t.Helper()
	mfs, _ := reg.Gather()
	for _, mf := range mfs {
		if mf.GetName() != "gomilter_auth_requests_total" {
			continue
		}
		for _, m := range mf.Metric {
			l := map[string]string{}
			for _, p := range m.Label {
				l[p.GetName()] = p.GetValue()
			}
			if l["mech"] == mech && l["result"] == result {
				return prometheus.NewCounterFunc(prometheus.CounterOpts{Name: "x"},
					func() float64 { return m.Counter.GetValue() })
			}
		}
	}
	return prometheus.NewCounterFunc(prometheus.CounterOpts{Name: "x"}, func() float64 { return 0 })
}

// TestConcurrentRequests: a slow request must not hold up a fast one on
// the same connection.
func TestConcurrentRequests(t *testing.T) {
	var slowGate = make(chan struct{})
	m := newMem(t)
	auth := AuthenticatorFunc(func(ctx context.Context, u string, ri RequestInfo) (Credentials, error) {
		if u == "alice@example.org" {
			<-slowGate
		}
		return m.Lookup(ctx, u, ri)
	})
	_, addr := startServer(t, auth, Options{})
	tc := dial(t, addr)
	tc.send("AUTH\t1\tPLAIN" + authPrefix + "\tresp=" + b64("\x00alice@example.org\x00s3cret"))
	tc.send("AUTH\t2\tPLAIN" + authPrefix + "\tresp=" + b64("\x00bob@example.org\x00bobpw"))
	tc.expect("OK\t2\tuser=bob@example.org")
	close(slowGate)
	tc.expect("OK\t1\tuser=alice@example.org")
}
