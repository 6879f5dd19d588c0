package spam

import (
	"fmt"
	"net/netip"
	"regexp"
	"strconv"
	"strings"
)

// rblSubtest is the answer test of a DNSEval rule (check_rbl's third
// argument, check_rbl_sub's second), as Dns.pm's check_subtest applies it:
// a bit mask ("8"), an exact address ("127.0.0.2") or else a regex.
type rblSubtest struct {
	src   string
	re    Matcher
	mask  uint32
	exact string
}

var (
	subtestNumeric = regexp.MustCompile(`^\d+(?:\.\d+\.\d+\.\d+)?$`)
	loopbackAnswer = regexp.MustCompile(`^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$`)
)

// parseRBLSubtest parses a DNSEval subtest; "" means none (nil).
func parseRBLSubtest(s string) (*rblSubtest, error) {
	if s == "" {
		return nil, nil
	}
	if strings.HasPrefix(s, "sb:") {
		return nil, fmt.Errorf("SenderBase subtest %q is not supported (deprecated in SA)", s)
	}
	st := &rblSubtest{src: s}
	if !subtestNumeric.MatchString(s) {
		pat, flags := s, ""
		if s[0] == '/' || strings.HasPrefix(s, "m") && len(s) > 1 && !isAlnum(s[1]) {
			p, f, rest, err := splitRegex(s)
			if err == nil && rest == "" {
				pat, flags = p, f
			}
		}
		re, _, err := CompilePerl(pat, flags)
		if err != nil {
			return nil, fmt.Errorf("subtest %q: %w", s, err)
		}
		st.re = re
		return st, nil
	}
	if !strings.Contains(s, ".") {
		v, err := strconv.ParseUint(s, 10, 32)
		if err != nil {
			return nil, fmt.Errorf("subtest %q: bad bit mask", s)
		}
		st.mask = uint32(v)
		return st, nil
	}
	st.exact = s
	return st, nil
}

// match reports whether one answer (an A record's address or a TXT
// record's text) passes the subtest.
func (st *rblSubtest) match(val string) bool {
	switch {
	case st.re != nil:
		return st.re.Match(newText(val))
	case st.exact != "":
		return val == st.exact
	}
	// A bit mask only applies to answers in 127.0.0.0/8 (SA bug 6803).
	n, ok := inetAton(val)
	return ok && loopbackAnswer.MatchString(val) && n&st.mask != 0
}

// inetAton converts a dotted quad to its 32-bit value.
func inetAton(s string) (uint32, bool) {
	a, err := netip.ParseAddr(s)
	if err != nil || !a.Is4() {
		return 0, false
	}
	b := a.As4()
	return uint32(b[0])<<24 | uint32(b[1])<<16 | uint32(b[2])<<8 | uint32(b[3]), true
}

// uriSubtest is a URIDNSBL subtest in URIDNSBL's canonical form: a mask
// ("8"), a range ("127.0.1.2" is 127.0.1.2-127.0.1.2) or value/mask.
type uriSubtest struct {
	canon  string
	op     byte // 0 mask, '-' range, '/' value/mask
	n1, n2 uint64
}

var uriSubtestRe = regexp.MustCompile(`^([^/-]+)(?:([/-])(.+))?$`)

// parseURISubtest follows URIDNSBL's parse_and_canonicalize_subtest:
// each number is decimal, 0x-hex or a dotted quad.
func parseURISubtest(s string) (*uriSubtest, error) {
	mm := uriSubtestRe.FindStringSubmatch(strings.TrimSpace(s))
	if mm == nil {
		return nil, fmt.Errorf("bad subtest %q", s)
	}
	n1, quad1, ok1 := uriSubtestNum(mm[1])
	if !ok1 {
		return nil, fmt.Errorf("bad subtest %q", s)
	}
	st := &uriSubtest{n1: n1, op: 0}
	if mm[2] == "" {
		if quad1 {
			st.op, st.n2 = '-', n1
		}
	} else {
		n2, _, ok2 := uriSubtestNum(mm[3])
		if !ok2 {
			return nil, fmt.Errorf("bad subtest %q", s)
		}
		st.op, st.n2 = mm[2][0], n2
	}
	st.canon = strconv.FormatUint(st.n1, 10)
	if st.op != 0 {
		st.canon += string(st.op) + strconv.FormatUint(st.n2, 10)
	}
	return st, nil
}

var decimal10 = regexp.MustCompile(`^\d{1,10}$`)
var hex8 = regexp.MustCompile(`^0x[0-9a-fA-F]{1,8}$`)

func uriSubtestNum(s string) (v uint64, quad, ok bool) {
	switch {
	case decimal10.MatchString(s):
		v, err := strconv.ParseUint(s, 10, 64)
		return v, false, err == nil
	case hex8.MatchString(s):
		v, err := strconv.ParseUint(s[2:], 16, 64)
		return v, false, err == nil
	}
	if n, ok := inetAton(s); ok && strings.Count(s, ".") == 3 {
		return uint64(n), true, true
	}
	return 0, false, false
}

// match applies URIDNSBL's complete_dnsbl_lookup test to one answer.
func (st *uriSubtest) match(val string) bool {
	if st == nil {
		return true
	}
	if val == st.canon {
		return true
	}
	n32, _ := inetAton(val) // a TXT answer counts as 0, as in Perl
	n := uint64(n32)
	switch st.op {
	case '-':
		return st.n1 <= n && n <= st.n2
	case '/':
		return n&st.n2 == st.n1&st.n2
	}
	return n&st.n1 != 0 && n&0xff000000 == 0x7f000000
}

// refusal classifies an answer that is not a listing although it is in
// 127.0.0.0/8: the blocklist refused the query (the zone then rests for
// dns_block_time) or reported an error about it.
type refusal int

const (
	notRefused refusal = iota
	refusedQuery
	queryError
)

// builtinRefusal knows the return codes the big blocklists document for
// refused or bad queries, so that they are never taken for listings even
// with a local.cf that lacks SA's dns_block_rule lines.
func builtinRefusal(zone string, a netip.Addr) refusal {
	if !a.Is4() {
		return notRefused
	}
	b := a.As4()
	under := func(d string) bool { return zone == d || strings.HasSuffix(zone, "."+d) }
	switch {
	case under("spamhaus.org") || under("spamhaus.net"):
		// https://www.spamhaus.org/faqs/domain-blocklist/#291: 127.255.255.0/24
		// are errors (252 typo, 254 open resolver, 255 excessive queries).
		if b[1] == 255 && b[2] == 255 {
			return refusedQuery
		}
		if b[1] == 0 && b[2] == 1 && b[3] == 255 { // DBL: "IP queries prohibited"
			return queryError
		}
	case under("uribl.com") || under("surbl.org"):
		if b == [4]byte{127, 0, 0, 1} { // query refused / access blocked
			return refusedQuery
		}
	case under("dnswl.org"):
		if b[1] == 0 && b[3] == 255 { // "127.0.x.255": too many queries
			return refusedQuery
		}
	}
	return notRefused
}
