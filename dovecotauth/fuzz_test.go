package dovecotauth

import (
	"bufio"
	"io"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
)

// Real lines as Postfix 3.7 sends them (captured from smtpd).
var postfixLines = []string{
	"VERSION\t1\t0",
	"CPID\t12345",
	"AUTH\t1\tPLAIN\tservice=smtp\tnologin\tlip=127.0.0.1\trip=127.0.0.1\tresp=AHVzZXJAZXhhbXBsZS5vcmcAc2VjcmV0",
	"AUTH\t2\tLOGIN\tservice=smtp\tnologin\tlip=127.0.0.1\trip=127.0.0.1",
	"CONT\t2\tdXNlckBleGFtcGxlLm9yZw==",
	"AUTH\t3\tPLAIN\tservice=smtp\tnologin\tlip=\trip=\tsecured\tresp==",
}

func FuzzParseAuth(f *testing.F) {
	for _, l := range postfixLines {
		f.Add(l)
	}
	f.Fuzz(func(t *testing.T, line string) {
		fs := splitLine(line)
		if len(fs) < 2 {
			return
		}
		a, err := parseAuth(fs[1:])
		if err != nil {
			return
		}
		if a.id == 0 || a.info.Service == "" || a.mech == "" {
			t.Fatalf("parseAuth(%q) accepted %+v", line, a)
		}
		if got := unescapeValue(escapeValue(a.info.Service)); got != a.info.Service {
			t.Fatalf("escape round trip %q -> %q", a.info.Service, got)
		}
	})
}

// FuzzSession drives a whole connection over net.Pipe from the post-
// handshake state and from the raw state; the server must never panic and
// must answer or close within the deadline.
func FuzzSession(f *testing.F) {
	f.Add(strings.Join(postfixLines, "\n")+"\n", true)
	f.Add("AUTH\t1\tPLAIN\tservice=smtp\n", true)
	f.Add("CONT\t9\tAAAA\nAUTH\t1\tLOGIN\tservice=smtp\tresp=\nCONT\t1\t=\n", false)
	f.Add("AUTH\t1\tSCRAM-SHA-1\tservice=x\tresp=bixuPWEscj1i\nCONT\t1\tYz1iaXdzLHI9YixwPUFBQUE=\n", true)
	f.Fuzz(func(t *testing.T, input string, handshake bool) {
		reg := prometheus.NewRegistry()
		m := &memAuth{users: map[string]string{"a": "{PLAIN}b", "user@example.org": "{PLAIN}secret"},
			schemes: []string{"PLAIN"}}
		s, err := NewServer(listingAuth{m}, Options{FailureDelay: -1, PenaltyInit: time.Microsecond,
			PenaltyMax: time.Microsecond, Registerer: reg,
			Mechanisms: []string{"PLAIN", "LOGIN", "CRAM-MD5", "SCRAM-SHA-1"}})
		if err != nil {
			t.Fatal(err)
		}
		cli, srv := net.Pipe()
		done := make(chan struct{})
		go func() { s.handleClient(srv); close(done) }()
		go io.Copy(io.Discard, bufio.NewReader(cli))
		if handshake {
			input = "VERSION\t1\t0\nCPID\t1\n" + input
		}
		cli.SetWriteDeadline(time.Now().Add(time.Second))
		cli.Write([]byte(input))
		time.Sleep(time.Millisecond)
		cli.Close()
		select {
		case <-done:
		case <-time.After(5 * time.Second):
			t.Fatal("connection handler did not finish")
		}
		if testutil.ToFloat64(s.metrics.panics) != 0 {
			t.Fatal("panic recovered")
		}
	})
}
