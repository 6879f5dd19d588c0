package dns

import (
	"context"
	"fmt"
	"strings"
	"time"

	mdns "github.com/miekg/dns"
)

// maxCNAMEChain bounds how many CNAMEs are followed for one lookup.
const maxCNAMEChain = 8

// query returns the records of qtype for name, following CNAMEs, from the
// cache or the network. Its errors are *Error.
func (r *Resolver) query(ctx context.Context, name string, qtype uint16) ([]mdns.RR, error) {
	fqdn, ok := canonical(name)
	if !ok {
		// An invalid name cannot exist: callers treat it as NXDOMAIN.
		return nil, &Error{Name: name, Type: typeName(qtype), Kind: ErrNotFound, Cause: ErrInvalidName}
	}
	k := cacheKey{name: fqdn, qtype: qtype}
	if a, ok := r.cache.get(k, r.now()); ok {
		r.metrics.cacheHits.Inc()
		return a.result(k)
	}
	a, err := r.flights.do(ctx, k, func(ctx context.Context) (answer, error) {
		// A flight that finished between our cache miss and now has
		// filled the cache (it stores before it leaves the flight map).
		if a, ok := r.cache.get(k, r.now()); ok {
			r.metrics.cacheHits.Inc()
			return a, nil
		}
		return r.resolve(ctx, k)
	})
	if err != nil {
		return nil, &Error{Name: fqdn, Type: typeName(qtype), Kind: ErrTemporary, Cause: err}
	}
	return a.result(k)
}

// result turns a (possibly cached) answer into the lookup result.
func (a answer) result(k cacheKey) ([]mdns.RR, error) {
	if a.kind != nil {
		return nil, &Error{Name: k.name, Type: typeName(k.qtype), Kind: a.kind}
	}
	return a.rrs, nil
}

// resolve asks upstream, records metrics and caches permanent answers.
func (r *Resolver) resolve(ctx context.Context, k cacheKey) (answer, error) {
	start := time.Now()
	a, err := r.resolveChain(ctx, k)
	r.metrics.duration.Observe(time.Since(start).Seconds())
	res := err
	if res == nil {
		res = a.kind
	}
	r.metrics.queries.WithLabelValues(typeName(k.qtype), resultLabel(res)).Inc()
	if err == nil {
		r.cache.put(k, a, r.now())
	}
	return a, err
}

// resolveChain queries k.name and, when a CNAME chain in the answer ends
// without data and without a negative-answer SOA (the server did not chase
// it), queries the chain's target, at most maxCNAMEChain names in all.
func (r *Resolver) resolveChain(ctx context.Context, k cacheKey) (answer, error) {
	name := k.name
	ttl := maxPositiveTTL
	for range maxCNAMEChain {
		resp, err := r.exchange(ctx, newQuery(name, k.qtype))
		if err != nil {
			return answer{}, err
		}
		rrs, final, chainTTL := followChain(resp, name, k.qtype)
		ttl = min(ttl, chainTTL)
		if len(rrs) > 0 {
			return answer{rrs: rrs, ttl: ttl}, nil
		}
		neg, hasSOA := negativeTTL(resp)
		if final == name || hasSOA || resp.Rcode == mdns.RcodeNameError {
			kind := ErrNoData
			if resp.Rcode == mdns.RcodeNameError {
				kind = ErrNotFound
			}
			return answer{kind: kind, ttl: min(ttl, neg)}, nil
		}
		name = final
	}
	return answer{}, fmt.Errorf("CNAME chain longer than %d", maxCNAMEChain)
}

// newQuery builds a recursive query with an EDNS0 OPT record.
func newQuery(name string, qtype uint16) *mdns.Msg {
	m := new(mdns.Msg)
	m.SetQuestion(name, qtype)
	m.RecursionDesired = true
	m.SetEdns0(EDNSBufferSize, false)
	return m
}

// followChain walks the CNAME chain in resp's answer section from name and
// returns the records of qtype at its end, the final owner name and the
// smallest TTL seen along the way.
func followChain(resp *mdns.Msg, name string, qtype uint16) ([]mdns.RR, string, time.Duration) {
	ttl := maxPositiveTTL
	cur := name
	for range maxCNAMEChain + 1 {
		var out []mdns.RR
		next := ""
		for _, rr := range resp.Answer {
			h := rr.Header()
			if h.Class != mdns.ClassINET || !strings.EqualFold(h.Name, cur) {
				continue
			}
			if h.Rrtype == qtype {
				out = append(out, rr)
				ttl = min(ttl, seconds(h.Ttl))
			} else if cn, ok := rr.(*mdns.CNAME); ok && next == "" {
				next = strings.ToLower(cn.Target)
				ttl = min(ttl, seconds(h.Ttl))
			}
		}
		if len(out) > 0 || next == "" {
			return out, cur, ttl
		}
		cur = next
	}
	return nil, cur, ttl
}

// negativeTTL returns how long a negative answer may be cached (RFC 2308
// section 5: the smaller of the SOA's TTL and MINIMUM field) and whether
// the authority section had a SOA at all. Without one, the answer is not
// cached.
func negativeTTL(resp *mdns.Msg) (time.Duration, bool) {
	for _, rr := range resp.Ns {
		if soa, ok := rr.(*mdns.SOA); ok {
			return min(seconds(soa.Hdr.Ttl), seconds(soa.Minttl), maxNegativeTTL), true
		}
	}
	return 0, false
}

func seconds(s uint32) time.Duration { return time.Duration(s) * time.Second }
