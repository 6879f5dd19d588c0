package dmarc

import (
	"context"
	"strings"
)

// align fills SPFAligned, DKIMAligned and DKIMDomain.
func (c *Config) align(ctx context.Context, r Resolver, res *Result, in In) error {
	orgs := orgCache{c: c, r: r, m: map[string]string{}}
	if strings.EqualFold(in.SPF.Result, "pass") {
		ok, err := orgs.aligned(ctx, res.FromDomain, normalize(in.SPF.Domain), res.Record.SPF)
		if err != nil {
			return err
		}
		res.SPFAligned = ok
	}
	for _, d := range in.DKIM {
		if !strings.EqualFold(d.Result, "pass") {
			continue
		}
		ok, err := orgs.aligned(ctx, res.FromDomain, normalize(d.Domain), res.Record.DKIM)
		if err != nil {
			return err
		}
		if ok {
			res.DKIMAligned, res.DKIMDomain = true, normalize(d.Domain)
			return nil
		}
	}
	return nil
}

// orgCache remembers organizational domains within one evaluation, so a
// message with several signatures walks each tree once.
type orgCache struct {
	c *Config
	r Resolver
	m map[string]string
}

func (o *orgCache) org(ctx context.Context, d string) (string, error) {
	if v, ok := o.m[d]; ok {
		return v, nil
	}
	v, err := o.c.OrgDomain(ctx, o.r, d)
	if err == nil {
		o.m[d] = v
	}
	return v, err
}

// aligned: strict = same name; relaxed = same organizational domain
// (RFC 9989 section 4.4). Names without a common suffix are never
// relaxed-aligned, so no DNS is spent on them.
func (o *orgCache) aligned(ctx context.Context, from, d string, mode Alignment) (bool, error) {
	if d == "" {
		return false, nil
	}
	if from == d {
		return true, nil
	}
	if mode == Strict || !(strings.HasSuffix(from, "."+d) || strings.HasSuffix(d, "."+from) || shareParent(from, d)) {
		return false, nil
	}
	a, err := o.org(ctx, from)
	if err != nil {
		return false, err
	}
	b, err := o.org(ctx, d)
	return err == nil && a == b, err
}

// shareParent reports whether a and b have a common ancestor of at least
// two labels (an org domain can only be such an ancestor, or one of them).
func shareParent(a, b string) bool {
	for p := parent(a); strings.Contains(p, "."); p = parent(p) {
		if strings.HasSuffix(b, "."+p) {
			return true
		}
	}
	return false
}
