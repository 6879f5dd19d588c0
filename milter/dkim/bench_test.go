package dkim

import (
	"context"
	"crypto"
	"path/filepath"
	"testing"

	"github.com/gomilter/gomilter/internal/mailmsg"
)

// benchSetup signs a 5.2 KB corpus message (the size of the OpenDKIM
// reference figure) with RSA-2048 or Ed25519, relaxed/relaxed.
func benchSetup(b *testing.B, typ string) (*Signer, *mailmsg.Message, *Verifier, *mailmsg.Message) {
	path := filepath.Join(suiteDir(b, "corpus"), "train", "easy-ham-1", "00001.7c53336b37003a9286aba55d2945844c.eml")
	m := parseMessage(b, corpusMessage(b, path))
	key, err := GenerateKey(typ, 2048)
	if err != nil {
		b.Fatal(err)
	}
	pemData, _ := MarshalPrivateKey(key)
	opts := DefaultOptions()
	opts.KeyTable = []KeySpec{{Name: "k", Domain: "example.com", Selector: "s", Data: string(pemData)}}
	opts.SigningTable = &SigningTable{Wildcard: true, Rules: []SigningRule{{Pattern: "*", KeyName: "k"}}}
	opts.HeaderCanon, opts.BodyCanon = Relaxed, Relaxed
	opts.OversignHeaders = []string{"From"}
	opts.KeyCheck = KeyCheckOff
	s, err := NewSigner(opts)
	if err != nil {
		b.Fatal(err)
	}
	fields, err := s.Sign(context.Background(), m, s.ShouldSign(localEnv, m))
	if err != nil {
		b.Fatal(err)
	}
	rec, _ := KeyRecordText(key.Public())
	v := NewVerifier(StaticResolver{"s._domainkey.example.com": {rec}}, VerifyOptions{})
	return s, m, v, prepend(m, fields...)
}

func benchSign(b *testing.B, typ string) {
	s, m, _, _ := benchSetup(b, typ)
	ctx := context.Background()
	b.ReportAllocs()
	b.SetBytes(int64(len(render(m))))
	for b.Loop() {
		if _, err := s.Sign(ctx, m, s.ShouldSign(localEnv, m)); err != nil {
			b.Fatal(err)
		}
	}
}

func benchVerify(b *testing.B, typ string) {
	_, _, v, signed := benchSetup(b, typ)
	ctx := context.Background()
	b.ReportAllocs()
	b.SetBytes(int64(len(render(signed))))
	for b.Loop() {
		if r := v.Verify(ctx, signed); r[0].Status != StatusPass {
			b.Fatal(r[0])
		}
	}
}

func BenchmarkSignRSA2048(b *testing.B)   { benchSign(b, "rsa") }
func BenchmarkSignEd25519(b *testing.B)   { benchSign(b, "ed25519") }
func BenchmarkVerifyRSA2048(b *testing.B) { benchVerify(b, "rsa") }
func BenchmarkVerifyEd25519(b *testing.B) { benchVerify(b, "ed25519") }

func BenchmarkBodyHashRelaxed(b *testing.B) {
	_, m, _, _ := benchSetup(b, "ed25519")
	b.SetBytes(int64(len(m.Body)))
	b.ReportAllocs()
	for b.Loop() {
		BodyHash(m.Body, Relaxed, crypto.SHA256, -1)
	}
}
