package dkim

import (
	"fmt"
	"net/netip"
	"sort"
	"strings"
)

// HostList is an OpenDKIM PeerList-style set (used by InternalHosts,
// ExternalIgnoreList, the conventional TrustedHosts file): host names,
// ".domain" suffixes, IP addresses and CIDR prefixes, each optionally
// negated with "!". The most precise matching entry decides, names before
// addresses, as opendkim.conf(5) describes under PeerList.
type HostList struct {
	names    map[string]bool // exact host name -> negated
	domains  map[string]bool // ".example.com" -> negated
	prefixes []hostPrefix    // longest prefix first
}

type hostPrefix struct {
	p   netip.Prefix
	neg bool
}

// ParseHostList builds a HostList from entries such as "127.0.0.1",
// "::1", "10.0.0.0/8", "[192.0.2.1]", "mail.example.com", ".example.com",
// "!192.168.1.64". An entry that is neither an address, a prefix nor a
// plausible name is an error.
func ParseHostList(entries []string) (*HostList, error) {
	h := &HostList{names: map[string]bool{}, domains: map[string]bool{}}
	for _, e := range entries {
		if err := h.add(e); err != nil {
			return nil, err
		}
	}
	sort.SliceStable(h.prefixes, func(i, j int) bool {
		return h.prefixes[i].p.Bits() > h.prefixes[j].p.Bits()
	})
	return h, nil
}

func (h *HostList) add(e string) error {
	e = strings.TrimSpace(e)
	if e == "" || e == "-" {
		return nil // OpenDKIM configs use "-" for "nothing"
	}
	neg := strings.HasPrefix(e, "!")
	e = strings.TrimPrefix(e, "!")
	bare := strings.NewReplacer("[", "", "]", "").Replace(e)
	if p, err := netip.ParsePrefix(bare); err == nil {
		h.prefixes = append(h.prefixes, hostPrefix{unmapPrefix(p.Masked()), neg})
		return nil
	}
	if a, err := netip.ParseAddr(bare); err == nil {
		a = a.Unmap()
		h.prefixes = append(h.prefixes, hostPrefix{netip.PrefixFrom(a, a.BitLen()), neg})
		return nil
	}
	name := strings.ToLower(strings.TrimSuffix(e, "."))
	if !plausibleName(strings.TrimPrefix(name, ".")) {
		return fmt.Errorf("host list entry %q is not an address, prefix or host name", trimQ(e))
	}
	if strings.HasPrefix(name, ".") {
		h.domains[name] = neg
	} else {
		h.names[name] = neg
	}
	return nil
}

func unmapPrefix(p netip.Prefix) netip.Prefix {
	if p.Addr().Is4In6() && p.Bits() >= 96 {
		return netip.PrefixFrom(p.Addr().Unmap(), p.Bits()-96)
	}
	return p
}

func plausibleName(n string) bool {
	if n == "" || len(n) > 253 {
		return false
	}
	for i := 0; i < len(n); i++ {
		c := n[i]
		if !isAlpha(c) && !('0' <= c && c <= '9') && c != '-' && c != '.' && c != '_' {
			return false
		}
	}
	return true
}

// Match reports whether a client (address, and verified name if any) is
// in the list. A nil list matches nothing.
func (h *HostList) Match(addr netip.Addr, name string) bool {
	if h == nil {
		return false
	}
	name = strings.ToLower(strings.TrimSuffix(name, "."))
	if name != "" && name != "unknown" {
		if neg, ok := h.names[name]; ok {
			return !neg
		}
		for d := name; ; {
			dot := strings.IndexByte(d, '.')
			if dot < 0 {
				break
			}
			d = d[dot+1:]
			if neg, ok := h.domains["."+d]; ok {
				return !neg
			}
		}
	}
	if !addr.IsValid() {
		return false
	}
	addr = addr.Unmap()
	for _, p := range h.prefixes {
		if p.p.Contains(addr) {
			return !p.neg
		}
	}
	return false
}

// Len returns the number of entries.
func (h *HostList) Len() int {
	if h == nil {
		return 0
	}
	return len(h.names) + len(h.domains) + len(h.prefixes)
}
