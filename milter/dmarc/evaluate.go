package dmarc

import (
	"context"
	"math/rand/v2"
	"strings"

	"github.com/gomilter/gomilter/internal/dns"
)

// AuthResult is one authenticated (or not) identifier: the domain an SPF
// check or a DKIM signature (d=) was about, and its result ("pass",
// "fail", "temperror"...). Only "pass" counts for DMARC.
type AuthResult struct {
	Domain   string
	Result   string
	Selector string // DKIM only, for reports
	Scope    string // SPF only: "mfrom" (default) or "helo", for reports
}

// In is what the caller already knows about the message.
type In struct {
	FromDomain string       // RFC5322.From domain (see FromDomain)
	SPF        AuthResult   // the domain SPF checked: MAIL FROM, or HELO for a null sender
	DKIM       []AuthResult // one per DKIM signature
}

// Result values (RFC 8601 section 2.7.x / RFC 9989 section 11).
const (
	ResultPass      = "pass"
	ResultFail      = "fail"
	ResultNone      = "none"
	ResultTempError = "temperror"
	ResultPermError = "permerror"
)

// Result is the outcome of Evaluate.
type Result struct {
	Result       string  // pass, fail, none, temperror, permerror
	FromDomain   string  // normalized author domain
	PolicyDomain string  // where the record was found ("" if none)
	Record       *Record // nil without a policy
	// Policy is the policy the Domain Owner requested for this message
	// (p=, sp= or np=, see RFC 9989 section 4.10.1); Disposition is what
	// applies after t=y / pct sampling, and is none when DMARC passed.
	Policy      Policy
	Disposition Policy
	SampledOut  bool // a weaker disposition because of t=y or pct=
	SPFAligned  bool // SPF passed for an aligned domain
	DKIMAligned bool // some DKIM signature passed for an aligned domain
	DKIMDomain  string
	Err         error // the DNS failure behind temperror
}

// Config changes how Evaluate works; the zero value is RFC 9989.
type Config struct {
	// Legacy selects RFC 7489 discovery and PSL organizational domains.
	Legacy bool
	// Rand returns a number in [0,100) for pct= sampling; nil means
	// math/rand/v2.
	Rand func() int
}

// Evaluate runs DMARC with the default Config.
func Evaluate(ctx context.Context, r Resolver, in In) Result {
	var c Config
	return c.Evaluate(ctx, r, in)
}

// Evaluate discovers the policy of in.FromDomain, checks alignment of the
// passing SPF and DKIM identifiers and computes the disposition.
func (c *Config) Evaluate(ctx context.Context, r Resolver, in In) Result {
	res := Result{FromDomain: normalize(in.FromDomain), Result: ResultNone, Disposition: PolicyNone}
	if !validDomain(res.FromDomain) {
		res.Result = ResultPermError
		return res
	}
	f, err := c.discover(ctx, r, res.FromDomain)
	if err != nil {
		res.Result, res.Err = ResultTempError, err
		return res
	}
	if f.rec == nil {
		return res
	}
	res.Record, res.PolicyDomain = f.rec, f.domain
	if res.Policy, err = c.requested(ctx, r, res.FromDomain, f); err != nil {
		res.Result, res.Err = ResultTempError, err
		return res
	}
	if err := c.align(ctx, r, &res, in); err != nil {
		res.Result, res.Err = ResultTempError, err
		return res
	}
	if res.SPFAligned || res.DKIMAligned {
		res.Result = ResultPass
		return res
	}
	res.Result = ResultFail
	res.Disposition = res.Policy
	if c.sampledOut(f.rec) && res.Policy != PolicyNone {
		res.Disposition, res.SampledOut = res.Policy.weaker(), true
	}
	return res
}

// requested picks p=, sp= or np= (RFC 9989 section 4.10.1, RFC 9091).
func (c *Config) requested(ctx context.Context, r Resolver, from string, f found) (Policy, error) {
	if f.domain == from {
		return f.rec.Policy, nil
	}
	if f.rec.HasNP {
		gone, err := nonExistent(ctx, r, from)
		if err != nil {
			return "", err
		}
		if gone {
			return f.rec.NPPolicy, nil
		}
	}
	return f.rec.SubPolicy, nil
}

// nonExistent: NXDOMAIN (or no data) for A, AAAA and MX (RFC 9091 section 2.1).
func nonExistent(ctx context.Context, r Resolver, domain string) (bool, error) {
	ips, err := r.LookupIP(ctx, domain)
	if dns.IsTemporary(err) {
		return false, err
	}
	if dns.IsNXDomain(err) {
		return true, nil // no name, so no MX either
	}
	if len(ips) > 0 {
		return false, nil
	}
	mx, err := r.LookupMX(ctx, domain)
	if dns.IsTemporary(err) {
		return false, err
	}
	return len(mx) == 0, nil
}

// sampledOut: t=y always, pct=N for (100-N)% of failing messages.
func (c *Config) sampledOut(rec *Record) bool {
	if rec.Testing {
		return true
	}
	if rec.Percent >= 100 {
		return false
	}
	n := rand.IntN(100)
	if c.Rand != nil {
		n = c.Rand()
	}
	return n >= rec.Percent
}

// validDomain is a cheap syntax check: LDH labels (plus '_' and
// non-ASCII U-labels, which some senders use), 1..63 bytes, 2+ labels.
func validDomain(d string) bool {
	if len(d) == 0 || len(d) > 253 || !strings.Contains(d, ".") {
		return false
	}
	for _, l := range strings.Split(d, ".") {
		if len(l) == 0 || len(l) > 63 || l[0] == '-' || l[len(l)-1] == '-' {
			return false
		}
		for i := 0; i < len(l); i++ {
			if c := l[i]; c < 0x80 && !(isAlnum(c) || c == '-' || c == '_') {
				return false
			}
		}
	}
	return true
}

func isAlnum(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9'
}
