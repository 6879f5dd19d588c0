package passwd

import (
	"strings"
	"testing"
)

// FuzzParse feeds stored-password strings (seeded with doveadm output) to
// the scheme parser and the cheap verifiers. Expensive KDF schemes are only
// parsed, since their cost is taken from the (trusted) stored value.
func FuzzParse(f *testing.F) {
	for _, fx := range loadFixtures(&testing.T{}) {
		f.Add(fx.stored, "hunter2")
	}
	f.Add("$1$abc$def", "x")
	f.Add("{CRYPT}$6$rounds=1000$salt$abc", "x")
	f.Fuzz(func(t *testing.T, stored, password string) {
		h, err := Parse(stored, "")
		if err != nil {
			return
		}
		if !Known(h.Scheme) {
			t.Fatalf("Parse returned unknown scheme %q", h.Scheme)
		}
		switch h.Scheme {
		case "ARGON2I", "ARGON2ID", "BLF-CRYPT", "CRYPT", "PBKDF2", "SCRAM-SHA-1", "SCRAM-SHA-256",
			"SHA256-CRYPT", "SHA512-CRYPT":
			if strings.Contains(h.Data, "rounds=") || len(h.Data) > 200 {
				return
			}
			if h.Scheme != "SHA256-CRYPT" && h.Scheme != "SHA512-CRYPT" {
				return
			}
		}
		_, _ = h.Verify(password, "u@d")
		_, _ = h.CRAMMD5Secret()
	})
}

func BenchmarkSHA512Crypt(b *testing.B) {
	stored, _ := Generate("SHA512-CRYPT", "benchmark", "", GenOptions{})
	h, _ := Parse(stored, "")
	for b.Loop() {
		if ok, _ := h.Verify("benchmark", ""); !ok {
			b.Fatal("mismatch")
		}
	}
}

func BenchmarkBlfCrypt5(b *testing.B) {
	stored, _ := Generate("BLF-CRYPT", "benchmark", "", GenOptions{})
	h, _ := Parse(stored, "")
	for b.Loop() {
		if ok, _ := h.Verify("benchmark", ""); !ok {
			b.Fatal("mismatch")
		}
	}
}

func BenchmarkMD5Crypt(b *testing.B) {
	stored, _ := Generate("MD5-CRYPT", "benchmark", "", GenOptions{})
	h, _ := Parse(stored, "")
	for b.Loop() {
		h.Verify("benchmark", "")
	}
}
