package dovecotauth

import (
	"bufio"
	"context"
	"crypto/hmac"
	"crypto/md5"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	"github.com/prometheus/client_golang/prometheus/testutil/promlint"
	"golang.org/x/crypto/pbkdf2"

	"github.com/gomilter/gomilter/internal/passwd"
)

func TestChallengeMechanismsNeedCapableStore(t *testing.T) {
	opts := Options{Mechanisms: []string{"PLAIN", "LOGIN", "CRAM-MD5", "SCRAM-SHA-256"}}
	s, err := NewServer(newMem(t), opts)
	if err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(s.Mechanisms(), " "); got != "PLAIN LOGIN" {
		t.Errorf("mechanisms without SchemeLister = %q", got)
	}
	m := newMem(t)
	m.schemes = []string{"SHA512-CRYPT", "PLAIN"}
	s, _ = NewServer(listingAuth{m}, opts)
	if got := strings.Join(s.Mechanisms(), " "); got != "PLAIN LOGIN" {
		t.Errorf("mechanisms with SHA512-CRYPT users = %q", got)
	}
	m.schemes = []string{"PLAIN"}
	s, _ = NewServer(listingAuth{m}, opts)
	if got := strings.Join(s.Mechanisms(), " "); got != "PLAIN LOGIN CRAM-MD5 SCRAM-SHA-256" {
		t.Errorf("mechanisms with PLAIN users = %q", got)
	}
	if _, err := NewServer(m, Options{Mechanisms: []string{"ANONYMOUS"}}); err == nil {
		t.Error("ANONYMOUS accepted")
	}
}

func TestCRAMMD5(t *testing.T) {
	m := newMem(t)
	m.schemes = []string{"PLAIN"}
	_, addr := startServer(t, listingAuth{m}, Options{Mechanisms: []string{"CRAM-MD5"}, Hostname: "auth.test"})
	tc := dial(t, addr)
	tc.send("AUTH\t1\tCRAM-MD5" + authPrefix)
	l := tc.expect(`CONT\t1\t.+`)
	ch, _ := base64.StdEncoding.DecodeString(strings.Split(l, "\t")[2])
	if !strings.HasSuffix(string(ch), "@auth.test>") {
		t.Errorf("challenge %q", ch)
	}
	mac := hmac.New(md5.New, []byte("bobpw"))
	mac.Write(ch)
	tc.send("CONT\t1\t" + b64("bob@example.org "+hex.EncodeToString(mac.Sum(nil))))
	tc.expect("OK\t1\tuser=bob@example.org")
	tc.send("AUTH\t2\tCRAM-MD5" + authPrefix)
	tc.expect(`CONT\t2\t.+`)
	tc.send("CONT\t2\t" + b64("bob@example.org 00112233445566778899aabbccddeeff"))
	tc.expect("FAIL\t2\tuser=bob@example.org")
}

func TestSCRAMSHA256(t *testing.T) {
	m := newMem(t)
	stored, err := passwd.Generate("SCRAM-SHA-256", "carolpw", "", passwd.GenOptions{})
	if err != nil {
		t.Fatal(err)
	}
	m.users["carol@example.org"] = stored
	m.schemes = []string{"PLAIN", "SCRAM-SHA-256"}
	_, addr := startServer(t, listingAuth{m}, Options{Mechanisms: []string{"SCRAM-SHA-256"}})
	for _, tcase := range []struct {
		user, pw string
		want     string
	}{{"bob", "bobpw", "OK"}, {"bob", "wrong", "FAIL"}, {"carol", "carolpw", "OK"}, {"carol", "bobpw", "FAIL"}} {
		tc := dial(t, addr)
		first := "n,,n=" + tcase.user + "@example.org,r=clientnonce123"
		tc.send("AUTH\t1\tSCRAM-SHA-256" + authPrefix + "\tresp=" + b64(first))
		l := tc.expect(`CONT\t1\t.+`)
		sf, _ := base64.StdEncoding.DecodeString(strings.Split(l, "\t")[2])
		attrs := strings.Split(string(sf), ",")
		nonce, saltB64, iter := attrs[0][2:], attrs[1][2:], attrs[2][2:]
		salt, _ := base64.StdEncoding.DecodeString(saltB64)
		if !strings.HasPrefix(nonce, "clientnonce123") || iter != "4096" {
			t.Fatalf("server-first %q", sf)
		}
		salted := pbkdf2.Key([]byte(tcase.pw), salt, 4096, 32, sha256.New)
		ck := hm(salted, "Client Key")
		sk := sha256.Sum256(ck)
		final := "c=biws,r=" + nonce
		authMsg := first[3:] + "," + string(sf) + "," + final
		sig := hm(sk[:], authMsg)
		proof := make([]byte, len(ck))
		for i := range ck {
			proof[i] = ck[i] ^ sig[i]
		}
		tc.send("CONT\t1\t" + b64(final+",p="+base64.StdEncoding.EncodeToString(proof)))
		if tcase.want == "FAIL" {
			tc.expect("FAIL\t1\tuser=" + tcase.user + "@example.org")
			continue
		}
		l = tc.expect(`CONT\t1\t.+`)
		v, _ := base64.StdEncoding.DecodeString(strings.Split(l, "\t")[2])
		wantV := "v=" + base64.StdEncoding.EncodeToString(hm(hm(salted, "Server Key"), authMsg))
		if string(v) != wantV {
			t.Errorf("server-final %q, want %q", v, wantV)
		}
		tc.send("CONT\t1\t")
		tc.expect("OK\t1\tuser=" + tcase.user + "@example.org")
	}
}

func hm(key []byte, msg string) []byte {
	m := hmac.New(sha256.New, key)
	m.Write([]byte(msg))
	return m.Sum(nil)
}

// TestPenalty: failures from one IP delay that IP's next requests (doubling,
// capped), other IPs are unaffected, success clears it.
func TestPenalty(t *testing.T) {
	reg := prometheus.NewRegistry()
	o := Options{PenaltyInit: 40 * time.Millisecond, PenaltyMax: 160 * time.Millisecond,
		MaxDelay: 500 * time.Millisecond, Registerer: reg}
	_, addr := startServer(t, newMem(t), o)
	tc := dial(t, addr)
	elapsed := func(id, rip, creds, want string) time.Duration {
		t0 := time.Now()
		tc.send("AUTH\t" + id + "\tPLAIN\tservice=smtp\trip=" + rip + "\tresp=" + b64(creds))
		tc.expect(want)
		return time.Since(t0)
	}
	bad := "\x00alice@example.org\x00bad"
	for i, pw := range []string{"b1", "b2", "b3", "b4"} {
		d := elapsed(string(rune('1'+i)), "192.0.2.9", "\x00alice@example.org\x00"+pw, "FAIL.*")
		if i == 0 && d > 30*time.Millisecond {
			t.Errorf("first failure delayed %v", d)
		}
		if i == 3 && d < 150*time.Millisecond {
			t.Errorf("4th failure delayed only %v, want >= cap 160ms", d)
		}
	}
	// Same wrong password repeated does not escalate beyond the current step.
	_ = bad
	// Another IP for another user is not delayed.
	if d := elapsed("10", "198.51.100.1", "\x00bob@example.org\x00bobpw", "OK.*"); d > 30*time.Millisecond {
		t.Errorf("other IP delayed %v", d)
	}
	// IPv6 addresses in one /64 share a penalty.
	elapsed("11", "2001:db8::1", "\x00bob@example.org\x00x", "FAIL.*")
	if d := elapsed("12", "2001:db8::2", "\x00carol@x\x00x", "FAIL.*"); d < 35*time.Millisecond {
		t.Errorf("same /64 not penalised: %v", d)
	}
	if n := testutil.ToFloat64(mustVec(t, reg, "gomilter_auth_penalties_total")); n < 3 {
		t.Errorf("penalty counter = %v", n)
	}
}

func mustVec(t *testing.T, reg *prometheus.Registry, name string) prometheus.Collector {
	t.Helper()
	var sum float64
	mfs, _ := reg.Gather()
	for _, mf := range mfs {
		if mf.GetName() == name {
			for _, m := range mf.Metric {
				sum += m.Counter.GetValue()
			}
		}
	}
	return prometheus.NewCounterFunc(prometheus.CounterOpts{Name: "x"}, func() float64 { return sum })
}

// TestDelaysBounded: even a long penalty plus failure delay stays under
// MaxDelay (Postfix's 10 s timeout would turn it into 454).
func TestDelaysBounded(t *testing.T) {
	reg := prometheus.NewRegistry()
	o := Options{PenaltyInit: time.Second, PenaltyMax: 5 * time.Second,
		FailureDelay: 200 * time.Millisecond, MaxDelay: 250 * time.Millisecond, Registerer: reg}
	s, addr := startServer(t, newMem(t), o)
	tc := dial(t, addr)
	for i := 1; i <= 4; i++ {
		t0 := time.Now()
		tc.send("AUTH\t" + string(rune('0'+i)) + "\tPLAIN" + authPrefix + "\tresp=" + b64("\x00alice@example.org\x00w"+string(rune('0'+i))))
		tc.expect("FAIL.*")
		if d := time.Since(t0); d > 2*time.Second || d < 190*time.Millisecond {
			t.Errorf("request %d took %v, want about 250ms", i, d)
		}
	}
	// Deterministic check: the deliberate delays of 4 requests sum to at
	// most 4*MaxDelay although the penalty alone would be 1+2+4 s.
	var sum float64
	mfs, _ := reg.Gather()
	for _, mf := range mfs {
		if mf.GetName() == "gomilter_auth_delay_seconds" {
			sum = mf.Metric[0].Histogram.GetSampleSum()
		}
	}
	if sum > 4*0.25+0.001 || sum < 4*0.2 {
		t.Errorf("total deliberate delay %.3fs, want in [0.8, 1.0]", sum)
	}
	_ = s
}

func TestVerifyCache(t *testing.T) {
	reg := prometheus.NewRegistry()
	_, addr := startServer(t, newMem(t), Options{VerifyCacheTTL: time.Minute, Registerer: reg})
	tc := dial(t, addr)
	for i := 1; i <= 3; i++ {
		tc.send("AUTH\t" + string(rune('0'+i)) + "\tPLAIN" + authPrefix + "\tresp=" + b64("\x00alice@example.org\x00s3cret"))
		tc.expect("OK.*")
	}
	tc.send("AUTH\t9\tPLAIN" + authPrefix + "\tresp=" + b64("\x00alice@example.org\x00S3cret"))
	tc.expect("FAIL.*")
	if n := testutil.ToFloat64(mustVec(t, reg, "gomilter_auth_verify_cache_hits_total")); n != 2 {
		t.Errorf("cache hits = %v, want 2", n)
	}
}

func TestUserdbProtocol(t *testing.T) {
	s, err := NewServer(newMem(t), Options{})
	if err != nil {
		t.Fatal(err)
	}
	l, _ := net.Listen("tcp", "127.0.0.1:0")
	go s.ServeUserdb(l)
	defer s.Close()
	c, _ := net.Dial("tcp", l.Addr().String())
	defer c.Close()
	tc := &testClient{t: t, c: c, r: bufio.NewReader(c)}
	tc.expect(`VERSION\t1\t1`)
	tc.expect(`SPID\t\d+`)
	tc.send("VERSION\t1\t1")
	tc.send("USER\t1\tAlice@example.org\tservice=lmtp")
	tc.expect("USER\t1\talice@example.org\tgid=1001\thome=/var/mail/alice@example.org\tuid=1001")
	tc.send("USER\t2\tnobody@example.org\tservice=lmtp")
	tc.expect("NOTFOUND\t2")
	tc.send("PASS\t3\tbob@example.org\tservice=doveadm")
	tc.expect("PASS\t3\tpassword={PLAIN}bobpw\tuser=bob@example.org")
	tc.send("LIST\t4\tuser=bob*\tservice=doveadm")
	tc.expect("LIST\t4\tbob@example.org")
	tc.expect("DONE\t4")
	tc.send("CACHE-FLUSH\t5")
	tc.expect("OK\t5\t0")
	tc.send("USER\t6\tx")
	tc.expectEOF()
}

func TestShutdownDrains(t *testing.T) {
	m := newMem(t)
	m.delay = 100 * time.Millisecond
	s, addr := startServer(t, m, Options{})
	tc := dial(t, addr)
	tc.send("AUTH\t1\tPLAIN" + authPrefix + "\tresp=" + b64("\x00bob@example.org\x00bobpw"))
	time.Sleep(20 * time.Millisecond)
	done := make(chan error)
	go func() { done <- s.Shutdown(t.Context()) }()
	tc.expect("OK\t1\tuser=bob@example.org")
	tc.expectEOF()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
}

func TestMetricNames(t *testing.T) {
	reg := prometheus.NewRegistry()
	s, addr := startServer(t, newMem(t), Options{Registerer: reg})
	_ = s
	tc := dial(t, addr)
	tc.send("AUTH\t1\tPLAIN" + authPrefix + "\tresp=" + b64("\x00bob@example.org\x00bobpw"))
	tc.expect("OK.*")
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	problems, err := promlint.NewWithMetricFamilies(mfs).Lint()
	if err != nil || len(problems) > 0 {
		t.Errorf("promlint: %v %v", err, problems)
	}
	for _, mf := range mfs {
		if !strings.HasPrefix(mf.GetName(), "gomilter_auth_") {
			t.Errorf("metric %s outside gomilter_auth_", mf.GetName())
		}
	}
}

func TestPanicRecovered(t *testing.T) {
	reg := prometheus.NewRegistry()
	auth := AuthenticatorFunc(func(context.Context, string, RequestInfo) (Credentials, error) {
		panic("boom")
	})
	s, addr := startServer(t, auth, Options{Registerer: reg})
	tc := dial(t, addr)
	tc.send("AUTH\t1\tPLAIN" + authPrefix + "\tresp=" + b64("\x00bob@example.org\x00bobpw"))
	tc.expectEOF() // Postfix turns this into 454
	if n := testutil.ToFloat64(s.metrics.panics); n != 1 {
		t.Errorf("panic counter = %v", n)
	}
}

func TestTraceRedactsCredentials(t *testing.T) {
	var buf lockedBuffer
	_, addr := startServer(t, newMem(t), Options{Trace: &buf})
	tc := dial(t, addr)
	tc.send("AUTH\t1\tLOGIN" + authPrefix + "\tresp=" + b64("bob@example.org"))
	tc.expect("CONT\t1\tUGFzc3dvcmQ6")
	tc.send("CONT\t1\t" + b64("bobpw"))
	tc.expect("OK.*")
	out := buf.String()
	if strings.Contains(out, b64("bobpw")) || strings.Contains(out, b64("bob@example.org")) ||
		!strings.Contains(out, "resp=***") || !strings.Contains(out, "C: CONT\t1\t***") {
		t.Errorf("trace leaks or lacks redaction:\n%s", out)
	}
}

type lockedBuffer struct {
	mu sync.Mutex
	b  strings.Builder
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}
