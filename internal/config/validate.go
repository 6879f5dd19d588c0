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
	if c.Milter.MaxMessageSize <= 0 {
		bad("milter.max_message_size", "must be positive")
	}
	if c.Milter.DKIM.OpenDKIMConf != "" && !filepath.IsAbs(c.Milter.DKIM.OpenDKIMConf) {
		bad("milter.dkim.opendkim_conf", "%q: want an absolute path", c.Milter.DKIM.OpenDKIMConf)
	}
	if m := c.Milter.DMARC.Mode; m != "bis" && m != "rfc7489" {
		bad("milter.dmarc.mode", "%q: want bis or rfc7489", m)
	}
	if seal := c.Milter.ARC.Seal; seal.Domain != "" && (seal.Selector == "" || !filepath.IsAbs(seal.KeyFile)) {
		bad("milter.arc.seal", "domain needs a selector and an absolute key_file")
	}
	if c.ShutdownTimeout <= 0 {
		bad("shutdown_timeout", "must be positive")
	}
	c.validateListeners(bad)
	c.LMTP.check(bad)
	c.Spamd.check(c, bad)
	for _, kl := range []struct {
		key  string
		list []string
	}{{"policy.spf.reject_on", c.Policy.SPF.RejectOn}, {"policy.spf.defer_on", c.Policy.SPF.DeferOn}} {
		key := kl.key
		for _, r := range kl.list {
			switch strings.ToLower(r) {
			case "none", "neutral", "pass", "fail", "softfail", "temperror", "permerror":
			default:
				bad(key, "%q is not an SPF result (none, neutral, pass, fail, softfail, temperror, permerror)", r)
			}
		}
	}
	if On(c.Auth.Enabled) && c.Auth.PasswdFile != "" && !filepath.IsAbs(c.Auth.PasswdFile) {
		bad("auth.passwd_file", "%q: want an absolute path", c.Auth.PasswdFile)
	}
	if c.Auth.SQLConf != "" && !filepath.IsAbs(c.Auth.SQLConf) {
		bad("auth.sql_conf", "%q: want an absolute path", c.Auth.SQLConf)
	}
	if On(c.Auth.Enabled) && c.Auth.SQLConf == "" && c.Auth.PasswdFile == "" {
		bad("auth.passwd_file", "set passwd_file or sql_conf")
	}
	for i, m := range c.Auth.Mechanisms {
		switch strings.ToUpper(m) {
		case "PLAIN", "LOGIN", "CRAM-MD5", "SCRAM-SHA-1", "SCRAM-SHA-256":
		default:
			bad(fmt.Sprintf("auth.mechanisms[%d]", i), "%q: want PLAIN, LOGIN, CRAM-MD5, SCRAM-SHA-1 or SCRAM-SHA-256", m)
		}
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
	uses = append(uses, use{"lmtp.listen", c.LMTP.Enabled, c.LMTP.Listen})
	uses = append(uses, use{"spamd.listen", c.Spamd.Enabled, c.Spamd.Listen})
	if !c.Auth.UserdbListen.IsZero() {
		uses = append(uses, use{"auth.userdb_listen", On(c.Auth.Enabled), c.Auth.UserdbListen})
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
