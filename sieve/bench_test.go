package sieve

import (
	"context"
	"fmt"
	"os"
	"strings"
	"testing"
)

// filingScript builds a typical 30-rule filing script, the kind Roundcube
// managesieve writes.
func filingScript() string {
	var b strings.Builder
	b.WriteString(`require ["fileinto", "imap4flags", "envelope", "regex", "relational", "comparator-i;ascii-numeric", "body", "variables", "mailbox"];` + "\n")
	b.WriteString(`if header :contains "X-Spam-Flag" "YES" { fileinto "Junk"; stop; }` + "\n")
	for i := 0; i < 10; i++ {
		fmt.Fprintf(&b, "if address :domain :is \"from\" \"list%d.example.org\" { fileinto :create \"Lists.%d\"; stop; }\n", i, i)
		fmt.Fprintf(&b, "if header :contains [\"Subject\", \"List-Id\"] [\"project-%d\", \"team%d\"] { addflag \"$Label%d\"; fileinto \"Projects.%d\"; }\n", i, i, i, i)
		fmt.Fprintf(&b, "if header :matches \"Subject\" \"*[ticket #%d*]*\" { set \"t\" \"${2}\"; fileinto \"Tickets.${t}\"; }\n", i)
	}
	b.WriteString(`if header :value "ge" :comparator "i;ascii-numeric" "X-Spam-Level" "5" { fileinto "Spammy"; }` + "\n")
	b.WriteString(`if body :text :contains "unsubscribe" { fileinto "Bulk"; }` + "\n")
	return b.String()
}

func benchMessages(b *testing.B) [][]byte {
	var out [][]byte
	for _, p := range corpusSample(b, 20) {
		raw, err := os.ReadFile(p)
		if err != nil {
			b.Fatal(err)
		}
		out = append(out, raw)
	}
	return out
}

func BenchmarkCompileFilingScript(b *testing.B) {
	src := []byte(filingScript())
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		if _, err := Compile(src, Options{}); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkRunFilingScript(b *testing.B) {
	s, err := Compile([]byte(filingScript()), Options{})
	if err != nil {
		b.Fatal(err)
	}
	var msgs []*Input
	for _, raw := range benchMessages(b) {
		msgs = append(msgs, &Input{Message: ParseMessage(raw),
			Envelope: Envelope{From: "a@example.org", To: "me@example.com"}})
	}
	ctx := context.Background()
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, err := s.Run(ctx, msgs[i%len(msgs)]); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "runs/s")
}
