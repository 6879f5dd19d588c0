package authres_test

import (
	"fmt"
	"net/netip"
	"strings"

	"github.com/gomilter/gomilter/internal/authres"
	"github.com/gomilter/gomilter/internal/mailmsg"
)

func ExampleFormat() {
	v := authres.Format("mx.example.org", []authres.Result{
		authres.SPF("pass", "mailfrom", "alice@example.com"),
		authres.DKIM(authres.DKIMSig{Result: "pass", Domain: "example.com", Selector: "s1", Algorithm: "ed25519-sha256", B: "Zm9vYmFyYmF6"}),
		authres.DMARC("pass", "reject", "", "none", "example.com"),
		authres.ARC("none", netip.MustParseAddr("192.0.2.7"), 0),
	})
	fmt.Println("Authentication-Results:" + strings.ReplaceAll(v, "\r\n", "\n"))
	// Output:
	// Authentication-Results: mx.example.org;
	// 	spf=pass smtp.mailfrom=alice@example.com;
	// 	dkim=pass header.d=example.com header.i=@example.com header.s=s1
	// 	 header.a=ed25519-sha256 header.b=Zm9vYmFy;
	// 	dmarc=pass (p=reject dis=none) header.from=example.com;
	// 	arc=none smtp.remote-ip=192.0.2.7
}

func ExampleForged() {
	h := []mailmsg.Field{
		{Name: "Authentication-Results", Value: " MX.example.org; dkim=pass header.d=bank.example"},
		{Name: "Authentication-Results", Value: " other.example; spf=pass"},
	}
	fmt.Println(authres.Forged(h, "mx.example.org"))
	// Output: [0]
}
