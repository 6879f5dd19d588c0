// Package testenv decides what a test does when a real peer (a Debian
// binary, a running database) is missing: a developer's laptop may skip,
// CI (CI=true) must fail, so an integration test can never pass by not
// running.
package testenv

import (
	"net"
	"os"
	"os/exec"
	"testing"
	"time"
)

// InCI reports whether the test runs under CI (CI=true).
func InCI() bool { return os.Getenv("CI") == "true" }

// Missing fails the test under CI and skips it elsewhere.
func Missing(t testing.TB, format string, args ...any) {
	t.Helper()
	if InCI() {
		t.Fatalf("CI=true and a dependency is missing: "+format, args...)
	}
	t.Skipf("dependency missing: "+format, args...)
}

// LookPath returns the path of a binary, or fails/skips via Missing.
func LookPath(t testing.TB, name string) string {
	t.Helper()
	p, err := exec.LookPath(name)
	if err != nil {
		// Debian puts daemons in sbin, which a non-login PATH may lack.
		for _, dir := range []string{"/usr/sbin", "/sbin", "/usr/lib/postfix/sbin"} {
			if _, serr := os.Stat(dir + "/" + name); serr == nil {
				return dir + "/" + name
			}
		}
		Missing(t, "binary %s not found", name)
	}
	return p
}

// Service checks that a TCP service answers at addr (e.g. MariaDB on
// 127.0.0.1:3306), or fails/skips via Missing.
func Service(t testing.TB, addr string) {
	t.Helper()
	c, err := net.DialTimeout("tcp", addr, 2*time.Second)
	if err != nil {
		Missing(t, "service at %s: %v", addr, err)
		return
	}
	c.Close()
}

// SkipShort skips a slow test (one that starts a real peer or walks the
// corpus) under `go test -short`; CI never passes -short.
func SkipShort(t testing.TB, why string) {
	t.Helper()
	if testing.Short() {
		t.Skip("-short: " + why)
	}
}
