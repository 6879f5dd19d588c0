package spf

import (
	"context"
	"fmt"
	"net/netip"
	"strconv"
	"strings"
)

// hostResult is what one check_host() call yields. expSpec/expDomain carry
// the exp= of the record that produced a fail, so that include can drop it
// and redirect can pass it up (RFC 7208 section 6.2).
type hostResult struct {
	code      Code
	mech      string
	problem   string
	expSpec   string
	expDomain string
}

// evalError aborts an evaluation with temperror or permerror.
type evalError struct {
	code Code
	msg  string
}

func (e *evalError) Error() string { return string(e.code) + ": " + e.msg }

func permErr(format string, args ...any) error {
	return &evalError{code: PermError, msg: fmt.Sprintf(format, args...)}
}

func tempErr(format string, args ...any) error {
	return &evalError{code: TempError, msg: fmt.Sprintf(format, args...)}
}

func errResult(err error) hostResult {
	if ee, ok := err.(*evalError); ok {
		return hostResult{code: ee.code, problem: ee.msg}
	}
	if se, ok := err.(*syntaxError); ok {
		return hostResult{code: PermError, problem: se.msg}
	}
	return hostResult{code: TempError, problem: err.Error()}
}

// evaluator holds the state of one top-level evaluation: the inputs and
// the counters shared by every nested check_host() (RFC 7208 section 4.6.4).
type evaluator struct {
	c                         *Checker
	ip                        netip.Addr
	helo, local, senderDomain string
	sender                    string
	lookups, voids            int
	ptrDone                   bool
	ptrNames                  []string // validated PTR names, for %{p}
}

// checkHost is check_host(<ip>, <domain>, <sender>) of RFC 7208 section 4.
func (e *evaluator) checkHost(ctx context.Context, domain string) hostResult {
	rec, err := e.fetchRecord(ctx, domain)
	if err != nil {
		return errResult(err)
	}
	if rec == nil {
		return hostResult{code: None}
	}
	for i := range rec.directives {
		d := &rec.directives[i]
		match, err := e.evalDirective(ctx, d, domain)
		if err != nil {
			return errResult(err)
		}
		if match {
			hr := hostResult{code: d.qual, mech: d.text}
			if d.qual == Fail {
				hr.expSpec, hr.expDomain = rec.exp, domain
			}
			return hr
		}
	}
	if rec.redirect != "" {
		return e.redirect(ctx, rec.redirect, domain)
	}
	return hostResult{code: Neutral, mech: "default"}
}

// fetchRecord returns the domain's single SPF record, nil if it has none
// (RFC 7208 section 4.4-4.5).
func (e *evaluator) fetchRecord(ctx context.Context, domain string) (*record, error) {
	txts, err := e.c.opts.Resolver.LookupTXT(ctx, domain)
	switch classify(err) {
	case errAbsent:
		return nil, nil
	case errTemp:
		return nil, tempErr("DNS lookup of TXT %s failed", domain)
	}
	var found []string
	for _, t := range txts {
		if isSPFRecord(t) {
			found = append(found, t)
		}
	}
	switch len(found) {
	case 0:
		return nil, nil
	case 1:
		return parseRecord(found[0])
	default:
		return nil, permErr("%s has %d SPF records", domain, len(found))
	}
}

func (e *evaluator) redirect(ctx context.Context, spec, domain string) hostResult {
	if err := e.countLookup(); err != nil {
		return errResult(err)
	}
	target, err := e.target(ctx, spec, domain)
	if err != nil {
		return errResult(err)
	}
	hr := e.checkHost(ctx, target)
	if hr.code == None {
		return hostResult{code: PermError, problem: "redirect target " + target + " has no SPF record"}
	}
	return hr
}

// countLookup counts one DNS-querying term against the limit.
func (e *evaluator) countLookup() error {
	e.lookups++
	if e.lookups > e.c.opts.LookupLimit {
		return permErr("more than %d DNS lookups", e.c.opts.LookupLimit)
	}
	return nil
}

// void counts a term whose lookup returned nothing.
func (e *evaluator) void() error {
	e.voids++
	if e.voids > e.c.opts.VoidLimit {
		return permErr("more than %d void DNS lookups", e.c.opts.VoidLimit)
	}
	return nil
}

// target expands a domain-spec into the name to query; an empty spec
// means the current domain (RFC 7208 section 4.8).
func (e *evaluator) target(ctx context.Context, spec, domain string) (string, error) {
	if spec == "" {
		return domain, nil
	}
	s, err := e.expand(ctx, spec, domain, false)
	if err != nil {
		return "", err
	}
	s = truncateDomain(s)
	if !validTarget(s) {
		return "", permErr("invalid domain name %q", s)
	}
	return s, nil
}

// truncateDomain drops left-hand labels until the name fits in 253
// octets (RFC 7208 section 7.3).
func truncateDomain(s string) string {
	s = strings.TrimSuffix(s, ".")
	for len(s) > 253 {
		i := strings.IndexByte(s, '.')
		if i < 0 {
			break
		}
		s = s[i+1:]
	}
	return s
}

func validTarget(s string) bool {
	if s == "" || len(s) > 253 {
		return false
	}
	for label := range strings.SplitSeq(s, ".") {
		if len(label) == 0 || len(label) > 63 {
			return false
		}
	}
	return true
}

// expand performs macro expansion (RFC 7208 section 7).
func (e *evaluator) expand(ctx context.Context, s, domain string, expText bool) (string, error) {
	var b strings.Builder
	err := scanMacros(s, expText, func(l string) { b.WriteString(l) }, func(m macroRef) error {
		b.WriteString(m.transform(e.macroValue(ctx, m.letter, domain)))
		return nil
	})
	return b.String(), err
}

func (e *evaluator) macroValue(ctx context.Context, letter byte, domain string) string {
	switch letter {
	case 's':
		return e.sender
	case 'l':
		return e.local
	case 'o':
		return e.senderDomain
	case 'd':
		return domain
	case 'i':
		return ipMacro(e.ip)
	case 'p':
		return e.ptrMacro(ctx, domain)
	case 'v':
		if e.ip.Is4() {
			return "in-addr"
		}
		return "ip6"
	case 'h':
		return e.helo
	case 'c':
		return e.ip.String()
	case 'r':
		return e.c.opts.Receiver
	case 't':
		return strconv.FormatInt(e.c.opts.Now().Unix(), 10)
	}
	return ""
}

// explain computes the explanation of a fail (RFC 7208 section 6.2). Any
// problem with exp= falls back to the default explanation.
func (e *evaluator) explain(ctx context.Context, hr hostResult) string {
	if hr.expSpec != "" {
		if s, ok := e.expFromDNS(ctx, hr.expSpec, hr.expDomain); ok {
			return s
		}
	}
	s, err := e.expand(ctx, e.c.opts.DefaultExplanation, hr.expDomain, true)
	if err != nil {
		return DefaultExplanation
	}
	return s
}

func (e *evaluator) expFromDNS(ctx context.Context, spec, domain string) (string, bool) {
	name, err := e.expand(ctx, spec, domain, false)
	if err != nil {
		return "", false
	}
	name = truncateDomain(name)
	if !validTarget(name) {
		return "", false
	}
	txts, err := e.c.opts.Resolver.LookupTXT(ctx, name)
	if err != nil || len(txts) != 1 {
		return "", false
	}
	s, err := e.expand(ctx, txts[0], domain, true)
	if err != nil {
		return "", false
	}
	return s, true
}
