package spfpolicy

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/gomilter/gomilter/internal/spf"
	"github.com/gomilter/gomilter/internal/testenv"
	"github.com/gomilter/gomilter/policy"
)

// policydWrapper runs Debian's policyd-spf with its DNS library aimed at
// argv[1] (the test's DNS server) instead of /etc/resolv.conf.
const policydWrapper = `import sys
host, port = sys.argv[1].rsplit(":", 1)
import spf
try:
    import dns.resolver
    r = dns.resolver.Resolver(configure=False)
    r.nameservers = [host]
    r.port = int(port)
    dns.resolver.default_resolver = r
except ImportError:
    import DNS
    DNS.defaults["server"] = [host]
    DNS.defaults["port"] = int(port)
sys.argv = ["policyd-spf"]
from spf_engine.policyd_spf import main
sys.exit(main())
`

// TestSameDecisionsAsPolicydSPF sends the same requests to the real
// policyd-spf (stock Debian configuration: HELO_reject = Fail,
// Mail_From_reject = Fail, no reject on permerror, no defer on temperror)
// and to our handler configured the same way, and compares the decisions:
// the action, the reply code, and the SPF result in the prepended header.
func TestSameDecisionsAsPolicydSPF(t *testing.T) {
	testenv.SkipShort(t, "spawns policyd-spf")
	bin := testenv.LookPath(t, "policyd-spf")
	z := zone(t)
	z.AddTXT("neutral.example", "v=spf1 ?all")
	z.AddTXT("incl.example", "v=spf1 include:pass.example -all")
	z.AddTXT("mx.example", "v=spf1 mx ~all")
	z.AddMX("mx.example", 10, "mail.mx.example")
	z.AddA("mail.mx.example", "198.51.100.7")
	in, out := startPolicyd(t, bin, z.Addr())
	ours := newHandler(t, z, Options{HeloCheck: true, DeferOn: []spf.Code{}})
	cases := []struct{ ip, helo, sender string }{
		{"192.0.2.10", "helo.example", "a@pass.example"},
		{"198.51.100.7", "x.example", "a@pass.example"},
		{"198.51.100.7", "x.example", "a@fail.example"},
		{"198.51.100.7", "x.example", "a@soft.example"},
		{"198.51.100.7", "x.example", "a@neutral.example"},
		{"198.51.100.7", "x.example", "a@nospf.example"},
		{"198.51.100.7", "x.example", "a@broken.example"},
		{"192.0.2.10", "x.example", "a@incl.example"},
		{"203.0.113.9", "x.example", "a@incl.example"},
		{"198.51.100.7", "x.example", "a@mx.example"},
		{"203.0.113.9", "x.example", "a@mx.example"},
		{"198.51.100.7", "badhelo.example", "a@pass.example"},
		{"198.51.100.7", "badhelo.example", ""},
		{"192.0.2.10", "helo.example", ""},
	}
	for i, c := range cases {
		r := req(c.ip, c.helo, c.sender, fmt.Sprintf("cmp.%d", i))
		theirs := askPolicyd(t, in, out, r)
		mine, err := ours.Check(context.Background(), r)
		if err != nil {
			t.Fatal(err)
		}
		if a, b := decision(theirs), decision(string(mine)); a != b {
			t.Errorf("%s %s <%s>: policyd-spf %q, ours %q", c.ip, c.helo, c.sender, theirs, mine)
		}
	}
}

func startPolicyd(t *testing.T, bin, dnsAddr string) (io.Writer, *bufio.Reader) {
	t.Helper()
	py := "/usr/bin/python3"
	if line, err := os.ReadFile(bin); err == nil && strings.HasPrefix(string(line), "#!") {
		py = strings.TrimSpace(strings.TrimPrefix(strings.SplitN(string(line), "\n", 2)[0], "#!"))
	}
	script := filepath.Join(t.TempDir(), "policyd-spf-dns.py")
	if err := os.WriteFile(script, []byte(policydWrapper), 0o644); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(py, script, dnsAddr)
	in, _ := cmd.StdinPipe()
	out, _ := cmd.StdoutPipe()
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		testenv.Missing(t, "cannot run policyd-spf: %v", err)
	}
	t.Cleanup(func() {
		in.Close()
		done := make(chan struct{})
		go func() { cmd.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			cmd.Process.Kill()
		}
	})
	return in, bufio.NewReader(out)
}

func askPolicyd(t *testing.T, in io.Writer, out *bufio.Reader, r *policy.Request) string {
	t.Helper()
	fmt.Fprintf(in, "request=smtpd_access_policy\nprotocol_state=RCPT\nprotocol_name=ESMTP\n"+
		"client_address=%s\nclient_name=unknown\nhelo_name=%s\nsender=%s\nrecipient=%s\ninstance=%s\n\n",
		r.ClientAddress, r.HeloName, r.Sender, r.Recipient, r.Instance)
	line, err := out.ReadString('\n')
	if err != nil {
		t.Fatalf("policyd-spf: %v", err)
	}
	out.ReadString('\n')
	return strings.TrimPrefix(strings.TrimSpace(line), "action=")
}

// decision reduces an action to what must agree: "reject 550 5.7.23",
// "prepend pass", "defer", "dunno".
func decision(a string) string {
	f := strings.Fields(strings.ToLower(a))
	switch {
	case len(f) == 0:
		return ""
	case f[0] == "prepend" && len(f) >= 3:
		return "prepend " + f[2] // "Received-SPF: <result> ..."
	case f[0] == "550":
		// policyd-spf appends ". Please see <openspf.net URL>" (a dead
		// site); the code, status and explanation must agree.
		text, _, _ := strings.Cut(strings.ToLower(a), ". please see ")
		return "reject " + text
	}
	return f[0]
}
