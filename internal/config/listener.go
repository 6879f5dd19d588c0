package config

import (
	"errors"
	"fmt"
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"
)

// Listener is a socket address in Postfix's notation, unix:/path or
// inet:host:port, so the same string appears in gomilter's config and in
// main.cf. Owner, Group and Mode apply to unix sockets only.
type Listener struct {
	Network string // "unix" or "tcp"
	Address string // path, or host:port
	Owner   string // user name or uid; empty = the process's
	Group   string // group name or gid; empty = the process's
	Mode    os.FileMode
}

func (l Listener) String() string {
	if l.IsZero() {
		return ""
	}
	if l.Network == "unix" {
		return "unix:" + l.Address
	}
	return "inet:" + l.Address
}

// IsZero reports whether no listener is configured.
func (l Listener) IsZero() bool { return l.Address == "" }

// ParseListener parses unix:/abs/path or inet:host:port.
func ParseListener(s string) (Listener, error) {
	kind, rest, ok := strings.Cut(s, ":")
	if !ok {
		return Listener{}, fmt.Errorf("%q: want unix:/path or inet:host:port", s)
	}
	switch kind {
	case "unix":
		if !filepath.IsAbs(rest) {
			return Listener{}, fmt.Errorf("%q: unix socket path must be absolute", s)
		}
		return Listener{Network: "unix", Address: filepath.Clean(rest), Mode: 0o660}, nil
	case "inet":
		host, port, err := net.SplitHostPort(rest)
		if err != nil {
			return Listener{}, fmt.Errorf("%q: %v", s, err)
		}
		if _, err := netip.ParseAddr(host); err != nil && host != "localhost" {
			return Listener{}, fmt.Errorf("%q: host must be an IP address (no DNS at start-up)", s)
		}
		if p, err := strconv.Atoi(port); err != nil || p < 0 || p > 65535 {
			return Listener{}, fmt.Errorf("%q: bad port", s)
		}
		return Listener{Network: "tcp", Address: rest}, nil
	}
	return Listener{}, fmt.Errorf("%q: unknown socket type %q (want unix or inet)", s, kind)
}

// unmarshalNode accepts either "unix:/path" or a mapping with address,
// owner, group and mode.
func (l *Listener) unmarshalNode(n *yaml.Node) error {
	if n.Kind == yaml.ScalarNode {
		if n.Value == "" {
			*l = Listener{} // explicitly off
			return nil
		}
		p, err := ParseListener(n.Value)
		if err != nil {
			return err
		}
		*l = p
		return nil
	}
	if n.Kind != yaml.MappingNode {
		return errors.New("expected unix:/path, inet:host:port, or a mapping with address/owner/group/mode")
	}
	var raw struct {
		Address, Owner, Group, Mode string
	}
	var errs []string
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i].Value, n.Content[i+1].Value
		switch k {
		case "address":
			raw.Address = v
		case "owner":
			raw.Owner = v
		case "group":
			raw.Group = v
		case "mode":
			raw.Mode = v
		default:
			errs = append(errs, fmt.Sprintf("unknown key %q (line %d)", k, n.Content[i].Line))
		}
	}
	if len(errs) > 0 {
		return errors.New(strings.Join(errs, "; "))
	}
	p, err := ParseListener(raw.Address)
	if err != nil {
		return err
	}
	p.Owner, p.Group = raw.Owner, raw.Group
	if raw.Mode != "" {
		m, err := strconv.ParseUint(raw.Mode, 8, 32)
		if err != nil || m > 0o777 {
			return fmt.Errorf("mode %q: want an octal permission such as 0660", raw.Mode)
		}
		p.Mode = os.FileMode(m)
	}
	if p.Network != "unix" && (p.Owner != "" || p.Group != "" || raw.Mode != "") {
		return errors.New("owner, group and mode apply to unix sockets only")
	}
	*l = p
	return nil
}
