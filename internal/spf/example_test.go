package spf_test

import (
	"context"
	"fmt"
	"net/netip"

	"github.com/gomilter/gomilter/internal/dns"
	"github.com/gomilter/gomilter/internal/dnstest"
	"github.com/gomilter/gomilter/internal/spf"
)

// Example checks a MAIL FROM identity against a local DNS server and
// prints the Received-SPF field the policy service would prepend.
func Example() {
	z, _ := dnstest.Start()
	defer z.Close()
	z.AddTXT("example.com", "v=spf1 ip4:192.0.2.0/24 -all")
	r, _ := dns.New(dns.Options{Servers: []string{z.Addr()}})
	c, _ := spf.New(spf.Options{Resolver: r, Receiver: "mx.example.org"})

	res := c.Check(context.Background(), netip.MustParseAddr("192.0.2.7"), "mail.example.com", "alice@example.com")
	fmt.Println("Received-SPF: " + res.ReceivedSPF(c.Receiver()))
	res = c.Check(context.Background(), netip.MustParseAddr("198.51.100.1"), "mail.example.com", "alice@example.com")
	fmt.Println(res.Code, res.Explanation)
	// Output:
	// Received-SPF: pass (mx.example.org: domain of alice@example.com designates 192.0.2.7 as permitted sender) client-ip=192.0.2.7; envelope-from="alice@example.com"; helo=mail.example.com; receiver=mx.example.org; identity=mailfrom; mechanism="ip4:192.0.2.0/24"
	// fail SPF fail - not authorized
}
