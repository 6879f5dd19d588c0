package dovecotauth

import (
	"crypto/sha256"
	"net/netip"
	"sync"
	"time"
)

// penaltyTable tracks recent failures per remote IP (IPv6 per /64) and per
// user, like Dovecot's anvil auth penalty: the n-th consecutive failure
// delays the next request by init*2^(n-1), capped at max. Repeating the
// same wrong password does not raise the count (a misconfigured client is
// not an attacker). Success clears both keys.
type penaltyTable struct {
	init, max, ttl time.Duration
	trusted        []netip.Prefix
	mu             sync.Mutex
	m              map[string]*penaltyEntry
	lastSweep      time.Time
}

type penaltyEntry struct {
	count   int
	last    time.Time
	lastPwd [8]byte
}

const maxPenaltyEntries = 100000

func newPenaltyTable(init, max, ttl time.Duration, trusted []netip.Prefix) *penaltyTable {
	return &penaltyTable{init: init, max: max, ttl: ttl, trusted: trusted, m: map[string]*penaltyEntry{}}
}

// ipKey groups IPv6 addresses by /64; it returns "" for trusted or unknown
// addresses (no penalty).
func (p *penaltyTable) ipKey(ip netip.Addr) string {
	if !ip.IsValid() {
		return ""
	}
	ip = ip.Unmap()
	for _, n := range p.trusted {
		if n.Contains(ip) {
			return ""
		}
	}
	if ip.Is6() {
		pfx, _ := ip.Prefix(64)
		return "ip:" + pfx.String()
	}
	return "ip:" + ip.String()
}

func (p *penaltyTable) keys(ip netip.Addr, user string) []string {
	var ks []string
	if k := p.ipKey(ip); k != "" {
		ks = append(ks, k)
		if user != "" {
			ks = append(ks, "user:"+user)
		}
	}
	return ks
}

// delay is the penalty due before a request from ip for user ("" = not
// known yet).
func (p *penaltyTable) delay(ip netip.Addr, user string) time.Duration {
	now := time.Now()
	p.mu.Lock()
	defer p.mu.Unlock()
	var d time.Duration
	for _, k := range p.keys(ip, user) {
		e := p.m[k]
		if e == nil || e.count == 0 || now.Sub(e.last) > p.ttl {
			continue
		}
		d = max(d, p.penaltyFor(e.count))
	}
	return d
}

func (p *penaltyTable) penaltyFor(n int) time.Duration {
	d := p.init
	for i := 1; i < n && d < p.max; i++ {
		d *= 2
	}
	return min(d, p.max)
}

func (p *penaltyTable) fail(ip netip.Addr, user, password string) {
	now := time.Now()
	pw := sha256.Sum256([]byte(user + "\x00" + password))
	var tag [8]byte
	copy(tag[:], pw[:])
	p.mu.Lock()
	defer p.mu.Unlock()
	p.sweep(now)
	for _, k := range p.keys(ip, user) {
		e := p.m[k]
		if e == nil {
			e = &penaltyEntry{}
			p.m[k] = e
		}
		if now.Sub(e.last) > p.ttl {
			e.count = 0
		}
		if e.count == 0 || e.lastPwd != tag {
			e.count++
		}
		e.last, e.lastPwd = now, tag
	}
}

func (p *penaltyTable) success(ip netip.Addr, user string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, k := range p.keys(ip, user) {
		delete(p.m, k)
	}
}

// sweep bounds memory: expired entries go once a minute, and a full table
// is cleared rather than grown without limit.
func (p *penaltyTable) sweep(now time.Time) {
	if now.Sub(p.lastSweep) < time.Minute && len(p.m) < maxPenaltyEntries {
		return
	}
	p.lastSweep = now
	for k, e := range p.m {
		if now.Sub(e.last) > p.ttl || len(p.m) >= maxPenaltyEntries {
			delete(p.m, k)
		}
	}
}
