package arc

import (
	"context"
	"testing"
)

func BenchmarkVerifyChain3(b *testing.B) {
	sc := readScenarios[validationScenario](b, "arc-draft-validation-tests.yml")[0]
	m := parseMessage(sc.Tests["cv_pass_i3_1"].Message)
	r := mapDNS(sc.TXT)
	b.ReportAllocs()
	for b.Loop() {
		if Verify(context.Background(), r, m).Status != StatusPass {
			b.Fatal("not pass")
		}
	}
}
