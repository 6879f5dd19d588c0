package dmarc

import (
	"context"
	"fmt"
)

func ExampleEvaluate() {
	// A resolver with one record; production passes *dns.Resolver.
	r := newFake().add("_dmarc.example.com", "v=DMARC1; p=reject; rua=mailto:agg@example.com")
	res := Evaluate(context.Background(), r, In{
		FromDomain: "news.example.com",
		SPF:        AuthResult{Domain: "bounces.esp.example", Result: "pass"}, // not aligned
		DKIM:       []AuthResult{{Domain: "esp.example", Result: "pass"}},     // not aligned
	})
	d := Decide(res, Context{}, Options{})
	fmt.Println(res.Result, res.PolicyDomain, res.Policy, d.Action, d.Reply)
	// Output: fail example.com reject reject 550 5.7.1 DMARC policy of example.com rejects this message
}
