package config

import (
	"fmt"
	"net"
	"path/filepath"
	"strings"
)

// validate checks what the types alone cannot, returning every problem.
func (c *Config) validate() Errors {
	var errs Errors
	bad := func(key, format string, args ...any) {
		errs = append(errs, &Error{File: c.file, Line: c.lines[key], Key: key, Msg: fmt.Sprintf(format, args...)})
	}
	switch c.Log.Format {
	case "logfmt", "json":
	default:
		bad("log.format", "%q: want logfmt or json", c.Log.Format)
	}
	switch strings.ToLower(c.Log.Level) {
	case "debug", "info", "warn", "error":
	default:
		bad("log.level", "%q: want debug, info, warn or error", c.Log.Level)
	}
	if c.HTTP.Listen != "" {
		if _, _, err := net.SplitHostPort(c.HTTP.Listen); err != nil {
			bad("http.listen", "%q: want host:port (%v)", c.HTTP.Listen, err)
		}
	}
	for i, s := range c.DNS.Servers {
		if _, _, err := net.SplitHostPort(s); err != nil {
			bad(fmt.Sprintf("dns.servers[%d]", i), "%q: want ip:port", s)
		}
	}
	if c.DNS.Timeout <= 0 {
		bad("dns.timeout", "must be positive")
	}
	if c.DNS.CacheSize < 0 {
		bad("dns.cache_size", "must not be negative")
	}
	if c.StateDir == "" || !filepath.IsAbs(c.StateDir) {
		bad("state_dir", "%q: want an absolute directory", c.StateDir)
	}
	if c.ShutdownTimeout <= 0 {
		bad("shutdown_timeout", "must be positive")
	}
	c.validateListeners(bad)
	if On(c.Auth.Enabled) && c.Auth.PasswdFile != "" && !filepath.IsAbs(c.Auth.PasswdFile) {
		bad("auth.passwd_file", "%q: want an absolute path", c.Auth.PasswdFile)
	}
	return errs
}

func (c *Config) validateListeners(bad func(key, format string, args ...any)) {
	type use struct {
		key string
		on  bool
		l   Listener
	}
	uses := []use{
		{"milter.listen", On(c.Milter.Enabled), c.Milter.Listen},
		{"policy.listen", On(c.Policy.Enabled), c.Policy.Listen},
		{"auth.listen", On(c.Auth.Enabled), c.Auth.Listen},
	}
	seen := map[string]string{}
	for _, u := range uses {
		if !u.on {
			continue
		}
		if u.l.IsZero() {
			bad(u.key, "required when the daemon is enabled")
			continue
		}
		if prev, dup := seen[u.l.String()]; dup {
			bad(u.key, "%s is already used by %s", u.l, prev)
		}
		seen[u.l.String()] = u.key
	}
}
