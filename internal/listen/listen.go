// Package listen opens the sockets named in the config: unix sockets with
// an explicit owner, group and mode (Postfix must be able to connect, no
// one else), and TCP sockets on loopback or any address.
package listen

import (
	"errors"
	"fmt"
	"net"
	"os"
	"os/user"
	"path/filepath"
	"strconv"
	"syscall"

	"github.com/gomilter/gomilter/internal/config"
)

// Open creates the listener described by l. For a unix socket it creates
// the parent directory (0755) when missing, removes a stale socket left by
// a crash (but refuses to remove anything that is not a socket, or a socket
// another process still answers on), then applies owner, group and mode.
func Open(l config.Listener) (net.Listener, error) {
	if l.Network != "unix" {
		return net.Listen("tcp", l.Address)
	}
	if err := os.MkdirAll(filepath.Dir(l.Address), 0o755); err != nil {
		return nil, fmt.Errorf("listen %s: %w", l, err)
	}
	if err := removeStale(l.Address); err != nil {
		return nil, fmt.Errorf("listen %s: %w", l, err)
	}
	// Create the socket with no permissions for others; chmod below opens
	// exactly what the config says, so there is no window where it is wider.
	old := syscall.Umask(0o177)
	ln, err := net.Listen("unix", l.Address)
	syscall.Umask(old)
	if err != nil {
		return nil, fmt.Errorf("listen %s: %w", l, err)
	}
	ln.(*net.UnixListener).SetUnlinkOnClose(true)
	if err := applyOwnership(l); err != nil {
		ln.Close()
		return nil, fmt.Errorf("listen %s: %w", l, err)
	}
	return ln, nil
}

func removeStale(path string) error {
	fi, err := os.Lstat(path)
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil {
		return err
	}
	if fi.Mode()&os.ModeSocket == 0 {
		return fmt.Errorf("%s exists and is not a socket; not removing it", path)
	}
	if c, err := net.Dial("unix", path); err == nil {
		c.Close()
		return fmt.Errorf("%s is in use by another process", path)
	}
	return os.Remove(path)
}

func applyOwnership(l config.Listener) error {
	uid, gid := -1, -1
	if l.Owner != "" {
		id, err := lookupID(l.Owner, func(n string) (string, error) {
			u, err := user.Lookup(n)
			if err != nil {
				return "", err
			}
			return u.Uid, nil
		})
		if err != nil {
			return fmt.Errorf("owner %q: %w", l.Owner, err)
		}
		uid = id
	}
	if l.Group != "" {
		id, err := lookupID(l.Group, func(n string) (string, error) {
			g, err := user.LookupGroup(n)
			if err != nil {
				return "", err
			}
			return g.Gid, nil
		})
		if err != nil {
			return fmt.Errorf("group %q: %w", l.Group, err)
		}
		gid = id
	}
	if uid != -1 || gid != -1 {
		if err := os.Lchown(l.Address, uid, gid); err != nil {
			return err
		}
	}
	mode := l.Mode
	if mode == 0 {
		mode = 0o660
	}
	return os.Chmod(l.Address, mode.Perm())
}

func lookupID(name string, byName func(string) (string, error)) (int, error) {
	if n, err := strconv.Atoi(name); err == nil {
		return n, nil
	}
	s, err := byName(name)
	if err != nil {
		return 0, err
	}
	return strconv.Atoi(s)
}
