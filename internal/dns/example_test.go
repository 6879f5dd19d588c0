package dns_test

import (
	"context"
	"fmt"
	"time"

	"github.com/gomilter/gomilter/internal/dns"
	"github.com/gomilter/gomilter/internal/dnstest"
)

// Example looks up a DMARC record and shows the three error classes a
// mail-authentication check must tell apart. The local server stands in
// for the recursive resolver named in /etc/resolv.conf.
func Example() {
	srv, err := dnstest.Start()
	if err != nil {
		panic(err)
	}
	defer srv.Close()
	srv.AddTXT("_dmarc.example.org", "v=DMARC1; p=reject")
	srv.AddA("mail.example.org", "192.0.2.25")
	srv.SetTimeout("_dmarc.slow.example")

	r, err := dns.New(dns.Options{Servers: []string{srv.Addr()}, Timeout: 250 * time.Millisecond, Attempts: 1})
	if err != nil {
		panic(err)
	}
	ctx := context.Background()
	for _, name := range []string{"_dmarc.example.org", "mail.example.org", "_dmarc.nowhere.example", "_dmarc.slow.example"} {
		txt, err := r.LookupTXT(ctx, name)
		switch {
		case err == nil:
			fmt.Printf("%s: %q\n", name, txt)
		case dns.IsNXDomain(err):
			fmt.Printf("%s: no such domain\n", name)
		case dns.IsNotFound(err):
			fmt.Printf("%s: no TXT record\n", name)
		case dns.IsTemporary(err):
			fmt.Printf("%s: try again later\n", name)
		}
	}
	// Output:
	// _dmarc.example.org: ["v=DMARC1; p=reject"]
	// mail.example.org: no TXT record
	// _dmarc.nowhere.example: no such domain
	// _dmarc.slow.example: try again later
}
