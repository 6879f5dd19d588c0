package spf

import (
	"context"
	"errors"
	"net"
	"net/netip"
	"strings"
	"time"

	"github.com/gomilter/gomilter/internal/dns"
)

// Resolver is the DNS access SPF needs. *dns.Resolver (internal/dns)
// satisfies it. Errors must wrap dns.ErrNotFound or dns.ErrNoData for a
// permanent absence and dns.ErrTemporary for anything that may succeed
// later; any other error is treated as temporary.
type Resolver interface {
	LookupTXT(ctx context.Context, name string) ([]string, error)
	LookupA(ctx context.Context, name string) ([]netip.Addr, error)
	LookupAAAA(ctx context.Context, name string) ([]netip.Addr, error)
	LookupMX(ctx context.Context, name string) ([]*net.MX, error)
	LookupAddr(ctx context.Context, ip netip.Addr) ([]string, error)
}

// Defaults for Options.
const (
	DefaultLookupLimit = 10 // RFC 7208 section 4.6.4
	DefaultVoidLimit   = 2  // RFC 7208 section 4.6.4 (RECOMMENDED)
	DefaultTimeout     = 20 * time.Second
	// DefaultExplanation is used for fail results when the domain gives no
	// usable exp= (the text pyspf and policyd-spf use).
	DefaultExplanation = "SPF fail - not authorized"
)

// Options configures a Checker.
type Options struct {
	// Resolver answers the DNS queries. Required.
	Resolver Resolver
	// Receiver is this host's name: the %{r} macro and receiver= in
	// Received-SPF. Default "unknown" (RFC 7208 section 7.3).
	Receiver string
	// LookupLimit caps DNS-querying terms per evaluation. Default 10.
	LookupLimit int
	// VoidLimit caps terms whose lookup found nothing. Default 2.
	VoidLimit int
	// Timeout bounds one whole evaluation (RFC 7208 section 4.6.4 suggests
	// at least 20 seconds). Default 20s.
	Timeout time.Duration
	// DefaultExplanation is the fail explanation when exp= is absent or
	// unusable; it may contain macros. Default DefaultExplanation.
	DefaultExplanation string
	// Now is the clock for the %{t} macro; nil means time.Now.
	Now func() time.Time
}

// Checker evaluates SPF policies. It is safe for concurrent use.
type Checker struct {
	opts Options
}

// New validates opts and returns a Checker.
func New(opts Options) (*Checker, error) {
	if opts.Resolver == nil {
		return nil, errors.New("spf: Options.Resolver is required")
	}
	if opts.LookupLimit < 0 || opts.VoidLimit < 0 || opts.Timeout < 0 {
		return nil, errors.New("spf: negative limit or timeout")
	}
	if opts.Receiver == "" {
		opts.Receiver = "unknown"
	}
	if opts.LookupLimit == 0 {
		opts.LookupLimit = DefaultLookupLimit
	}
	if opts.VoidLimit == 0 {
		opts.VoidLimit = DefaultVoidLimit
	}
	if opts.Timeout == 0 {
		opts.Timeout = DefaultTimeout
	}
	if opts.DefaultExplanation == "" {
		opts.DefaultExplanation = DefaultExplanation
	}
	if err := checkMacroString(opts.DefaultExplanation, true); err != nil {
		return nil, errors.New("spf: DefaultExplanation: " + err.Error())
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	return &Checker{opts: opts}, nil
}

// Receiver returns the configured receiver host name.
func (c *Checker) Receiver() string { return c.opts.Receiver }

// Check evaluates the MAIL FROM identity; with a null reverse-path
// (mailFrom == "") it evaluates postmaster@<helo> as the HELO identity
// (RFC 7208 section 2.4).
func (c *Checker) Check(ctx context.Context, ip netip.Addr, helo, mailFrom string) Result {
	if mailFrom == "" {
		return c.CheckHelo(ctx, ip, helo)
	}
	local, domain := splitSender(mailFrom)
	return c.run(ctx, ip, helo, local, domain, IdentityMailFrom)
}

// CheckHelo evaluates the HELO identity (RFC 7208 section 2.3).
func (c *Checker) CheckHelo(ctx context.Context, ip netip.Addr, helo string) Result {
	return c.run(ctx, ip, helo, "postmaster", helo, IdentityHelo)
}

// splitSender splits at the last "@"; an empty or missing local part
// becomes "postmaster" (RFC 7208 section 4.3).
func splitSender(s string) (local, domain string) {
	at := strings.LastIndexByte(s, '@')
	if at < 0 {
		return "postmaster", s
	}
	local, domain = s[:at], s[at+1:]
	if local == "" {
		local = "postmaster"
	}
	return local, domain
}

func (c *Checker) run(ctx context.Context, ip netip.Addr, helo, local, domain string, id Identity) Result {
	ip = ip.Unmap()
	res := Result{
		Identity: id, Domain: domain, Sender: local + "@" + domain,
		ClientIP: ip, Helo: helo,
	}
	if !ip.IsValid() {
		res.Code, res.Problem = PermError, "no client IP address"
		return res
	}
	// Initial processing: a malformed or single-label domain has no
	// policy (RFC 7208 section 4.3).
	if !validInitialDomain(domain) {
		res.Code = None
		return res
	}
	ctx, cancel := context.WithTimeout(ctx, c.opts.Timeout)
	defer cancel()
	e := &evaluator{c: c, ip: ip, helo: helo, local: local, senderDomain: domain, sender: res.Sender}
	hr := e.checkHost(ctx, domain)
	res.Code, res.Mechanism, res.Problem = hr.code, hr.mech, hr.problem
	if hr.code == Fail {
		res.Explanation = e.explain(ctx, hr)
	}
	return res
}

// validInitialDomain: multi-label, labels 1-63 octets of letters, digits,
// hyphens and underscores, at most 253 octets, and a top label that is not
// all digits, so an address literal is no domain (RFC 7208 section 4.3).
func validInitialDomain(d string) bool {
	d = strings.TrimSuffix(d, ".")
	if len(d) == 0 || len(d) > 253 || !strings.Contains(d, ".") {
		return false
	}
	if !isTopLabel(d[strings.LastIndexByte(d, '.')+1:]) {
		return false
	}
	for label := range strings.SplitSeq(d, ".") {
		if len(label) == 0 || len(label) > 63 {
			return false
		}
		for i := 0; i < len(label); i++ {
			c := label[i]
			if !isAlpha(c) && !isDigit(c) && c != '-' && c != '_' {
				return false
			}
		}
	}
	return true
}

// errKind classifies a resolver error.
type errKind int

const (
	errNone errKind = iota
	errAbsent
	errTemp
)

func classify(err error) errKind {
	switch {
	case err == nil:
		return errNone
	case errors.Is(err, dns.ErrNotFound), errors.Is(err, dns.ErrNoData), errors.Is(err, dns.ErrInvalidName):
		return errAbsent
	default:
		return errTemp
	}
}
