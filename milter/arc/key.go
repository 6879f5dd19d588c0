package arc

import (
	"context"
	"crypto"
	"crypto/ed25519"
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"errors"
	"fmt"
	"strings"

	"github.com/gomilter/gomilter/internal/dns"
)

// Resolver looks up TXT records; *dns.Resolver implements it. Errors
// wrap the internal/dns classes.
type Resolver interface {
	LookupTXT(ctx context.Context, name string) ([]string, error)
}

// MinRSABits is the smallest RSA key accepted (RFC 8301 section 3.2).
const MinRSABits = 1024

// errTemp marks a DNS failure that may go away (the result is still
// fail, RFC 8617 section 5.2, but Result.Temporary is set).
var errTemp = errors.New("arc: temporary key lookup failure")

// publicKey is a usable verification key.
type publicKey struct {
	rsa     *rsa.PublicKey
	ed25519 ed25519.PublicKey
}

// lookupKey fetches and parses <s>._domainkey.<d> (RFC 6376 section 3.6.2).
func lookupKey(ctx context.Context, r Resolver, selector, domain string) (*publicKey, error) {
	txts, err := r.LookupTXT(ctx, selector+"._domainkey."+domain)
	if err != nil {
		if dns.IsTemporary(err) {
			return nil, fmt.Errorf("%w: %v", errTemp, err)
		}
		return nil, fmt.Errorf("arc: no key for %s._domainkey.%s: %v", selector, domain, err)
	}
	if len(txts) != 1 {
		return nil, fmt.Errorf("arc: %d key records for %s._domainkey.%s", len(txts), selector, domain)
	}
	return parseKey(txts[0])
}

// parseKey reads a DKIM key record leniently (whitespace in p= is
// common) but refuses a wrong v=, unknown k=, revoked keys, service
// types without email, and RSA keys under MinRSABits.
func parseKey(txt string) (*publicKey, error) {
	tags := map[string]string{}
	for i, p := range strings.Split(txt, ";") {
		k, v, ok := strings.Cut(p, "=")
		k = strings.TrimSpace(k)
		if !ok {
			continue
		}
		if i > 0 && k == "v" {
			return nil, errors.New("arc: key record v= not first")
		}
		tags[k] = strings.TrimSpace(v)
	}
	if v, ok := tags["v"]; ok && v != "DKIM1" {
		return nil, errors.New("arc: key record v= is not DKIM1")
	}
	if s, ok := tags["s"]; ok && !serviceEmail(s) {
		return nil, errors.New("arc: key not for email")
	}
	p, ok := tags["p"]
	if !ok {
		return nil, errors.New("arc: key record without p=")
	}
	raw, err := base64.StdEncoding.DecodeString(stripFWS(p))
	if err != nil || len(raw) == 0 {
		return nil, errors.New("arc: key revoked or not base64")
	}
	switch k := tags["k"]; k {
	case "", "rsa":
		return rsaKey(raw)
	case "ed25519":
		if len(raw) != ed25519.PublicKeySize {
			return nil, errors.New("arc: bad ed25519 key size")
		}
		return &publicKey{ed25519: ed25519.PublicKey(raw)}, nil
	default:
		return nil, fmt.Errorf("arc: unknown key type %q", k)
	}
}

func serviceEmail(s string) bool {
	for _, t := range strings.Split(s, ":") {
		if t = strings.TrimSpace(t); t == "*" || t == "email" {
			return true
		}
	}
	return false
}

func rsaKey(raw []byte) (*publicKey, error) {
	var pub *rsa.PublicKey
	if k, err := x509.ParsePKIXPublicKey(raw); err == nil {
		pub, _ = k.(*rsa.PublicKey)
	} else if k, err := x509.ParsePKCS1PublicKey(raw); err == nil {
		pub = k
	}
	if pub == nil {
		return nil, errors.New("arc: key is not an RSA public key")
	}
	if pub.N.BitLen() < MinRSABits {
		return nil, fmt.Errorf("arc: RSA key of %d bits is too short", pub.N.BitLen())
	}
	return &publicKey{rsa: pub}, nil
}

// verify checks sig over the SHA-256 digest for algorithm alg.
func (k *publicKey) verify(alg string, digest, sig []byte) error {
	switch {
	case alg == "rsa-sha256" && k.rsa != nil:
		return rsa.VerifyPKCS1v15(k.rsa, crypto.SHA256, digest, sig)
	case alg == "ed25519-sha256" && k.ed25519 != nil:
		if ed25519.Verify(k.ed25519, digest, sig) {
			return nil
		}
		return errors.New("arc: ed25519 signature mismatch")
	}
	return fmt.Errorf("arc: algorithm %q does not match the key", alg)
}

// sign makes a signature with an RSA or Ed25519 private key.
func sign(key crypto.Signer, digest []byte) ([]byte, error) {
	switch k := key.(type) {
	case *rsa.PrivateKey:
		return rsa.SignPKCS1v15(nil, k, crypto.SHA256, digest)
	case ed25519.PrivateKey:
		return ed25519.Sign(k, digest), nil
	}
	return nil, errors.New("arc: key must be RSA or Ed25519")
}

// algorithm names the a= value for key.
func algorithm(key crypto.Signer) string {
	if _, ok := key.(ed25519.PrivateKey); ok {
		return "ed25519-sha256"
	}
	return "rsa-sha256"
}
