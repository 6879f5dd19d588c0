package dns

import (
	"bufio"
	"errors"
	"io"
	"net"
	"net/netip"
	"os"
	"strings"
)

// ResolvConfPath is the file New reads when Options.Servers is empty.
const ResolvConfPath = "/etc/resolv.conf"

// maxResolvConf bounds how much of a resolv.conf is read.
const maxResolvConf = 64 << 10

// ErrNoServers is returned by New when no name server is configured.
var ErrNoServers = errors.New("dns: no name servers configured")

// ParseResolvConf returns the "nameserver" entries of a resolv.conf(5) file
// as host:port with port 53, in file order. Other keywords are ignored, as
// are malformed addresses (the C library ignores them too). At most the
// first 64 KiB are read.
func ParseResolvConf(r io.Reader) ([]string, error) {
	var servers []string
	sc := bufio.NewScanner(io.LimitReader(r, maxResolvConf))
	sc.Buffer(make([]byte, 0, 4096), maxResolvConf)
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		if len(f) < 2 || f[0] != "nameserver" {
			continue
		}
		// An IPv6 link-local address may carry a zone: fe80::1%eth0.
		addr, err := netip.ParseAddr(f[1])
		if err != nil {
			continue
		}
		servers = append(servers, net.JoinHostPort(addr.String(), "53"))
	}
	return servers, sc.Err()
}

// systemServers reads ResolvConfPath.
func systemServers() ([]string, error) {
	f, err := os.Open(ResolvConfPath)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return ParseResolvConf(f)
}
