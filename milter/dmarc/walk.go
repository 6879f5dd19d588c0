package dmarc

import (
	"context"
	"net"
	"net/netip"
	"strings"

	"golang.org/x/net/publicsuffix"

	"github.com/gomilter/gomilter/internal/dns"
)

// Resolver is the part of internal/dns the evaluation needs;
// *dns.Resolver implements it. Errors must wrap the internal/dns classes
// (dns.ErrNotFound, dns.ErrNoData, dns.ErrTemporary).
type Resolver interface {
	LookupTXT(ctx context.Context, name string) ([]string, error)
	LookupIP(ctx context.Context, name string) ([]netip.Addr, error)
	LookupMX(ctx context.Context, name string) ([]*net.MX, error)
}

// maxWalkLabels is the RFC 9989 section 4.10 shortcut: from a name with
// eight or more labels the walk jumps straight to its seven rightmost.
const maxWalkLabels = 7

// found is one DMARC record and where it was.
type found struct {
	rec    *Record
	domain string
}

// lookup fetches the DMARC record at _dmarc.<domain>. It returns nil with
// no error when there is none, or more than one (RFC 9989 section 4.10
// step 2: duplicates are all discarded), reporting dup in that case.
func lookup(ctx context.Context, r Resolver, domain string) (rec *Record, dup bool, err error) {
	txts, err := r.LookupTXT(ctx, "_dmarc."+domain)
	if err != nil {
		if dns.IsTemporary(err) {
			return nil, false, err
		}
		return nil, false, nil // NXDOMAIN, no data, invalid name: no record
	}
	var recs []*Record
	for _, t := range txts {
		if rec, err := Parse(t); err == nil {
			recs = append(recs, rec)
		}
	}
	if len(recs) != 1 {
		return nil, len(recs) > 1, nil
	}
	return recs[0], false, nil
}

// parent returns the next target of the tree walk, "" after the last label.
func parent(domain string) string {
	labels := strings.Split(domain, ".")
	if len(labels) > maxWalkLabels+1 {
		return strings.Join(labels[len(labels)-maxWalkLabels:], ".")
	}
	if len(labels) <= 1 {
		return ""
	}
	return strings.Join(labels[1:], ".")
}

// walk visits domain and its ancestors (RFC 9989 section 4.10), calling
// visit with each record found; visit returns true to stop the walk.
func walk(ctx context.Context, r Resolver, domain string, visit func(f found) bool) error {
	for d := domain; d != ""; d = parent(d) {
		rec, _, err := lookup(ctx, r, d)
		if err != nil {
			return err
		}
		if rec != nil && visit(found{rec, d}) {
			return nil
		}
	}
	return nil
}

// discover finds the policy record for the author domain: the first
// record met by the tree walk (RFC 9989 section 4.10.1), or in legacy
// mode the author domain then its PSL organizational domain only.
func (c *Config) discover(ctx context.Context, r Resolver, domain string) (found, error) {
	if c.Legacy {
		return c.discoverLegacy(ctx, r, domain)
	}
	var f found
	err := walk(ctx, r, domain, func(x found) bool { f = x; return true })
	return f, err
}

// discoverLegacy is RFC 7489 section 6.6.3: two queries at most, and
// duplicate records at the author domain end the discovery.
func (c *Config) discoverLegacy(ctx context.Context, r Resolver, domain string) (found, error) {
	rec, dup, err := lookup(ctx, r, domain)
	if err != nil || rec != nil || dup {
		return found{usable7489(rec), domain}, err
	}
	org := pslOrg(domain)
	if org == domain {
		return found{}, nil
	}
	rec, _, err = lookup(ctx, r, org)
	return found{usable7489(rec), org}, err
}

// usable7489: without a valid p= a record counts (as p=none) only when
// it asks for aggregate reports (RFC 7489 section 6.6.3 step 6).
func usable7489(rec *Record) *Record {
	if rec != nil && !rec.ValidP && len(MailtoAddrs(rec.RUA)) == 0 {
		return nil
	}
	return rec
}

// pslOrg is the RFC 7489 organizational domain: public suffix plus one
// label; a name that is itself a public suffix is its own.
func pslOrg(domain string) string {
	org, err := publicsuffix.EffectiveTLDPlusOne(domain)
	if err != nil {
		return domain
	}
	return org
}

// OrgDomain returns the organizational domain of domain (RFC 9989
// section 4.10.2): the walk stops at a record with psd=n (that domain)
// or psd=y (the name one label below it); otherwise the domain with the
// fewest labels that has a record wins, and without any record the
// domain is its own. In legacy mode it is the PSL answer, without DNS.
func (c *Config) OrgDomain(ctx context.Context, r Resolver, domain string) (string, error) {
	domain = normalize(domain)
	if c.Legacy {
		return pslOrg(domain), nil
	}
	org := domain
	err := walk(ctx, r, domain, func(f found) bool {
		switch f.rec.PSD {
		case 'n':
			org = f.domain
			return true
		case 'y':
			org = below(domain, f.domain)
			return true
		}
		org = f.domain // the walk climbs: the last record has fewest labels
		return false
	})
	return org, err
}

// below returns the ancestor of domain that has one more label than psd.
func below(domain, psd string) string {
	n := strings.Count(psd, ".") + 2
	labels := strings.Split(domain, ".")
	if len(labels) < n {
		return domain
	}
	return strings.Join(labels[len(labels)-n:], ".")
}

// normalize lowercases a domain and drops a trailing dot.
func normalize(d string) string {
	return strings.ToLower(strings.TrimSuffix(strings.TrimSpace(d), "."))
}
