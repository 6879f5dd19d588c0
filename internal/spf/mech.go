package spf

import (
	"context"
	"net/netip"
	"strings"
)

// Per-term limits of RFC 7208 section 4.6.4.
const (
	maxMXHosts  = 10 // address lookups per "mx" term
	maxPTRNames = 10 // names examined per "ptr" term or %{p}
)

// evalDirective reports whether the mechanism matches (RFC 7208 section 5).
func (e *evaluator) evalDirective(ctx context.Context, d *directive, domain string) (bool, error) {
	switch d.kind {
	case mechAll:
		return true, nil
	case mechIP4, mechIP6:
		return d.prefix.Addr().Is4() == e.ip.Is4() && d.prefix.Contains(e.ip), nil
	}
	if err := e.countLookup(); err != nil {
		return false, err
	}
	target, err := e.target(ctx, d.domain, domain)
	if err != nil {
		return false, err
	}
	switch d.kind {
	case mechInclude:
		return e.include(ctx, target)
	case mechA:
		return e.matchA(ctx, d, target)
	case mechMX:
		return e.matchMX(ctx, d, target)
	case mechPTR:
		return e.matchPTR(ctx, target), nil
	default: // mechExists
		return e.exists(ctx, target)
	}
}

// include maps the inner result (RFC 7208 section 5.2 table).
func (e *evaluator) include(ctx context.Context, target string) (bool, error) {
	hr := e.checkHost(ctx, target)
	switch hr.code {
	case Pass:
		return true, nil
	case Fail, SoftFail, Neutral:
		return false, nil
	case TempError:
		return false, tempErr("%s", hr.problem)
	case None:
		return false, permErr("included domain %s has no SPF record", target)
	default:
		return false, permErr("%s", hr.problem)
	}
}

// addrs looks up the addresses of name in the client's address family.
func (e *evaluator) addrs(ctx context.Context, name string) ([]netip.Addr, error) {
	if e.ip.Is4() {
		return e.c.opts.Resolver.LookupA(ctx, name)
	}
	return e.c.opts.Resolver.LookupAAAA(ctx, name)
}

// lookupCounted does an address lookup for a term: temporary failures
// abort with temperror, empty answers count as void lookups.
func (e *evaluator) lookupCounted(ctx context.Context, name string, lookup func(context.Context, string) ([]netip.Addr, error)) ([]netip.Addr, error) {
	ips, err := lookup(ctx, name)
	switch classify(err) {
	case errTemp:
		return nil, tempErr("DNS lookup of %s failed", name)
	case errAbsent:
		return nil, e.void()
	}
	if len(ips) == 0 {
		return nil, e.void()
	}
	return ips, nil
}

func (e *evaluator) matchA(ctx context.Context, d *directive, target string) (bool, error) {
	ips, err := e.lookupCounted(ctx, target, e.addrs)
	if err != nil {
		return false, err
	}
	return e.anyInCIDR(ips, d), nil
}

func (e *evaluator) anyInCIDR(ips []netip.Addr, d *directive) bool {
	bits := d.cidr4
	if !e.ip.Is4() {
		bits = d.cidr6
	}
	for _, a := range ips {
		a = a.Unmap()
		if a.Is4() != e.ip.Is4() {
			continue
		}
		if p, err := a.Prefix(bits); err == nil && p.Contains(e.ip) {
			return true
		}
	}
	return false
}

func (e *evaluator) matchMX(ctx context.Context, d *directive, target string) (bool, error) {
	mxs, err := e.c.opts.Resolver.LookupMX(ctx, target)
	switch classify(err) {
	case errTemp:
		return false, tempErr("DNS lookup of MX %s failed", target)
	case errAbsent:
		return false, e.void()
	}
	if len(mxs) == 0 {
		return false, e.void()
	}
	if len(mxs) > maxMXHosts {
		return false, permErr("%s has more than %d MX records", target, maxMXHosts)
	}
	for _, mx := range mxs {
		host := strings.TrimSuffix(mx.Host, ".")
		if host == "" {
			continue // null MX, RFC 7505
		}
		ips, err := e.addrs(ctx, host)
		if classify(err) == errTemp {
			return false, tempErr("DNS lookup of %s failed", host)
		}
		if e.anyInCIDR(ips, d) {
			return true, nil
		}
	}
	return false, nil
}

func (e *evaluator) exists(ctx context.Context, target string) (bool, error) {
	// exists always queries A, whatever the client's family (section 5.7).
	ips, err := e.lookupCounted(ctx, target, e.c.opts.Resolver.LookupA)
	return len(ips) > 0, err
}

// matchPTR: some validated PTR name equals target or is below it (section
// 5.5). DNS errors make the mechanism not match.
func (e *evaluator) matchPTR(ctx context.Context, target string) bool {
	for _, n := range e.validatedNames(ctx) {
		if isSubdomain(n, target) {
			return true
		}
	}
	return false
}

// validatedNames returns the client's PTR names whose forward lookup
// contains the client IP, at most maxPTRNames names examined.
func (e *evaluator) validatedNames(ctx context.Context) []string {
	if e.ptrDone {
		return e.ptrNames
	}
	e.ptrDone = true
	names, err := e.c.opts.Resolver.LookupAddr(ctx, e.ip)
	if err != nil {
		return nil
	}
	if len(names) > maxPTRNames {
		names = names[:maxPTRNames]
	}
	for _, n := range names {
		n = strings.TrimSuffix(n, ".")
		ips, err := e.addrs(ctx, n)
		if err != nil {
			continue
		}
		for _, a := range ips {
			if a.Unmap() == e.ip {
				e.ptrNames = append(e.ptrNames, n)
				break
			}
		}
	}
	return e.ptrNames
}

// ptrMacro is %{p}: a validated name in <domain> if any, else any
// validated name, else "unknown" (RFC 7208 section 7.3).
func (e *evaluator) ptrMacro(ctx context.Context, domain string) string {
	names := e.validatedNames(ctx)
	for _, n := range names {
		if isSubdomain(n, domain) {
			return n
		}
	}
	if len(names) > 0 {
		return names[0]
	}
	return "unknown"
}

// isSubdomain reports whether name equals domain or lies below it.
func isSubdomain(name, domain string) bool {
	name = strings.ToLower(strings.TrimSuffix(name, "."))
	domain = strings.ToLower(strings.TrimSuffix(domain, "."))
	return name == domain || strings.HasSuffix(name, "."+domain)
}
