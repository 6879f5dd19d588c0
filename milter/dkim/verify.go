package dkim

import (
	"bytes"
	"context"
	"crypto"
	"crypto/ed25519"
	"crypto/rsa"
	"crypto/sha1"
	"crypto/sha256"
	"errors"
	"fmt"
	"hash"
	"net"
	"strings"
	"time"

	msgauthres "github.com/emersion/go-msgauth/authres"

	"github.com/gomilter/gomilter/internal/mailmsg"
)

// TXTResolver is the part of the shared resolver (internal/dns) DKIM needs.
// An error whose chain has a Temporary() or Timeout() method returning true,
// or a context error, is a temporary failure (temperror); any other error is
// a permanent absence of the key (permerror).
type TXTResolver interface {
	LookupTXT(ctx context.Context, name string) ([]string, error)
}

// Status is a DKIM result as named by RFC 8601 section 2.7.1.
type Status string

// The RFC 8601 dkim results.
const (
	StatusNone      Status = "none"
	StatusPass      Status = "pass"
	StatusFail      Status = "fail"
	StatusPolicy    Status = "policy"
	StatusNeutral   Status = "neutral"
	StatusTempError Status = "temperror"
	StatusPermError Status = "permerror"
)

// Result is the outcome for one DKIM-Signature field.
type Result struct {
	Status    Status
	Reason    string // why it did not pass; "" on pass
	Domain    string // d=
	Identity  string // i= (or "@"+d)
	Selector  string // s=
	Algorithm string // a=
	B         string // b= without whitespace (header.b uses the first 8)
	Testing   bool   // key record has t=y
	KeyBits   int
}

// AuthRes converts r to go-msgauth's authres type.
func (r Result) AuthRes() *msgauthres.DKIMResult {
	return &msgauthres.DKIMResult{Value: msgauthres.ResultValue(r.Status),
		Reason: r.Reason, Domain: r.Domain, Identifier: r.Identity}
}

// HeaderB returns the header.b value: the first 8 characters of b=
// (RFC 6008).
func (r Result) HeaderB() string {
	if len(r.B) > 8 {
		return r.B[:8]
	}
	return r.B
}

// VerifyOptions tune a Verifier. Zero values give the defaults.
type VerifyOptions struct {
	// MinimumKeyBits: RSA keys shorter than this give "policy"
	// (OpenDKIM MinimumKeyBits, default 1024; RFC 8301 forbids less).
	MinimumKeyBits int
	// MaxSignatures verified per message (OpenDKIM
	// MaximumSignaturesToVerify, default 3); later ones get "policy".
	MaxSignatures int
	// AllowSHA1 accepts rsa-sha1 signatures (default false: RFC 8301
	// says verifiers MUST NOT consider them valid -> "policy").
	AllowSHA1 bool
	// LookupTimeout bounds each key lookup (default 10 s).
	LookupTimeout time.Duration
	// Now is the clock used for x= (default time.Now).
	Now func() time.Time
	// Metrics, if set, counts results (see NewMetrics).
	Metrics *Metrics
}

// Verifier checks DKIM signatures. It is safe for concurrent use.
type Verifier struct {
	r    TXTResolver
	opts VerifyOptions
}

// NewVerifier returns a Verifier looking keys up through r.
func NewVerifier(r TXTResolver, opts VerifyOptions) *Verifier {
	if opts.MinimumKeyBits == 0 {
		opts.MinimumKeyBits = 1024
	}
	if opts.MaxSignatures <= 0 {
		opts.MaxSignatures = 3
	}
	if opts.LookupTimeout <= 0 {
		opts.LookupTimeout = 10 * time.Second
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	return &Verifier{r: r, opts: opts}
}

// Verify checks every DKIM-Signature field of m, top to bottom, and
// returns one Result per field (nil when there is none: dkim=none).
// Bodies are hashed once per (canonicalization, length, hash) triple.
func (v *Verifier) Verify(ctx context.Context, m *mailmsg.Message) []Result {
	var out []Result
	bodies := map[bodyKey][]byte{}
	froms := len(m.All("From"))
	for i, f := range m.Header {
		if !strings.EqualFold(strings.TrimRight(f.Name, " \t"), "DKIM-Signature") {
			continue
		}
		var r Result
		switch {
		case froms > 1:
			// Several From: fields let a forged author ride on a valid
			// signature; OpenDKIM answers permerror, so do we.
			r = Result{Status: StatusPermError, Reason: "message has several From fields"}
			fillFromRaw(&r, f.Value)
		case len(out) >= v.opts.MaxSignatures:
			r = Result{Status: StatusPolicy, Reason: "too many signatures"}
			fillFromRaw(&r, f.Value)
		default:
			r = v.verifyOne(ctx, m, i, bodies)
		}
		v.opts.Metrics.countVerify(r.Status)
		out = append(out, r)
	}
	return out
}

// fillFromRaw sets d=, s=, b= on a result whose signature was not parsed.
func fillFromRaw(r *Result, value string) {
	t, err := parseTagList(value)
	if err != nil {
		return
	}
	r.Domain, r.Selector, r.B, r.Algorithm = t["d"], t["s"], stripFWS(t["b"]), t["a"]
	if r.Domain != "" {
		r.Identity = t["i"]
		if r.Identity == "" {
			r.Identity = "@" + r.Domain
		}
	}
}

type bodyKey struct {
	c      Canon
	h      crypto.Hash
	length int64
}

func (v *Verifier) verifyOne(ctx context.Context, m *mailmsg.Message, idx int, bodies map[bodyKey][]byte) Result {
	field := m.Header[idx]
	sig, err := ParseSignature(field.Value)
	if err != nil {
		r := Result{Status: classify(err), Reason: err.Error()}
		fillFromRaw(&r, field.Value)
		return r
	}
	r := Result{Domain: sig.Domain, Identity: sig.Identity, Selector: sig.Selector,
		Algorithm: sig.Algorithm, B: sig.BRaw}
	if err := v.check(ctx, m, idx, sig, &r, bodies); err != nil {
		r.Status, r.Reason = classify(err), err.Error()
		return r
	}
	r.Status = StatusPass
	return r
}

// failError: the signature or body hash did not verify (RFC 8601 fail).
type failError struct{ msg string }

func (e *failError) Error() string { return e.msg }

// policyError: locally refused (short key, sha1, too many signatures).
type policyError struct{ msg string }

func (e *policyError) Error() string { return e.msg }

// tempError: the key could not be fetched for now.
type tempError struct{ msg string }

func (e *tempError) Error() string { return e.msg }

func classify(err error) Status {
	var (
		se *sigError
		ke *keyError
		fe *failError
		pe *policyError
		te *tempError
	)
	switch {
	case errors.As(err, &te):
		return StatusTempError
	case errors.As(err, &fe):
		return StatusFail
	case errors.As(err, &pe):
		return StatusPolicy
	case errors.As(err, &ke):
		return StatusPermError
	case errors.As(err, &se):
		return StatusNeutral
	}
	return StatusPermError
}

func (v *Verifier) check(ctx context.Context, m *mailmsg.Message, idx int, sig *Signature, r *Result, bodies map[bodyKey][]byte) error {
	if sig.Hash == crypto.SHA1 && !v.opts.AllowSHA1 {
		return &policyError{"rsa-sha1 is not accepted (RFC 8301)"}
	}
	if !sig.Expiration.IsZero() && v.opts.Now().After(sig.Expiration) {
		return badSig("signature expired")
	}
	key, err := v.lookupKey(ctx, sig)
	if err != nil {
		return err
	}
	r.Testing, r.KeyBits = key.Testing(), key.Bits
	if key.KeyType == "rsa" && key.Bits < v.opts.MinimumKeyBits {
		return &policyError{fmt.Sprintf("key too short (%d bits)", key.Bits)}
	}
	bk := bodyKey{sig.BodyCanon, sig.Hash, sig.Length}
	bh, ok := bodies[bk]
	if !ok {
		bh = BodyHash(m.Body, sig.BodyCanon, sig.Hash, sig.Length)
		bodies[bk] = bh
	}
	if !bytes.Equal(bh, sig.BodyHash) {
		return &failError{"body hash did not verify"}
	}
	digest := headerHashWith(m.Header, m.Header[idx], sig)
	return verifySig(key.Public, sig.Hash, digest, sig.B)
}

func verifySig(pub crypto.PublicKey, h crypto.Hash, digest, b []byte) error {
	switch k := pub.(type) {
	case *rsa.PublicKey:
		if rsa.VerifyPKCS1v15(k, h, digest, b) != nil {
			return &failError{"signature did not verify"}
		}
	case ed25519.PublicKey:
		if !ed25519.Verify(k, digest, b) {
			return &failError{"signature did not verify"}
		}
	default:
		return &keyError{"unsupported key"}
	}
	return nil
}

func (v *Verifier) lookupKey(ctx context.Context, sig *Signature) (*KeyRecord, error) {
	if v.r == nil {
		return nil, &tempError{"no resolver configured"}
	}
	ctx, cancel := context.WithTimeout(ctx, v.opts.LookupTimeout)
	defer cancel()
	name := sig.Selector + "._domainkey." + sig.Domain
	txts, err := v.r.LookupTXT(ctx, name)
	if err != nil {
		if isTemporary(err) {
			return nil, &tempError{"key lookup failed temporarily"}
		}
		return nil, &keyError{"no key for signature"}
	}
	switch len(txts) {
	case 0:
		return nil, &keyError{"no key for signature"}
	case 1:
	default:
		// RFC 6376 3.6.2.2 leaves several records undefined; OpenDKIM
		// takes the first one that parses, so do we.
	}
	var firstErr error
	for _, t := range txts {
		key, err := ParseKeyRecord(t)
		if err == nil {
			if err = key.usableFor(sig); err == nil {
				return key, nil
			}
		}
		if firstErr == nil {
			firstErr = err
		}
	}
	return nil, firstErr
}

func isTemporary(err error) bool {
	if errors.Is(err, context.DeadlineExceeded) || errors.Is(err, context.Canceled) {
		return true
	}
	var t interface{ Temporary() bool }
	if errors.As(err, &t) && t.Temporary() {
		return true
	}
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout()
}

func newHash(h crypto.Hash) hash.Hash {
	if h == crypto.SHA1 {
		return sha1.New()
	}
	return sha256.New()
}

// BodyHash returns the hash of the canonicalized body, limited to length
// bytes when length >= 0 (the l= tag).
func BodyHash(body []byte, c Canon, h crypto.Hash, length int64) []byte {
	hh := newHash(h)
	bc := newBodyCanon(hh, c, length)
	bc.Write(body)
	bc.Close()
	return hh.Sum(nil)
}

// headerHashWith hashes the fields named by sig.Headers, each time taking
// the last not-yet-used instance (RFC 6376 5.4.2), then sigField with its
// b= value removed and no trailing CRLF.
func headerHashWith(hdr []mailmsg.Field, sigField mailmsg.Field, sig *Signature) []byte {
	hh := newHash(sig.Hash)
	buf := make([]byte, 0, 1024)
	var usedSmall [64]bool
	used := usedSmall[:0]
	if len(hdr) <= len(usedSmall) {
		used = usedSmall[:len(hdr)]
	} else {
		used = make([]bool, len(hdr))
	}
	for _, name := range sig.Headers {
		for i := len(hdr) - 1; i >= 0; i-- {
			if used[i] || !strings.EqualFold(strings.TrimRight(hdr[i].Name, " \t"), name) {
				continue
			}
			used[i] = true
			buf = appendHeader(buf[:0], sig.HeaderCanon, hdr[i].Name, hdr[i].Value, false)
			hh.Write(buf)
			break
		}
	}
	buf = appendHeader(buf[:0], sig.HeaderCanon, sigField.Name, removeB(sigField.Value), true)
	hh.Write(buf)
	return hh.Sum(nil)
}

// removeB empties the value of the b= tag, keeping every other byte.
func removeB(v string) string {
	start := 0
	for start <= len(v) {
		end := strings.IndexByte(v[start:], ';')
		if end < 0 {
			end = len(v)
		} else {
			end += start
		}
		spec := v[start:end]
		name, _, ok := strings.Cut(spec, "=")
		if ok && strings.Trim(name, " \t\r\n") == "b" {
			eq := start + strings.IndexByte(spec, '=') + 1
			return v[:eq] + v[end:]
		}
		start = end + 1
	}
	return v
}
