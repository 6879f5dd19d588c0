package dkim

import (
	"context"
	"encoding/base64"
	"sync"
	"time"
)

// checkResult is the outcome of comparing a signing key with DNS.
type checkResult int

const (
	checkMatch    checkResult = iota // the record publishes this key
	checkMismatch                    // a record exists but holds another key
	checkMissing                     // no record (NXDOMAIN, no TXT, revoked)
	checkTemp                        // DNS failed for now; sign anyway
)

func (c checkResult) String() string {
	return [...]string{"match", "mismatch", "missing", "temperror"}[c]
}

// keyChecker caches publication checks per (record name, key) for TTL, so
// signing costs one TXT lookup per key and hour, not per message.
type keyChecker struct {
	r       TXTResolver
	ttl     time.Duration
	timeout time.Duration
	now     func() time.Time
	metrics *Metrics
	mu      sync.Mutex
	cache   map[string]checkEntry
}

type checkEntry struct {
	res     checkResult
	expires time.Time
}

func newKeyChecker(o *Options, m *Metrics) *keyChecker {
	now := o.Now
	if now == nil {
		now = time.Now
	}
	ttl := o.KeyCheckTTL
	if ttl <= 0 {
		ttl = time.Hour
	}
	timeout := time.Duration(o.DNSTimeoutSeconds) * time.Second
	if timeout <= 0 {
		timeout = 10 * time.Second
	}
	return &keyChecker{r: o.Resolver, ttl: ttl, timeout: timeout, now: now, metrics: m,
		cache: map[string]checkEntry{}}
}

func (c *keyChecker) check(ctx context.Context, domain, selector, pub string) checkResult {
	if c.r == nil {
		return checkTemp
	}
	name := selector + "._domainkey." + domain
	key := name + " " + pub
	c.mu.Lock()
	e, ok := c.cache[key]
	c.mu.Unlock()
	if ok && c.now().Before(e.expires) {
		return e.res
	}
	res := CheckPublished(ctx, c.r, c.timeout, name, pub)
	c.metrics.keyCheck(res.String())
	ttl := c.ttl
	if res == checkTemp {
		ttl = time.Minute // retry soon
	}
	c.mu.Lock()
	if len(c.cache) > 10000 {
		clear(c.cache)
	}
	c.cache[key] = checkEntry{res, c.now().Add(ttl)}
	c.mu.Unlock()
	return res
}

// CheckPublished looks name up and says whether one of its records
// publishes the public key pub (the p= base64 of PublicKeyData).
func CheckPublished(ctx context.Context, r TXTResolver, timeout time.Duration, name, pub string) checkResult {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	txts, err := r.LookupTXT(ctx, name)
	if err != nil {
		if isTemporary(err) {
			return checkTemp
		}
		return checkMissing
	}
	want, _ := base64.StdEncoding.DecodeString(pub)
	res := checkMissing
	for _, t := range txts {
		k, err := ParseKeyRecord(t)
		if err != nil {
			continue
		}
		got, _ := PublicKeyData(k.Public)
		g, _ := base64.StdEncoding.DecodeString(got)
		if string(g) == string(want) {
			return checkMatch
		}
		res = checkMismatch
	}
	return res
}

// KeyReport is what CheckKey found at <selector>._domainkey.<domain>.
type KeyReport struct {
	Name    string     // the queried name
	Status  string     // match, mismatch, missing, temperror, or "published" when no key was given
	Records []string   // the TXT records found
	Record  *KeyRecord // the first record that parsed, if any
	Problem string     // why a record did not parse
}

// CheckKey looks the key record up through r and, when pub is not nil,
// says whether it publishes pub (the "gomilter dkim check" command).
func CheckKey(ctx context.Context, r TXTResolver, selector, domain string, pub any) KeyReport {
	rep := KeyReport{Name: selector + "._domainkey." + domain}
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	txts, err := r.LookupTXT(ctx, rep.Name)
	rep.Records = txts
	switch {
	case err != nil && isTemporary(err):
		rep.Status, rep.Problem = checkTemp.String(), err.Error()
		return rep
	case err != nil || len(txts) == 0:
		rep.Status, rep.Problem = checkMissing.String(), "no TXT record"
		return rep
	}
	for _, t := range txts {
		k, err := ParseKeyRecord(t)
		if err != nil {
			rep.Problem = err.Error()
			continue
		}
		rep.Record, rep.Problem = k, ""
		break
	}
	if rep.Record == nil {
		rep.Status = checkMissing.String()
		return rep
	}
	if pub == nil {
		rep.Status = "published"
		return rep
	}
	want, err := PublicKeyData(pub)
	if err != nil {
		rep.Status, rep.Problem = checkMismatch.String(), err.Error()
		return rep
	}
	rep.Status = CheckPublished(ctx, r, 10*time.Second, rep.Name, want).String()
	return rep
}
