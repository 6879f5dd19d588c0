package dmarc

import (
	"context"
	"testing"
)

func BenchmarkEvaluateRelaxed(b *testing.B) {
	r := zone()
	in := In{FromDomain: "sub.example.com", SPF: AuthResult{Domain: "bounce.example.com", Result: "pass"},
		DKIM: []AuthResult{{Domain: "other.example", Result: "pass"}, {Domain: "example.com", Result: "pass"}}}
	b.ReportAllocs()
	for b.Loop() {
		if Evaluate(context.Background(), r, in).Result != ResultPass {
			b.Fatal("not pass")
		}
	}
}
