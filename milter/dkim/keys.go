package dkim

import (
	"crypto"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
)

// maxKeyFile bounds a private key file (a 4096-bit PEM is ~3.3 KiB).
const maxKeyFile = 64 << 10

// ParsePrivateKey reads a DKIM private key: PEM "RSA PRIVATE KEY"
// (PKCS#1, what opendkim-genkey writes) or "PRIVATE KEY" (PKCS#8, RSA or
// Ed25519), base64 DER of either (inline KeyTable data), or a base64
// 32-byte Ed25519 seed (dkimpy and RFC 8463 examples).
func ParsePrivateKey(data []byte) (crypto.Signer, error) {
	if block, _ := pem.Decode(data); block != nil {
		return parseDER(block.Bytes)
	}
	raw, err := base64.StdEncoding.DecodeString(stripFWS(string(data)))
	if err != nil {
		return nil, errors.New("private key is neither PEM nor base64")
	}
	if len(raw) == ed25519.SeedSize {
		return ed25519.NewKeyFromSeed(raw), nil
	}
	return parseDER(raw)
}

func parseDER(der []byte) (crypto.Signer, error) {
	if k, err := x509.ParsePKCS1PrivateKey(der); err == nil {
		return k, nil
	}
	k, err := x509.ParsePKCS8PrivateKey(der)
	if err != nil {
		return nil, errors.New("private key is not PKCS#1 or PKCS#8 DER")
	}
	switch k := k.(type) {
	case *rsa.PrivateKey:
		return k, nil
	case ed25519.PrivateKey:
		return k, nil
	}
	return nil, fmt.Errorf("unsupported private key type %T", k)
}

// loadKeySpec loads the private key a KeySpec names. Inline data is tried
// first; a KeyTable value that is not key data is read as a file name.
func loadKeySpec(ks KeySpec) (crypto.Signer, error) {
	if ks.Data != "" {
		if k, err := ParsePrivateKey([]byte(ks.Data)); err == nil {
			return k, nil
		} else if ks.Path == "" {
			return nil, err
		}
	}
	if ks.Path == "" {
		return nil, errors.New("no key file or key data")
	}
	f, err := os.Open(ks.Path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, maxKeyFile+1))
	if err != nil {
		return nil, err
	}
	if len(data) > maxKeyFile {
		return nil, fmt.Errorf("%s: larger than %d bytes", ks.Path, maxKeyFile)
	}
	k, err := ParsePrivateKey(data)
	if err != nil {
		return nil, fmt.Errorf("%s: %v", ks.Path, err)
	}
	return k, nil
}

// keyAlgorithm returns the a= value and the public key size for a key.
func keyAlgorithm(k crypto.Signer) (algo string, bits int, err error) {
	switch pub := k.Public().(type) {
	case *rsa.PublicKey:
		return "rsa-sha256", pub.N.BitLen(), nil
	case ed25519.PublicKey:
		return "ed25519-sha256", 256, nil
	}
	return "", 0, fmt.Errorf("unsupported key type %T", k.Public())
}

// PublicKeyData returns the p= value for a key: base64 SubjectPublicKeyInfo
// for RSA (as opendkim-genkey publishes), the raw 32 bytes for Ed25519
// (RFC 8463 section 4.2).
func PublicKeyData(pub crypto.PublicKey) (string, error) {
	switch pub := pub.(type) {
	case *rsa.PublicKey:
		der, err := x509.MarshalPKIXPublicKey(pub)
		if err != nil {
			return "", err
		}
		return base64.StdEncoding.EncodeToString(der), nil
	case ed25519.PublicKey:
		return base64.StdEncoding.EncodeToString(pub), nil
	}
	return "", fmt.Errorf("unsupported public key type %T", pub)
}

// KeyRecordText returns the TXT record content for a key:
// "v=DKIM1; h=sha256; k=rsa; p=..." (ed25519: "v=DKIM1; k=ed25519; p=...").
func KeyRecordText(pub crypto.PublicKey) (string, error) {
	p, err := PublicKeyData(pub)
	if err != nil {
		return "", err
	}
	if _, ok := pub.(ed25519.PublicKey); ok {
		return "v=DKIM1; k=ed25519; p=" + p, nil
	}
	return "v=DKIM1; h=sha256; k=rsa; p=" + p, nil
}

// ZoneRecord formats the record as opendkim-genkey's <selector>.txt:
// `sel._domainkey	IN	TXT	( "v=DKIM1; h=sha256; k=rsa; " "p=..." )  ; ----- DKIM key sel for example.org`,
// with p= split into 250-byte strings (a TXT string holds at most 255).
func ZoneRecord(selector, domain string, pub crypto.PublicKey) (string, error) {
	txt, err := KeyRecordText(pub)
	if err != nil {
		return "", err
	}
	head, p, _ := strings.Cut(txt, "p=")
	var b strings.Builder
	fmt.Fprintf(&b, "%s._domainkey\tIN\tTXT\t( %q\n", selector, head)
	p = "p=" + p
	for len(p) > 0 {
		n := min(len(p), 250)
		fmt.Fprintf(&b, "\t  %q", p[:n])
		p = p[n:]
		if len(p) > 0 {
			b.WriteString("\n")
		}
	}
	fmt.Fprintf(&b, " )  ; ----- DKIM key %s for %s\n", selector, domain)
	return b.String(), nil
}

// GenerateKey makes a new key: "rsa" with bits (1024..4096) or "ed25519".
func GenerateKey(keyType string, bits int) (crypto.Signer, error) {
	switch keyType {
	case "rsa", "":
		if bits < 1024 || bits > 4096 {
			return nil, fmt.Errorf("RSA key size %d outside 1024..4096", bits)
		}
		return rsa.GenerateKey(rand.Reader, bits)
	case "ed25519":
		_, k, err := ed25519.GenerateKey(rand.Reader)
		return k, err
	}
	return nil, fmt.Errorf("unknown key type %q (rsa or ed25519)", keyType)
}

// MarshalPrivateKey returns the PEM form: PKCS#1 "RSA PRIVATE KEY" for RSA
// (as opendkim-genkey writes), PKCS#8 "PRIVATE KEY" for Ed25519 (what
// OpenSSL, and so OpenDKIM, reads).
func MarshalPrivateKey(k crypto.Signer) ([]byte, error) {
	switch k := k.(type) {
	case *rsa.PrivateKey:
		return pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(k)}), nil
	case ed25519.PrivateKey:
		der, err := x509.MarshalPKCS8PrivateKey(k)
		if err != nil {
			return nil, err
		}
		return pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}), nil
	}
	return nil, fmt.Errorf("unsupported key type %T", k)
}

// WriteKeyFiles writes <dir>/<selector>.private (mode 0600) and
// <dir>/<selector>.txt like opendkim-genkey, and returns the zone text.
func WriteKeyFiles(dir, selector, domain string, k crypto.Signer) (string, error) {
	pemData, err := MarshalPrivateKey(k)
	if err != nil {
		return "", err
	}
	zone, err := ZoneRecord(selector, domain, k.Public())
	if err != nil {
		return "", err
	}
	priv := filepath.Join(dir, selector+".private")
	f, err := os.OpenFile(priv, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return "", err
	}
	if _, err := f.Write(pemData); err != nil {
		f.Close()
		return "", err
	}
	if err := f.Close(); err != nil {
		return "", err
	}
	if err := os.WriteFile(filepath.Join(dir, selector+".txt"), []byte(zone), 0o644); err != nil {
		return "", err
	}
	return zone, nil
}
