package dovecotauth

import (
	"strconv"
	"testing"
)

// BenchmarkPlainAuth measures one AUTH PLAIN round trip on a persistent
// loopback connection with a {PLAIN} stored password (protocol overhead).
func BenchmarkPlainAuth(b *testing.B) {
	_, addr := startServer(b, newMem(b), Options{})
	tc := dial(b, addr)
	resp := b64("\x00bob@example.org\x00bobpw")
	id := 0
	for b.Loop() {
		id++
		tc.send("AUTH\t" + strconv.Itoa(id) + "\tPLAIN" + authPrefix + "\tresp=" + resp)
		if l := tc.read(); l[:2] != "OK" {
			b.Fatalf("reply %q", l)
		}
	}
}
