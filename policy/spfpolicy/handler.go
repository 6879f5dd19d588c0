package spfpolicy

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/netip"
	"slices"
	"strings"
	"time"

	"github.com/gomilter/gomilter/internal/spf"
	"github.com/gomilter/gomilter/policy"
)

// Options configures the SPF policy handler.
type Options struct {
	// Checker evaluates SPF. Required. Its receiver name goes into the
	// Received-SPF header.
	Checker *spf.Checker
	// RejectOn lists the MAIL FROM results answered with a 550 reply.
	// Default: fail (policyd-spf Mail_From_reject = Fail).
	RejectOn []spf.Code
	// DeferOn lists the results answered with DEFER_IF_PERMIT.
	// Default: temperror.
	DeferOn []spf.Code
	// HeloCheck evaluates the HELO identity first (RFC 7208 section 2.3)
	// and applies HeloRejectOn/DeferOn to it. With a null sender the HELO
	// identity is always what gets checked.
	HeloCheck bool
	// HeloRejectOn lists HELO results that reject. Default: fail.
	HeloRejectOn []spf.Code
	// CheckAuthenticated also checks SASL-authenticated clients, which are
	// skipped by default.
	CheckAuthenticated bool
	// InternalNetworks are never checked. Default: 127.0.0.0/8 and ::1/128
	// (policyd-spf skip_addresses).
	InternalNetworks []netip.Prefix
	// WhitelistNetworks are client networks never checked.
	WhitelistNetworks []netip.Prefix
	// WhitelistDomains are sender domains (and their subdomains) never
	// checked.
	WhitelistDomains []string
	// CacheSize bounds cached results. Default 10000.
	CacheSize int
	// CacheTTL is how long a result is kept for its instance. Default 10m.
	CacheTTL time.Duration
	// Logger receives one line per decision at debug level; nil discards.
	Logger *slog.Logger
	// Now is the clock for the cache; nil means time.Now.
	Now func() time.Time
}

// Handler is the SPF policy check. It is safe for concurrent use.
type Handler struct {
	opts  Options
	log   *slog.Logger
	cache *cache
}

var _ policy.Handler = (*Handler)(nil)

// New validates opts and returns a Handler.
func New(opts Options) (*Handler, error) {
	if opts.Checker == nil {
		return nil, errors.New("spfpolicy: Options.Checker is required")
	}
	if opts.RejectOn == nil {
		opts.RejectOn = []spf.Code{spf.Fail}
	}
	if opts.DeferOn == nil {
		opts.DeferOn = []spf.Code{spf.TempError}
	}
	if opts.HeloRejectOn == nil {
		opts.HeloRejectOn = []spf.Code{spf.Fail}
	}
	if opts.InternalNetworks == nil {
		opts.InternalNetworks = []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8"), netip.MustParsePrefix("::1/128")}
	}
	if opts.CacheSize <= 0 {
		opts.CacheSize = 10000
	}
	if opts.CacheTTL <= 0 {
		opts.CacheTTL = 10 * time.Minute
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	for _, list := range [][]spf.Code{opts.RejectOn, opts.DeferOn, opts.HeloRejectOn} {
		for _, c := range list {
			if !validCode(c) {
				return nil, fmt.Errorf("spfpolicy: unknown SPF result %q", c)
			}
		}
	}
	// A copy: the caller's slice (often the config) is left untouched.
	domains := make([]string, len(opts.WhitelistDomains))
	for i, d := range opts.WhitelistDomains {
		domains[i] = strings.ToLower(strings.TrimSuffix(d, "."))
	}
	opts.WhitelistDomains = domains
	log := opts.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Handler{opts: opts, log: log, cache: newCache(opts.CacheSize, opts.CacheTTL, opts.Now)}, nil
}

func validCode(c spf.Code) bool {
	switch c {
	case spf.None, spf.Neutral, spf.Pass, spf.Fail, spf.SoftFail, spf.TempError, spf.PermError:
		return true
	}
	return false
}

// Check implements policy.Handler.
func (h *Handler) Check(ctx context.Context, req *policy.Request) (policy.Action, error) {
	if req.ProtocolState != "RCPT" && req.ProtocolState != "MAIL" {
		return policy.Dunno, nil // PREPEND is not allowed at END-OF-MESSAGE
	}
	if why := h.exempt(req); why != "" {
		h.log.Debug("spf skipped", "client", req.ClientAddress.String(), "reason", why)
		return policy.Dunno, nil
	}
	key := cacheKey{instance: req.Instance, ip: req.ClientAddress, helo: req.HeloName, sender: req.Sender}
	if a, prepended, ok := h.cache.get(key); ok {
		if prepended {
			return policy.Dunno, nil // the header is already on this message
		}
		return a, nil
	}
	a := h.decide(ctx, req)
	h.cache.put(key, a)
	return a, nil
}

// exempt returns why a request is not checked, or "".
func (h *Handler) exempt(req *policy.Request) string {
	ip := req.ClientAddress
	switch {
	case !ip.IsValid():
		return "no client address"
	case req.SASLUsername != "" && !h.opts.CheckAuthenticated:
		return "authenticated"
	case inPrefixes(ip, h.opts.InternalNetworks):
		return "internal network"
	case inPrefixes(ip, h.opts.WhitelistNetworks):
		return "whitelisted network"
	}
	if req.Sender != "" {
		dom := strings.ToLower(req.Sender[strings.LastIndexByte(req.Sender, '@')+1:])
		for _, w := range h.opts.WhitelistDomains {
			if dom == w || strings.HasSuffix(dom, "."+w) {
				return "whitelisted domain"
			}
		}
	}
	return ""
}

func inPrefixes(ip netip.Addr, ps []netip.Prefix) bool {
	for _, p := range ps {
		if p.Contains(ip) {
			return true
		}
	}
	return false
}

// decide runs the HELO and MAIL FROM checks (policyd-spf order).
func (h *Handler) decide(ctx context.Context, req *policy.Request) policy.Action {
	c := h.opts.Checker
	if h.opts.HeloCheck || req.Sender == "" {
		r := c.CheckHelo(ctx, req.ClientAddress, req.HeloName)
		h.log.Debug("spf helo", "result", string(r.Code), "client", r.ClientIP.String(), "helo", r.Helo)
		if a, final := h.verdict(r, h.opts.HeloRejectOn); final || req.Sender == "" {
			return a
		}
	}
	r := c.Check(ctx, req.ClientAddress, req.HeloName, req.Sender)
	h.log.Debug("spf mailfrom", "result", string(r.Code), "client", r.ClientIP.String(), "sender", r.Sender)
	a, _ := h.verdict(r, h.opts.RejectOn)
	return a
}

// verdict maps a result to an action; final is false for a PREPEND, so a
// HELO pass still lets the MAIL FROM check decide. Reply codes follow
// policyd-spf: 5.7.23 for policy results, 5.7.24 for errors.
func (h *Handler) verdict(r spf.Result, rejectOn []spf.Code) (a policy.Action, final bool) {
	isErr := r.Code == spf.PermError || r.Code == spf.TempError
	switch {
	case slices.Contains(rejectOn, r.Code) && r.Code == spf.Fail:
		return policy.Reply(550, "5.7.23", "Message rejected due to: "+clean(r.Explanation)), true
	case slices.Contains(rejectOn, r.Code) && isErr:
		return policy.Reply(550, "5.7.24", "Message rejected due to: SPF "+string(r.Code)+": "+clean(r.Problem)), true
	case slices.Contains(rejectOn, r.Code):
		return policy.Reply(550, "5.7.23", "Message rejected due to: SPF "+string(r.Code)+" for "+clean(r.Sender)), true
	case slices.Contains(h.opts.DeferOn, r.Code):
		return policy.DeferIfPermit("4.7.24 Message deferred due to: SPF " + string(r.Code) + ": " + clean(r.Problem)), true
	}
	return policy.Prepend("Received-SPF: " + r.ReceivedSPF(h.opts.Checker.Receiver())), false
}

// clean makes DNS-supplied text safe in an SMTP reply: printable ASCII
// only, bounded length.
func clean(s string) string {
	b := []byte(s)
	for i, c := range b {
		if c < 0x20 || c > 0x7e {
			b[i] = ' '
		}
	}
	const max = 300
	if len(b) > max {
		b = b[:max]
	}
	return strings.TrimSpace(string(b))
}
