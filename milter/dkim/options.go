package dkim

import (
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// Mode selects signing and/or verifying (OpenDKIM Mode: s, v, sv).
type Mode int

// Mode bits.
const (
	ModeSign Mode = 1 << iota
	ModeVerify
)

// Action is what the milter does with a message after verification
// (OpenDKIM On-* values).
type Action int

// Actions, from mildest to harshest.
const (
	ActionAccept Action = iota
	ActionQuarantine
	ActionTempfail
	ActionDiscard
	ActionReject
)

func (a Action) String() string {
	return [...]string{"accept", "quarantine", "tempfail", "discard", "reject"}[a]
}

// ParseAction parses accept|discard|quarantine|reject|tempfail or their
// first letters, as opendkim.conf(5) On-BadSignature does.
func ParseAction(s string) (Action, error) {
	for a := ActionAccept; a <= ActionReject; a++ {
		n := a.String()
		if strings.EqualFold(s, n) || strings.EqualFold(s, n[:1]) {
			return a, nil
		}
	}
	return 0, fmt.Errorf("%q is not accept|discard|quarantine|reject|tempfail", trimQ(s))
}

// KeySpec is one KeyTable line (or the single Domain/Selector/KeyFile key).
type KeySpec struct {
	Name     string // key name in the KeyTable
	Domain   string // d=; "%" means the From: domain
	Selector string // s=
	Path     string // private key file (PEM), if any
	Data     string // inline PEM or base64 DER, if any (tried before Path)
}

// SigningRule is one SigningTable line.
type SigningRule struct {
	Pattern string // address, domain or refile: wildcard pattern
	KeyName string // KeyTable name
	Signer  string // optional i=; '%' is replaced by the From: domain
}

// SigningTable maps From: addresses to keys (OpenDKIM SigningTable).
type SigningTable struct {
	Wildcard bool // refile: patterns checked in order; else exact lookups
	Rules    []SigningRule
}

// KeyCheckPolicy says what to do when a key's published DNS record does
// not match the private key (safe key rotation).
type KeyCheckPolicy int

// Key check policies.
const (
	KeyCheckOff      KeyCheckPolicy = iota // never look
	KeyCheckLog                            // log + count, sign anyway (default)
	KeyCheckPrevious                       // sign with the previous key that did match, if any
	KeyCheckDontSign                       // leave the message unsigned
)

// Options configure a Signer (and the verify side the pipeline runs). The
// field comments name the opendkim.conf directive each one mirrors.
type Options struct {
	Mode                  Mode           // Mode (default sv)
	Domains               []string       // Domain: single-key signing domains; "*" = any
	Selector              string         // Selector (single-key setup)
	KeyFile               string         // KeyFile (single-key setup)
	KeyTable              []KeySpec      // KeyTable (overrides Domain/Selector/KeyFile)
	SigningTable          *SigningTable  // SigningTable (needs KeyTable)
	MultipleSignatures    bool           // MultipleSignatures: apply every match
	SubDomains            bool           // SubDomains: Domain also covers subdomains
	InternalHosts         *HostList      // InternalHosts (nil: 127.0.0.1 and ::1)
	ExternalIgnoreList    *HostList      // ExternalIgnoreList: silence "external host" logs
	PeerList              *HostList      // PeerList: clients the milter should skip entirely
	MTA                   []string       // MTA: {daemon_name} values whose mail is signed
	HeaderCanon           Canon          // Canonicalization (header part; default simple)
	BodyCanon             Canon          // Canonicalization (body part; default simple)
	SignHeaders           []string       // SignHeaders (nil: RFC 6376 5.4.1 list)
	OversignHeaders       []string       // OversignHeaders
	DontSignMailTo        []string       // DontSignMailTo: any such recipient => no signature
	SignatureTTL          time.Duration  // SignatureTTL: x= = t= + TTL; 0 = no x=
	NoTimestamp           bool           // omit t= (OpenDKIM always writes it)
	MinimumKeyBits        int            // MinimumKeyBits (default 1024)
	MaxSignaturesToVerify int            // MaximumSignaturesToVerify (default 3)
	AllowSHA1             bool           // AllowSHA1Only: accept rsa-sha1 when verifying
	AlwaysAddARHeader     bool           // AlwaysAddARHeader: dkim=none on unsigned mail
	AuthservID            string         // AuthservID (the pipeline's default: hostname)
	OnBadSignature        Action         // On-BadSignature (default accept)
	OnDNSError            Action         // On-DNSError (default tempfail)
	OnInternalError       Action         // On-InternalError (default tempfail)
	OnKeyNotFound         Action         // On-KeyNotFound (default accept)
	OnNoSignature         Action         // On-NoSignature (default accept)
	OnSecurity            Action         // On-Security (default tempfail)
	OnSignatureError      Action         // On-SignatureError (default accept)
	Socket                string         // Socket, for the caller (local:PATH or inet:PORT@HOST)
	UMask                 string         // UMask, for the caller's socket
	Nameservers           []string       // Nameservers, for the caller's resolver
	DNSTimeoutSeconds     int            // DNSTimeout (default 10)
	TestPublicKeys        string         // TestPublicKeys: "name TXT" file used instead of DNS
	KeyCheck              KeyCheckPolicy // key publication check (default KeyCheckLog)
	KeyCheckTTL           time.Duration  // how long a check result is cached (default 1h)

	Resolver   TXTResolver           // for key checks (signing) and verification
	Logger     *slog.Logger          // nil: discard
	Registerer prometheus.Registerer // nil: no metrics
	Now        func() time.Time      // nil: time.Now
}

// DefaultOptions returns OpenDKIM's defaults.
func DefaultOptions() *Options {
	return &Options{Mode: ModeSign | ModeVerify, MinimumKeyBits: 1024, MaxSignaturesToVerify: 3,
		OnDNSError: ActionTempfail, OnInternalError: ActionTempfail, OnSecurity: ActionTempfail,
		DNSTimeoutSeconds: 10, KeyCheck: KeyCheckLog, KeyCheckTTL: time.Hour}
}

func (o *Options) setAll(a Action) {
	o.OnBadSignature, o.OnDNSError, o.OnInternalError, o.OnKeyNotFound = a, a, a, a
	o.OnNoSignature, o.OnSecurity, o.OnSignatureError = a, a, a
}

// DefaultSignHeaders is OpenDKIM's default SignHeaders: the fields RFC
// 6376 section 5.4.1 says SHOULD be signed.
var DefaultSignHeaders = []string{"From", "Reply-To", "Subject", "Date", "To", "Cc",
	"Resent-Date", "Resent-From", "Resent-Sender", "Resent-To", "Resent-Cc",
	"In-Reply-To", "References", "List-Id", "List-Help", "List-Unsubscribe",
	"List-Subscribe", "List-Post", "List-Owner", "List-Archive"}

// Action returns the message action for a set of verification results:
// any pass accepts; otherwise the harshest action the results call for.
// A failing signature whose key is in testing mode (t=y) is ignored.
func (o *Options) Action(results []Result) Action {
	if len(results) == 0 {
		return o.OnNoSignature
	}
	worst := ActionAccept
	for _, r := range results {
		var a Action
		switch r.Status {
		case StatusPass:
			return ActionAccept
		case StatusFail:
			if !r.Testing {
				a = o.OnBadSignature
			}
		case StatusTempError:
			a = o.OnDNSError
		case StatusPermError:
			a = o.OnKeyNotFound
		case StatusNeutral:
			a = o.OnSignatureError
		case StatusPolicy:
			a = o.OnBadSignature // OpenDKIM treats short keys as bad signatures
		}
		worst = max(worst, a)
	}
	return worst
}

// VerifyOptions returns the verifier settings these options imply.
func (o *Options) VerifyOptions(m *Metrics) VerifyOptions {
	return VerifyOptions{MinimumKeyBits: o.MinimumKeyBits, MaxSignatures: o.MaxSignaturesToVerify,
		AllowSHA1: o.AllowSHA1, LookupTimeout: time.Duration(o.DNSTimeoutSeconds) * time.Second,
		Now: o.Now, Metrics: m}
}
