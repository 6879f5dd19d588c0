package config

import "time"

// Spamd serves SpamAssassin's spamc/spamd protocol next to the milter, so
// existing `spamc` pipes (procmail, maildrop, Exim, scripts) keep working
// against gomilter. It scores with the rule engine that milter.spam
// configures (rule_dirs, site_dir, local_cf, time_limit, bayes_path): one
// rule set for both, so a message scores the same either way.
type Spamd struct {
	// Enabled turns the spamd listener on (default false).
	Enabled bool `yaml:"enabled"`
	// Listen is where spamc connects: inet:127.0.0.1:783 (spamd's port,
	// the default) or unix:/path with owner, group and mode (spamc -U).
	Listen Listener `yaml:"listen"`
	// AllowedNetworks are the TCP clients served, as spamd's
	// --allowed-ips (default 127.0.0.1 and ::1); others are disconnected.
	// Unix-socket clients are governed by the socket's mode instead.
	AllowedNetworks []Prefix `yaml:"allowed_networks"`
	// AllowTell accepts TELL (spamc -L spam|ham) into milter.spam's Bayes
	// database, as spamd's --allow-tell; needs milter.spam.bayes_path.
	AllowTell bool `yaml:"allow_tell"`
	// MaxMessageSize is the largest message scored, in bytes (default
	// 512000, spamc's own -s default); larger ones get EX_DATAERR and
	// spamc passes them through unscored.
	MaxMessageSize int `yaml:"max_message_size"`
	// MaxConnections bounds concurrent clients (default 200); more are
	// disconnected, as spamd does beyond --max-children.
	MaxConnections int `yaml:"max_connections"`
	// Timeout bounds reading a request and writing its reply (default
	// 30s, spamd's --timeout-tcp).
	Timeout time.Duration `yaml:"timeout"`
}

// defaultSpamd is the spamd section when the file does not set one.
func defaultSpamd() Spamd {
	return Spamd{
		Listen:          Listener{Network: "tcp", Address: "127.0.0.1:783"},
		AllowedNetworks: []Prefix{mustPrefix("127.0.0.1"), mustPrefix("::1")},
		MaxMessageSize:  512000,
		MaxConnections:  200,
		Timeout:         30 * time.Second,
	}
}

// check validates the spamd section against the rest of the file.
func (s *Spamd) check(c *Config, bad func(key, format string, args ...any)) {
	if s.MaxMessageSize <= 0 {
		bad("spamd.max_message_size", "must be positive")
	}
	if s.MaxConnections <= 0 {
		bad("spamd.max_connections", "must be positive")
	}
	if s.Timeout <= 0 {
		bad("spamd.timeout", "must be positive")
	}
	if s.AllowTell && c.Milter.Spam.BayesPath == "" {
		bad("spamd.allow_tell", "needs milter.spam.bayes_path (TELL learns into that database)")
	}
	if s.Enabled && s.Listen.Network == "tcp" && len(s.AllowedNetworks) == 0 {
		// An empty list would serve no TCP client at all; say so rather
		// than start a listener nobody may use (or silently open it up).
		bad("spamd.allowed_networks", "empty: no TCP client could connect (list 0.0.0.0/0 and ::/0 to allow all)")
	}
}

// Validate checks c as Parse does, for configs built in code (a
// subcommand's flags over Default).
func (c *Config) Validate() error {
	if errs := c.validate(); len(errs) > 0 {
		return errs
	}
	return nil
}
