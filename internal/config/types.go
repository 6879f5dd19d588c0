package config

import (
	"fmt"
	"net/netip"
	"strings"

	"go.yaml.in/yaml/v3"
)

// Prefix is an IP network in CIDR notation; a bare address means a
// single host (/32 or /128), as in Postfix's mynetworks.
type Prefix struct{ netip.Prefix }

func (p *Prefix) unmarshalNode(n *yaml.Node) error {
	if n.Kind != yaml.ScalarNode {
		return fmt.Errorf("expected a network such as 192.0.2.0/24")
	}
	v, err := ParsePrefix(n.Value)
	if err != nil {
		return err
	}
	*p = v
	return nil
}

func (p Prefix) String() string { return p.Prefix.String() }

// ParsePrefix parses CIDR or a bare address.
func ParsePrefix(s string) (Prefix, error) {
	s = strings.TrimSpace(s)
	if strings.Contains(s, "/") {
		pf, err := netip.ParsePrefix(s)
		if err != nil {
			return Prefix{}, fmt.Errorf("%q: not a network in CIDR notation", s)
		}
		return Prefix{pf.Masked()}, nil
	}
	a, err := netip.ParseAddr(s)
	if err != nil {
		return Prefix{}, fmt.Errorf("%q: not an IP address or network", s)
	}
	return Prefix{netip.PrefixFrom(a, a.BitLen())}, nil
}

// Prefixes converts a config list to netip prefixes.
func Prefixes(ps []Prefix) []netip.Prefix {
	out := make([]netip.Prefix, len(ps))
	for i, p := range ps {
		out[i] = p.Prefix
	}
	return out
}
