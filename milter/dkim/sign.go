package dkim

import (
	"context"
	"crypto"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gomilter/gomilter/internal/mailmsg"
)

// signingKey is a loaded KeyTable entry.
type signingKey struct {
	spec   KeySpec
	signer crypto.Signer
	algo   string // a=
	bits   int
	pub    string // p= value, for the publication check
	err    error  // why the key is unusable
	prev   *signingKey
}

type keySet map[string]*signingKey

// Signer decides whether a message is signed and makes DKIM-Signature
// fields. It is safe for concurrent use; Reload swaps keys atomically.
type Signer struct {
	opts     *Options
	log      *slog.Logger
	metrics  *Metrics
	internal *HostList
	keys     atomic.Pointer[keySet]
	checker  *keyChecker
	reloadMu sync.Mutex
}

// defaultKeyName names the key of a Domain/Selector/KeyFile setup.
const defaultKeyName = "(KeyFile)"

// NewSigner checks opts and loads the keys. Unusable keys are logged,
// counted and skipped at signing time, so a bad key never stops the
// daemon; only an inconsistent configuration is an error.
func NewSigner(opts *Options) (*Signer, error) {
	if opts == nil {
		opts = DefaultOptions()
	}
	s := &Signer{opts: opts, log: opts.Logger, internal: opts.InternalHosts}
	if s.log == nil {
		s.log = slog.New(slog.DiscardHandler)
	}
	if s.internal == nil {
		s.internal, _ = ParseHostList([]string{"127.0.0.1", "::1"})
	}
	m, err := NewMetrics(opts.Registerer)
	if err != nil {
		return nil, err
	}
	s.metrics = m
	if opts.SigningTable != nil && opts.KeyTable == nil {
		return nil, errors.New("dkim: SigningTable needs a KeyTable")
	}
	s.checker = newKeyChecker(opts, m)
	s.Reload()
	return s, nil
}

// Metrics returns the signer's metrics, for a Verifier to share.
func (s *Signer) Metrics() *Metrics { return s.metrics }

// specs returns the KeyTable, or the single-key setup as one entry.
func (s *Signer) specs() []KeySpec {
	if s.opts.KeyTable != nil {
		return s.opts.KeyTable
	}
	if s.opts.KeyFile == "" {
		return nil
	}
	return []KeySpec{{Name: defaultKeyName, Domain: "%", Selector: s.opts.Selector, Path: s.opts.KeyFile}}
}

// Reload re-reads every key (call it on SIGHUP). Keys that fail to load
// are logged and counted; the error lists them. A key that changed keeps
// the previous one for KeyCheckPrevious.
func (s *Signer) Reload() error {
	s.reloadMu.Lock()
	defer s.reloadMu.Unlock()
	old := s.keys.Load()
	set := keySet{}
	var errs []error
	for _, spec := range s.specs() {
		k := &signingKey{spec: spec}
		k.signer, k.err = loadKeySpec(spec)
		if k.err == nil {
			k.algo, k.bits, k.err = keyAlgorithm(k.signer)
			k.signer = fastSigner(k.signer)
		}
		if k.err == nil {
			k.pub, k.err = PublicKeyData(k.signer.Public())
		}
		if k.err == nil && k.algo == "rsa-sha256" && k.bits < 1024 {
			k.err = fmt.Errorf("RSA key of %d bits is below RFC 8301's 1024", k.bits)
		}
		if k.err != nil {
			s.log.Error("dkim: key unusable", "key", spec.Name, "err", k.err)
			s.metrics.keyError("load")
			errs = append(errs, fmt.Errorf("key %s: %w", spec.Name, k.err))
		}
		if old != nil {
			if p := (*old)[spec.Name]; p != nil && p.err == nil && p.pub != k.pub {
				k.prev = p
			}
		}
		set[spec.Name] = k
	}
	s.keys.Store(&set)
	return errors.Join(errs...)
}

// SignRequest is one signature to make.
type SignRequest struct {
	KeyName  string
	Domain   string // d=
	Selector string // s=
	Identity string // i=, "" to omit
}

// ShouldSign returns the signatures OpenDKIM would make for this message:
// the client must be trusted (authenticated, local submission, an
// InternalHosts address, or an MTA daemon name) and the From: domain must
// be covered by Domain or the SigningTable. Nil means verify instead.
func (s *Signer) ShouldSign(env *mailmsg.Envelope, m *mailmsg.Message) []SignRequest {
	if s.opts.Mode&ModeSign == 0 || s.dontSign(env) {
		return nil
	}
	user, domain, ok := fromAddress(m)
	if !ok {
		return nil
	}
	if !s.trusted(env) {
		s.logExternal(env, domain, true)
		return nil
	}
	if s.opts.KeyTable == nil {
		d := s.signingDomain(domain)
		if s.opts.KeyFile == "" || d == "" {
			return nil
		}
		return []SignRequest{{KeyName: defaultKeyName, Domain: d, Selector: s.opts.Selector}}
	}
	if s.opts.SigningTable == nil {
		return nil
	}
	return s.lookupSigningTable(user, domain)
}

func (s *Signer) trusted(env *mailmsg.Envelope) bool {
	if env == nil {
		return false
	}
	if env.AuthUser != "" || env.Local {
		return true
	}
	for _, d := range s.opts.MTA {
		if env.DaemonName != "" && strings.EqualFold(d, env.DaemonName) {
			return true
		}
	}
	return s.internal.Match(env.ClientAddr, env.ClientName)
}

// logExternal notes, as OpenDKIM does, an untrusted client sending mail
// as one of our domains, unless it is in ExternalIgnoreList.
func (s *Signer) logExternal(env *mailmsg.Envelope, domain string, untrusted bool) {
	if !untrusted || env == nil || s.opts.ExternalIgnoreList.Match(env.ClientAddr, env.ClientName) {
		return
	}
	if s.signingDomain(domain) == "" && (s.opts.SigningTable == nil || len(s.lookupSigningTable("x", domain)) == 0) {
		return
	}
	s.log.Info("dkim: external host tried to send as a signing domain", "client", env.ClientAddr.String(),
		"name", env.ClientName, "domain", domain)
}

// IsPeer reports whether the client is in PeerList: the milter should
// leave its mail alone entirely (OpenDKIM PeerList).
func (o *Options) IsPeer(env *mailmsg.Envelope) bool {
	return env != nil && o.PeerList.Match(env.ClientAddr, env.ClientName)
}

func (s *Signer) dontSign(env *mailmsg.Envelope) bool {
	if env == nil {
		return false
	}
	for _, r := range env.Rcpts {
		_, dom, _ := strings.Cut(r, "@")
		for _, d := range s.opts.DontSignMailTo {
			if strings.EqualFold(d, r) || strings.EqualFold(d, dom) {
				return true
			}
		}
	}
	return false
}

// signingDomain returns d= for a From domain in the single-key setup: the
// From domain itself for "*" or an exact entry, the configured parent
// with SubDomains (its key is published there); "" if not covered.
func (s *Signer) signingDomain(domain string) string {
	for _, d := range s.opts.Domains {
		d = strings.ToLower(strings.TrimSuffix(d, "."))
		switch {
		case d == "*" || d == domain:
			return domain
		case s.opts.SubDomains && strings.HasSuffix(domain, "."+d):
			return d
		}
	}
	return ""
}

// Sign makes the DKIM-Signature fields for reqs (from ShouldSign) over the
// final header list and body, in the order to prepend them. Keys that are
// unusable or whose DNS record does not match (per KeyCheck) are skipped;
// the returned error says which, and the caller passes the message on.
func (s *Signer) Sign(ctx context.Context, m *mailmsg.Message, reqs []SignRequest) ([]mailmsg.Field, error) {
	keys := *s.keys.Load()
	now := time.Now
	if s.opts.Now != nil {
		now = s.opts.Now
	}
	bh := base64.StdEncoding.EncodeToString(BodyHash(m.Body, s.opts.BodyCanon, crypto.SHA256, -1))
	var out []mailmsg.Field
	var errs []error
	for _, req := range reqs {
		k := s.pickKey(ctx, keys[req.KeyName], req)
		if k == nil || k.err != nil {
			s.metrics.signResult("nokey")
			errs = append(errs, fmt.Errorf("dkim: no usable key %q for d=%s", req.KeyName, req.Domain))
			continue
		}
		f, err := s.signOne(m, k, req, bh, now())
		if err != nil {
			s.metrics.signResult("error")
			errs = append(errs, err)
			continue
		}
		s.metrics.signResult("signed")
		out = append(out, f)
	}
	return out, errors.Join(errs...)
}

func (s *Signer) signOne(m *mailmsg.Message, k *signingKey, req SignRequest, bh string, now time.Time) (mailmsg.Field, error) {
	names := signedHeaderNames(m.Header, s.opts.SignHeaders, s.opts.OversignHeaders)
	sig := &Signature{Hash: crypto.SHA256, HeaderCanon: s.opts.HeaderCanon, Headers: names}
	var f folder
	f.add("v=1;")
	f.add("a=" + k.algo + ";")
	f.add("c=" + s.opts.HeaderCanon.String() + "/" + s.opts.BodyCanon.String() + ";")
	f.add("d=" + req.Domain + ";")
	f.add("s=" + req.Selector + ";")
	if !s.opts.NoTimestamp {
		f.add("t=" + strconv.FormatInt(now.Unix(), 10) + ";")
	}
	if s.opts.SignatureTTL > 0 {
		f.add("x=" + strconv.FormatInt(now.Add(s.opts.SignatureTTL).Unix(), 10) + ";")
	}
	if req.Identity != "" {
		f.add("i=" + req.Identity + ";")
	}
	f.add("bh=" + bh + ";")
	f.addList("h=", names)
	f.add("b=")
	field := mailmsg.Field{Name: "DKIM-Signature", Value: f.String()}
	digest := headerHashWith(m.Header, field, sig)
	var opts crypto.SignerOpts = crypto.SHA256
	if k.algo == "ed25519-sha256" {
		opts = crypto.Hash(0)
	}
	b, err := k.signer.Sign(rand.Reader, digest, opts)
	if err != nil {
		return mailmsg.Field{}, fmt.Errorf("dkim: signing with key %s: %w", req.KeyName, err)
	}
	f.addB(base64.StdEncoding.EncodeToString(b))
	field.Value = f.String()
	return field, nil
}

// signedHeaderNames lists, in message order, the fields to sign (From is
// always included), then each OversignHeaders name once more.
func signedHeaderNames(h []mailmsg.Field, sign, over []string) []string {
	if sign == nil {
		sign = DefaultSignHeaders
	}
	var out []string
	for _, f := range h {
		name := strings.TrimRight(f.Name, " \t")
		if strings.EqualFold(name, "from") || containsFold(sign, name) {
			out = append(out, name)
		}
	}
	return append(out, over...)
}

// folder builds a folded tag list: " tag; tag;\r\n\ttag..." with lines
// kept under 78 characters where tags allow.
type folder struct {
	b   strings.Builder
	col int
}

func (f *folder) add(tag string) {
	if f.col > 0 && f.col+1+len(tag) > 76 {
		f.b.WriteString("\r\n\t")
		f.col = 8
	} else {
		f.b.WriteByte(' ')
		f.col++
	}
	f.b.WriteString(tag)
	f.col += len(tag)
}

func (f *folder) addList(prefix string, names []string) {
	f.add(prefix + names[0])
	for _, n := range names[1:] {
		if f.col+1+len(n) > 76 {
			f.b.WriteString("\r\n\t :")
			f.col = 10
		} else {
			f.b.WriteByte(':')
			f.col++
		}
		f.b.WriteString(n)
		f.col += len(n)
	}
	f.b.WriteByte(';')
	f.col++
}

// addB appends the b= value folded at 70 characters; whitespace inside
// b= is ignored by verifiers and removed with the value when hashing.
func (f *folder) addB(b64 string) {
	for len(b64) > 0 {
		n := min(len(b64), max(76-f.col, 1))
		if f.col >= 76 {
			f.b.WriteString("\r\n\t")
			f.col = 8
			n = min(len(b64), 68)
		}
		f.b.WriteString(b64[:n])
		f.col += n
		b64 = b64[n:]
	}
}

func (f *folder) String() string { return f.b.String() }

var _ io.Writer = (*bodyCanon)(nil)
