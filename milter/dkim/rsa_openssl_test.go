//go:build openssl && cgo

package dkim

import (
	"crypto"
	"crypto/rsa"
	"crypto/sha256"
	"testing"
)

// TestOpenSSLSignerMatchesGo: PKCS#1 v1.5 is deterministic, so OpenSSL's
// signature must equal Go's byte for byte and verify with Go.
func TestOpenSSLSignerMatchesGo(t *testing.T) {
	for _, bits := range []int{1024, 2048, 4096} {
		k, err := GenerateKey("rsa", bits)
		if err != nil {
			t.Fatal(err)
		}
		fast := fastSigner(k)
		if _, ok := fast.(*opensslRSA); !ok {
			t.Fatalf("%d bits: OpenSSL did not load the key", bits)
		}
		digest := sha256.Sum256([]byte("This is a test!\r\n"))
		want, _ := k.Sign(nil, digest[:], crypto.SHA256)
		got, err := fast.Sign(nil, digest[:], crypto.SHA256)
		if err != nil {
			t.Fatal(err)
		}
		if string(got) != string(want) {
			t.Errorf("%d bits: OpenSSL signature differs from Go's", bits)
		}
		if err := rsa.VerifyPKCS1v15(&k.(*rsa.PrivateKey).PublicKey, crypto.SHA256, digest[:], got); err != nil {
			t.Errorf("%d bits: %v", bits, err)
		}
	}
}

func BenchmarkOpenSSLSign2048(b *testing.B) {
	k, _ := GenerateKey("rsa", 2048)
	fast := fastSigner(k)
	digest := sha256.Sum256([]byte("x"))
	for b.Loop() {
		fast.Sign(nil, digest[:], crypto.SHA256)
	}
}
