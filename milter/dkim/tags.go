package dkim

import (
	"crypto"
	"crypto/ed25519"
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// maxTagList bounds the tag lists we parse (signature fields, key records);
// real ones are a few hundred bytes, 4096-bit keys under 1 KiB.
const maxTagList = 16 << 10

// parseTagList parses an RFC 6376 section 3.2 tag-list into tag -> value,
// with FWS around tags and values removed. Duplicate tags are an error.
func parseTagList(s string) (map[string]string, error) {
	if len(s) > maxTagList {
		return nil, errors.New("tag list too long")
	}
	tags := make(map[string]string, 12)
	for part := range strings.SplitSeq(s, ";") {
		if strings.TrimSpace(part) == "" {
			continue // empty tag-spec, e.g. after a trailing ';'
		}
		name, value, ok := strings.Cut(part, "=")
		if !ok {
			return nil, fmt.Errorf("tag without '=': %q", trimQ(part))
		}
		name = strings.Trim(name, " \t\r\n")
		if !validTagName(name) {
			return nil, fmt.Errorf("bad tag name %q", trimQ(name))
		}
		if _, dup := tags[name]; dup {
			return nil, fmt.Errorf("duplicate tag %q", name)
		}
		tags[name] = strings.Trim(value, " \t\r\n")
	}
	return tags, nil
}

func validTagName(n string) bool {
	if n == "" || !isAlpha(n[0]) {
		return false
	}
	for i := 1; i < len(n); i++ {
		c := n[i]
		if !isAlpha(c) && !('0' <= c && c <= '9') && c != '_' {
			return false
		}
	}
	return true
}

func isAlpha(c byte) bool { u := c &^ 0x20; return 'A' <= u && u <= 'Z' }

func trimQ(s string) string {
	if len(s) > 40 {
		return s[:40] + "..."
	}
	return s
}

// stripFWS removes all whitespace (base64 values may be folded).
func stripFWS(s string) string {
	if !strings.ContainsAny(s, " \t\r\n") {
		return s
	}
	var b strings.Builder
	b.Grow(len(s))
	for i := 0; i < len(s); i++ {
		if c := s[i]; c != ' ' && c != '\t' && c != '\r' && c != '\n' {
			b.WriteByte(c)
		}
	}
	return b.String()
}

// Signature is a parsed DKIM-Signature field (RFC 6376 section 3.5).
type Signature struct {
	Algorithm   string // a=, e.g. "rsa-sha256"
	KeyType     string // "rsa" or "ed25519"
	Hash        crypto.Hash
	B           []byte // b= decoded
	BRaw        string // b= with whitespace removed (for header.b)
	BodyHash    []byte // bh= decoded
	HeaderCanon Canon
	BodyCanon   Canon
	Domain      string   // d=
	Selector    string   // s=
	Identity    string   // i= (default "@"+d)
	Headers     []string // h=, as written
	Length      int64    // l=, -1 when absent
	Timestamp   time.Time
	Expiration  time.Time
}

// sigError marks a signature that cannot be processed (RFC 8601 neutral).
type sigError struct{ msg string }

func (e *sigError) Error() string { return e.msg }

func badSig(format string, a ...any) error { return &sigError{fmt.Sprintf(format, a...)} }

// ParseSignature parses the value of a DKIM-Signature field.
func ParseSignature(value string) (*Signature, error) {
	t, err := parseTagList(value)
	if err != nil {
		return nil, badSig("signature syntax: %v", err)
	}
	for _, req := range []string{"v", "a", "b", "bh", "d", "h", "s"} {
		if _, ok := t[req]; !ok {
			return nil, badSig("signature lacks %s=", req)
		}
	}
	if t["v"] != "1" {
		return nil, badSig("unsupported signature version %q", trimQ(t["v"]))
	}
	sig := &Signature{Algorithm: strings.ToLower(t["a"]), Length: -1,
		Domain: strings.ToLower(strings.TrimSuffix(t["d"], ".")), Selector: t["s"]}
	if err := sig.parseAlgorithm(); err != nil {
		return nil, err
	}
	if err := sig.parseHashes(t["b"], t["bh"]); err != nil {
		return nil, err
	}
	if err := sig.parseRest(t); err != nil {
		return nil, err
	}
	return sig, nil
}

func (s *Signature) parseAlgorithm() error {
	switch s.Algorithm {
	case "rsa-sha256":
		s.KeyType, s.Hash = "rsa", crypto.SHA256
	case "rsa-sha1":
		s.KeyType, s.Hash = "rsa", crypto.SHA1
	case "ed25519-sha256":
		s.KeyType, s.Hash = "ed25519", crypto.SHA256
	default:
		return &keyError{fmt.Sprintf("unsupported algorithm %q", trimQ(s.Algorithm))}
	}
	return nil
}

func (s *Signature) parseHashes(b, bh string) error {
	var err error
	s.BRaw = stripFWS(b)
	if s.B, err = base64.StdEncoding.DecodeString(s.BRaw); err != nil || len(s.B) == 0 {
		return badSig("signature b= is not base64")
	}
	if s.BodyHash, err = base64.StdEncoding.DecodeString(stripFWS(bh)); err != nil {
		return badSig("signature bh= is not base64")
	}
	if len(s.BodyHash) != s.Hash.Size() {
		return badSig("signature bh= has the wrong length")
	}
	return nil
}

func (s *Signature) parseRest(t map[string]string) error {
	if s.Domain == "" || s.Selector == "" {
		return badSig("empty d= or s=")
	}
	s.HeaderCanon, s.BodyCanon = Simple, Simple
	if c, ok := t["c"]; ok {
		h, b, ok := parseCanon(c)
		if !ok {
			return badSig("unknown canonicalization %q", trimQ(c))
		}
		s.HeaderCanon, s.BodyCanon = h, b
	}
	for h := range strings.SplitSeq(t["h"], ":") {
		if h = strings.Trim(h, " \t\r\n"); h != "" {
			s.Headers = append(s.Headers, h)
		}
	}
	if !s.signsFrom() {
		return badSig("h= does not include From")
	}
	if err := s.parseIdentity(t["i"]); err != nil {
		return err
	}
	if q, ok := t["q"]; ok && !strings.Contains(strings.ToLower(q), "dns/txt") {
		return badSig("unsupported query method %q", trimQ(q))
	}
	return s.parseNumbers(t)
}

func (s *Signature) signsFrom() bool {
	for _, h := range s.Headers {
		if strings.EqualFold(h, "from") {
			return true
		}
	}
	return false
}

func (s *Signature) parseIdentity(i string) error {
	if i == "" {
		s.Identity = "@" + s.Domain
		return nil
	}
	s.Identity = i
	at := strings.LastIndexByte(i, '@')
	if at < 0 {
		return badSig("i= has no @")
	}
	dom := strings.ToLower(strings.TrimSuffix(i[at+1:], "."))
	if dom != s.Domain && !strings.HasSuffix(dom, "."+s.Domain) {
		return badSig("i= domain is not d= or a subdomain of it")
	}
	return nil
}

func (s *Signature) parseNumbers(t map[string]string) error {
	if l, ok := t["l"]; ok {
		n, err := strconv.ParseInt(l, 10, 64)
		if err != nil || n < 0 {
			return badSig("bad l=")
		}
		s.Length = n
	}
	for _, k := range []string{"t", "x"} {
		v, ok := t[k]
		if !ok {
			continue
		}
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil || n < 0 {
			return badSig("bad %s=", k)
		}
		if k == "t" {
			s.Timestamp = time.Unix(n, 0)
		} else {
			s.Expiration = time.Unix(n, 0)
		}
	}
	if !s.Timestamp.IsZero() && !s.Expiration.IsZero() && s.Expiration.Before(s.Timestamp) {
		return badSig("x= is before t=")
	}
	return nil
}

// keyError marks a problem with the key record or algorithm
// (RFC 8601 permerror).
type keyError struct{ msg string }

func (e *keyError) Error() string { return e.msg }

// KeyRecord is a parsed DKIM public key record (RFC 6376 section 3.6.1,
// RFC 8463 for k=ed25519).
type KeyRecord struct {
	KeyType  string   // "rsa" or "ed25519"
	Hashes   []string // h=, empty means any
	Services []string // s=, empty means "*"
	Flags    []string // t=, e.g. "y" (testing), "s" (strict i=)
	Public   crypto.PublicKey
	Bits     int // RSA modulus size; 256 for Ed25519
}

// Testing reports t=y.
func (k *KeyRecord) Testing() bool { return k.hasFlag("y") }

func (k *KeyRecord) hasFlag(f string) bool {
	for _, x := range k.Flags {
		if strings.EqualFold(x, f) {
			return true
		}
	}
	return false
}

// ErrKeyRevoked is returned by ParseKeyRecord for an empty p=.
var ErrKeyRevoked = &keyError{"key revoked (empty p=)"}

// ParseKeyRecord parses the TXT record found at <s>._domainkey.<d>.
func ParseKeyRecord(txt string) (*KeyRecord, error) {
	t, err := parseTagList(txt)
	if err != nil {
		return nil, &keyError{"key record syntax: " + err.Error()}
	}
	if v, ok := t["v"]; ok && v != "DKIM1" {
		return nil, &keyError{fmt.Sprintf("key record version %q", trimQ(v))}
	}
	if v, ok := t["v"]; ok && v == "DKIM1" && !strings.HasPrefix(strings.TrimLeft(txt, " \t"), "v") {
		return nil, &keyError{"key record v= is not the first tag"}
	}
	k := &KeyRecord{KeyType: "rsa"}
	if kt, ok := t["k"]; ok {
		k.KeyType = strings.ToLower(kt)
	}
	k.Hashes = splitColon(t["h"])
	k.Services = splitColon(t["s"])
	k.Flags = splitColon(t["t"])
	p, ok := t["p"]
	if !ok {
		return nil, &keyError{"key record lacks p="}
	}
	if p = stripFWS(p); p == "" {
		return nil, ErrKeyRevoked
	}
	der, err := base64.StdEncoding.DecodeString(p)
	if err != nil {
		return nil, &keyError{"key record p= is not base64"}
	}
	if err := k.parsePublic(der); err != nil {
		return nil, err
	}
	return k, nil
}

func splitColon(s string) []string {
	var out []string
	for v := range strings.SplitSeq(s, ":") {
		if v = strings.Trim(v, " \t\r\n"); v != "" {
			out = append(out, v)
		}
	}
	return out
}

func (k *KeyRecord) parsePublic(der []byte) error {
	switch k.KeyType {
	case "rsa":
		pub, err := x509.ParsePKIXPublicKey(der)
		if err != nil {
			// RFC 6376 errata 3017: some publish a bare RSAPublicKey.
			if pub, err = x509.ParsePKCS1PublicKey(der); err != nil {
				return &keyError{"key record p= is not an RSA public key"}
			}
		}
		rp, ok := pub.(*rsa.PublicKey)
		if !ok {
			return &keyError{"key record k=rsa holds a non-RSA key"}
		}
		k.Public, k.Bits = rp, rp.N.BitLen()
	case "ed25519":
		if len(der) != ed25519.PublicKeySize {
			return &keyError{"key record ed25519 p= is not 32 bytes"}
		}
		k.Public, k.Bits = ed25519.PublicKey(der), 256
	default:
		return &keyError{fmt.Sprintf("unsupported key type k=%s", trimQ(k.KeyType))}
	}
	return nil
}

// usableFor checks the record against a signature (RFC 6376 3.6.1, 6.1.2).
func (k *KeyRecord) usableFor(sig *Signature) error {
	if k.KeyType != sig.KeyType {
		return &keyError{"key type does not match a="}
	}
	if len(k.Hashes) > 0 {
		want := "sha256"
		if sig.Hash == crypto.SHA1 {
			want = "sha1"
		}
		if !containsFold(k.Hashes, want) {
			return &keyError{"key record h= excludes " + want}
		}
	}
	if len(k.Services) > 0 && !containsFold(k.Services, "*") && !containsFold(k.Services, "email") {
		return &keyError{"key record s= excludes email"}
	}
	if k.hasFlag("s") {
		at := strings.LastIndexByte(sig.Identity, '@')
		if !strings.EqualFold(sig.Identity[at+1:], sig.Domain) {
			return &keyError{"key record t=s requires i= domain == d="}
		}
	}
	return nil
}

func containsFold(list []string, s string) bool {
	for _, v := range list {
		if strings.EqualFold(v, s) {
			return true
		}
	}
	return false
}
