package dkim_test

import (
	"context"
	"fmt"
	"net/netip"

	"github.com/gomilter/gomilter/internal/mailmsg"
	"github.com/gomilter/gomilter/milter/dkim"
)

// Example signs a message from an internal host with a KeyTable key and
// verifies the result, as the milter pipeline does at end of message.
func Example() {
	key, _ := dkim.GenerateKey("ed25519", 0)
	pemKey, _ := dkim.MarshalPrivateKey(key)
	record, _ := dkim.KeyRecordText(key.Public())
	dns := dkim.StaticResolver{"sel._domainkey.example.com": {record}}

	opts, _, err := dkim.ParseOpenDKIMConf([]byte("Canonicalization relaxed/simple\nOversignHeaders From\n"), "opendkim.conf")
	if err != nil {
		panic(err)
	}
	opts.KeyTable = []dkim.KeySpec{{Name: "k", Domain: "example.com", Selector: "sel", Data: string(pemKey)}}
	opts.SigningTable = &dkim.SigningTable{Wildcard: true, Rules: []dkim.SigningRule{{Pattern: "*@example.com", KeyName: "k"}}}
	opts.Resolver = dns
	signer, err := dkim.NewSigner(opts)
	if err != nil {
		panic(err)
	}

	msg := &mailmsg.Message{Header: []mailmsg.Field{
		{Name: "From", Value: " Alice <alice@example.com>"},
		{Name: "Subject", Value: " hello"},
	}, Body: []byte("Hi.\r\n")}
	env := &mailmsg.Envelope{ClientAddr: netip.MustParseAddr("127.0.0.1")}

	reqs := signer.ShouldSign(env, msg)
	fields, err := signer.Sign(context.Background(), msg, reqs)
	if err != nil {
		panic(err)
	}
	msg.Header = append(fields, msg.Header...)

	for _, r := range dkim.NewVerifier(dns, opts.VerifyOptions(nil)).Verify(context.Background(), msg) {
		fmt.Printf("dkim=%s header.d=%s header.s=%s header.a=%s\n", r.Status, r.Domain, r.Selector, r.Algorithm)
	}
	// Output: dkim=pass header.d=example.com header.s=sel header.a=ed25519-sha256
}
