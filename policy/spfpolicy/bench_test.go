package spfpolicy

import (
	"bufio"
	"fmt"
	"net"
	"testing"
	"time"

	"github.com/gomilter/gomilter/internal/dns"
	"github.com/gomilter/gomilter/internal/dnstest"
	"github.com/gomilter/gomilter/internal/spf"
	"github.com/gomilter/gomilter/policy"
)

// BenchmarkServerSPF measures one RCPT request through the policy server
// and the SPF handler on a persistent loopback connection, DNS cached,
// alternating a pass and a fail sender (each request a new message).
func BenchmarkServerSPF(b *testing.B) {
	z, err := dnstest.Start()
	if err != nil {
		b.Fatal(err)
	}
	defer z.Close()
	z.AddTXT("pass.example", "v=spf1 include:_spf.pass.example -all")
	z.AddTXT("_spf.pass.example", "v=spf1 ip4:192.0.2.0/24 ~all")
	z.AddTXT("fail.example", "v=spf1 mx -all")
	z.AddMX("fail.example", 10, "mx.fail.example")
	z.AddA("mx.fail.example", "203.0.113.1")
	r, _ := dns.New(dns.Options{Servers: []string{z.Addr()}, Timeout: time.Second})
	c, _ := spf.New(spf.Options{Resolver: r, Receiver: "mx.test"})
	h, _ := New(Options{Checker: c})
	srv, _ := policy.NewServer(h, policy.Options{})
	l, _ := net.Listen("tcp", "127.0.0.1:0")
	go srv.Serve(l)
	defer srv.Close()
	conn, err := net.Dial("tcp", l.Addr().String())
	if err != nil {
		b.Fatal(err)
	}
	defer conn.Close()
	br := bufio.NewReader(conn)
	senders := []string{"a@pass.example", "b@fail.example"}
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		fmt.Fprintf(conn, "request=smtpd_access_policy\nprotocol_state=RCPT\nclient_address=192.0.2.10\n"+
			"helo_name=mail.example\nsender=%s\nrecipient=u@dest.example\ninstance=b.%d\n\n", senders[i%2], i)
		i++
		if _, err := br.ReadString('\n'); err != nil {
			b.Fatal(err)
		}
		br.ReadString('\n')
	}
}
