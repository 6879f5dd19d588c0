// Package config is gomilter's only configuration package: one YAML file,
// decoded strictly into typed structs. Unknown and duplicate keys are
// errors, and every error of a file is reported at once as
// file:line: key: problem.
package config

import (
	"fmt"
	"os"
	"path/filepath"
	"time"
)

// Config is the whole file. Each section documents its keys next to the
// field; contrib/gomilter.yaml shows every key with a comment, and a test
// parses it.
type Config struct {
	// Log: how gomilter logs (to stderr).
	Log Log `yaml:"log"`
	// HTTP serves /metrics, /healthz and /readyz.
	HTTP HTTP `yaml:"http"`
	// DNS is the one resolver every piece uses.
	DNS DNS `yaml:"dns"`
	// StateDir holds the embedded on-disk store (greylisting, DMARC
	// report data, Bayes...). Created 0750 if missing.
	StateDir string `yaml:"state_dir"`
	// ShutdownTimeout bounds how long SIGTERM waits for open connections
	// to finish before closing them.
	ShutdownTimeout time.Duration `yaml:"shutdown_timeout"`

	Milter Milter `yaml:"milter"`
	Policy Policy `yaml:"policy"`
	Auth   Auth   `yaml:"auth"`
	LMTP   LMTP   `yaml:"lmtp"`
	// Spamd answers spamc with milter.spam's rule engine (see spamd.go).
	Spamd Spamd `yaml:"spamd"`

	// file is the path the config came from ("" for the embedded default).
	file  string
	lines map[string]int
}

// Log selects the log format and level.
type Log struct {
	// Format is logfmt (default) or json.
	Format string `yaml:"format"`
	// Level is debug, info (default), warn or error.
	Level string `yaml:"level"`
}

// HTTP is the observability listener.
type HTTP struct {
	// Listen is host:port for /metrics, /healthz and /readyz; "" disables.
	Listen string `yaml:"listen"`
}

// DNS configures the shared resolver.
type DNS struct {
	// Servers are host:port of recursive resolvers; empty = /etc/resolv.conf.
	Servers []string `yaml:"servers"`
	// Timeout per query.
	Timeout time.Duration `yaml:"timeout"`
	// CacheSize is the number of cached answers; 0 = default.
	CacheSize int `yaml:"cache_size"`
}

// Milter is the milter daemon (smtpd_milters / non_smtpd_milters).
type Milter struct {
	// Enabled turns the milter on (default true).
	Enabled *bool `yaml:"enabled"`
	// Listen is the socket Postfix's smtpd_milters points at.
	Listen Listener `yaml:"listen"`
	// AuthservID names this host in Authentication-Results headers;
	// default: the host name.
	AuthservID string `yaml:"authserv_id"`
	// MaxMessageSize: larger messages pass unchecked (logged); default 64 MiB.
	MaxMessageSize int `yaml:"max_message_size"`
	// InternalNetworks are clients whose mail is ours, not judged by
	// SPF, ARC and DMARC (authenticated and local submissions never are).
	InternalNetworks []Prefix `yaml:"internal_networks"`
	// DKIM signs and verifies like OpenDKIM.
	DKIM MilterDKIM `yaml:"dkim"`
	// SPF checks the sender for Authentication-Results and DMARC.
	SPF Toggle `yaml:"spf"`
	// ARC verifies chains, and seals when seal is configured.
	ARC MilterARC `yaml:"arc"`
	// DMARC applies the From: domain's policy, like OpenDMARC.
	DMARC MilterDMARC `yaml:"dmarc"`
	// Spam scores mail with SpamAssassin's rules and headers.
	Spam MilterSpam `yaml:"spam"`
}

// MilterSpam configures spam scoring (spamass-milter / spamc replacement).
type MilterSpam struct {
	// Enabled turns scoring on (default false: loading the rules takes a
	// moment and needs Debian's spamassassin rule files).
	Enabled bool `yaml:"enabled"`
	// RuleDirs hold SpamAssassin's distribution rules (*.cf).
	RuleDirs []string `yaml:"rule_dirs"`
	// SiteDir holds *.pre and local.cf.
	SiteDir string `yaml:"site_dir"`
	// LocalCF is one more file read last.
	LocalCF string `yaml:"local_cf"`
	// RejectScore refuses mail scoring at least this (550 5.7.1); 0 = never.
	RejectScore float64 `yaml:"reject_score"`
	// QuarantineScore holds mail scoring at least this; 0 = never.
	QuarantineScore float64 `yaml:"quarantine_score"`
	// CheckAuthenticated also scores authenticated, local and internal mail.
	CheckAuthenticated bool `yaml:"check_authenticated"`
	// TimeLimit bounds the rule work per message (SpamAssassin's
	// time_limit); a message that hits it is tagged but never rejected.
	TimeLimit time.Duration `yaml:"time_limit"`
	// BayesPath is the Bayes token database (bbolt, created if missing);
	// "" turns the BAYES_* rules off. Train it with `gomilter spam learn -store PATH`.
	BayesPath string `yaml:"bayes_path"`
	// NetworkTests runs SpamAssassin's DNS blocklist rules (RCVD_IN_*,
	// URIBL_*) through the shared resolver (dns:) and scores with SA's
	// network score sets; off like spamassassin -L by default. Public
	// blocklists refuse queries relayed by big public resolvers.
	NetworkTests bool `yaml:"network_tests"`
}

// Toggle is a section with only an on/off switch.
type Toggle struct {
	// Enabled turns the check on (default true).
	Enabled *bool `yaml:"enabled"`
}

// MilterARC configures ARC (RFC 8617).
type MilterARC struct {
	// Enabled turns ARC verification on (default true).
	Enabled *bool `yaml:"enabled"`
	// Seal, when domain is set, adds our ARC set to every message (for
	// forwarders and mailing lists).
	Seal ARCSeal `yaml:"seal"`
}

// ARCSeal names the key gomilter seals with.
type ARCSeal struct {
	Domain   string `yaml:"domain"`
	Selector string `yaml:"selector"`
	// KeyFile is a PEM private key (RSA or Ed25519), as for DKIM.
	KeyFile string `yaml:"key_file"`
}

// MilterDMARC configures DMARC evaluation and local policy.
type MilterDMARC struct {
	// Enabled turns DMARC on (default true).
	Enabled *bool `yaml:"enabled"`
	// Mode is bis (RFC 9989 tree walk, default) or rfc7489 (PSL, pct=).
	Mode string `yaml:"mode"`
	// ReportOnly never acts on p=; results still go into the header and
	// the report store.
	ReportOnly bool `yaml:"report_only"`
	// RejectAsQuarantine holds (Postfix hold queue) instead of rejecting.
	RejectAsQuarantine bool `yaml:"reject_as_quarantine"`
	// NeverReject lists From: domains never rejected or held.
	NeverReject []string `yaml:"never_reject"`
	// TrustedARCSealers: a passing ARC chain sealed by one of these
	// overrides a DMARC failure (forwarders, mailing lists).
	TrustedARCSealers []string `yaml:"trusted_arc_sealers"`
	// TrustedForwarders are client networks whose DMARC failures are
	// overridden as forwarded mail.
	TrustedForwarders []Prefix `yaml:"trusted_forwarders"`
	// Reports records every evaluated message in state_dir/dmarc.db for
	// `gomilter dmarc report` (aggregate reports).
	Reports bool `yaml:"reports"`
}

// MilterDKIM configures DKIM signing and verification.
type MilterDKIM struct {
	// Enabled turns DKIM on (default true: verify-only without a conf).
	Enabled *bool `yaml:"enabled"`
	// OpenDKIMConf is an existing opendkim.conf (Mode, Domain, Selector,
	// KeyFile, KeyTable, SigningTable with refile:, InternalHosts,
	// Canonicalization, OversignHeaders, On-*...), read as it is: pointing
	// this at /etc/opendkim.conf is the whole migration. Its Socket is
	// ignored (gomilter listens on milter.listen). Empty: verify only.
	OpenDKIMConf string `yaml:"opendkim_conf"`
}

// Policy is the Postfix policy delegation daemon (check_policy_service).
type Policy struct {
	// Enabled turns the policy daemon on (default true).
	Enabled *bool `yaml:"enabled"`
	// Listen is the socket check_policy_service points at.
	Listen Listener `yaml:"listen"`
	// SPF is the policyd-spf replacement: SPF at RCPT time.
	SPF PolicySPF `yaml:"spf"`
}

// PolicySPF configures the SPF check of the policy daemon.
type PolicySPF struct {
	// Enabled turns the check on (default true).
	Enabled *bool `yaml:"enabled"`
	// Receiver names this host in Received-SPF; default: the host name.
	Receiver string `yaml:"receiver"`
	// RejectOn: MAIL FROM results answered with 550 5.7.23 (default [fail]).
	RejectOn []string `yaml:"reject_on"`
	// DeferOn: results answered with DEFER_IF_PERMIT (default [temperror]).
	DeferOn []string `yaml:"defer_on"`
	// HeloCheck also checks the HELO identity (policyd-spf HELO_reject).
	HeloCheck bool `yaml:"helo_check"`
	// CheckAuthenticated also checks SASL-authenticated senders.
	CheckAuthenticated bool `yaml:"check_authenticated"`
	// InternalNetworks are never checked (default 127.0.0.0/8, ::1).
	InternalNetworks []Prefix `yaml:"internal_networks"`
	// WhitelistNetworks: client networks never checked.
	WhitelistNetworks []Prefix `yaml:"whitelist_networks"`
	// WhitelistDomains: sender domains (and subdomains) never checked.
	WhitelistDomains []string `yaml:"whitelist_domains"`
}

// Auth is the Dovecot-protocol SASL daemon (smtpd_sasl_type = dovecot).
type Auth struct {
	// Enabled turns the auth daemon on (default true).
	Enabled *bool `yaml:"enabled"`
	// Listen is the socket smtpd_sasl_path points at.
	Listen Listener `yaml:"listen"`
	// UserdbListen, if set, also serves Dovecot's auth-userdb protocol
	// (USER/PASS/LIST lookups) for Dovecot's LMTP or doveadm.
	UserdbListen Listener `yaml:"userdb_listen"`
	// PasswdFile is a Dovecot-style passwd-file (user:{SCHEME}hash:...),
	// used when SQLConf is empty. A missing file logs a warning and every
	// login fails until it exists and gomilter gets SIGHUP.
	PasswdFile string `yaml:"passwd_file"`
	// SQLConf is an existing dovecot-sql.conf.ext (driver, connect,
	// default_pass_scheme, password_query, user_query), read as it is.
	SQLConf string `yaml:"sql_conf"`
	// DefaultPassScheme applies to passwd-file entries without {SCHEME}.
	DefaultPassScheme string `yaml:"default_pass_scheme"`
	// Mechanisms offered to Postfix (PLAIN and LOGIN by default; CRAM-MD5
	// and SCRAM-SHA-1/-256 only if every stored password can serve them).
	Mechanisms []string `yaml:"mechanisms"`
	// FailureDelay holds back each failure (Dovecot auth_failure_delay).
	FailureDelay time.Duration `yaml:"failure_delay"`
	// CacheTTL caches SQL lookups, positive and negative (0 = off).
	CacheTTL time.Duration `yaml:"cache_ttl"`
	// VerifyCacheTTL remembers verified (user, password) pairs as keyed
	// hashes so repeated logins skip the slow hash (0 = off).
	VerifyCacheTTL time.Duration `yaml:"verify_cache_ttl"`
	// TrustedNetworks are never penalised for failures.
	TrustedNetworks []Prefix `yaml:"trusted_networks"`
}

// File returns the path the config was read from, or "" for the default.
func (c *Config) File() string { return c.file }

// Line returns the line where key was set, or 0.
func (c *Config) Line(key string) int { return c.lines[key] }

// On reports whether an optional *bool is on, defaulting to true.
func On(b *bool) bool { return b == nil || *b }

// Load reads path strictly. An empty path returns the embedded default.
func Load(path string) (*Config, error) {
	if path == "" {
		return Default(), nil
	}
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("config: %w", err)
	}
	return Parse(path, data)
}

// Parse decodes data (named file in errors) over the defaults and
// validates the result, returning every problem at once.
func Parse(file string, data []byte) (*Config, error) {
	c := Default()
	c.file = file
	c.lines = map[string]int{}
	if err := parseYAML(file, data, c, c.lines); err != nil {
		return nil, err
	}
	if errs := c.validate(); len(errs) > 0 {
		return nil, errs
	}
	return c, nil
}

// Default is the embedded configuration used when no file is given: every
// daemon on a unix socket under /run (root) or ./run (otherwise), users
// from a passwd-file, state on local disk. It needs no MySQL or Redis.
func Default() *Config {
	runDir, stateDir, etc := "/run", "/var/lib/gomilter", "/etc/gomilter"
	if os.Geteuid() != 0 {
		wd, _ := os.Getwd()
		runDir = filepath.Join(wd, "run")
		stateDir = filepath.Join(runDir, "state")
		etc = runDir
	}
	sock := func(name string) Listener {
		return Listener{Network: "unix", Address: filepath.Join(runDir, name), Mode: 0o660}
	}
	host, _ := os.Hostname()
	return &Config{
		Log:             Log{Format: "logfmt", Level: "info"},
		HTTP:            HTTP{Listen: "127.0.0.1:9710"},
		DNS:             DNS{Timeout: 2 * time.Second, CacheSize: 10000},
		StateDir:        stateDir,
		ShutdownTimeout: 30 * time.Second,
		Milter: Milter{Listen: sock("gomilter.sock"), AuthservID: host, MaxMessageSize: 64 << 20,
			InternalNetworks: []Prefix{mustPrefix("127.0.0.0/8"), mustPrefix("::1/128")},
			DMARC:            MilterDMARC{Mode: "bis"},
			Spam:             MilterSpam{RuleDirs: []string{"/usr/share/spamassassin"}, SiteDir: "/etc/spamassassin"}},
		Policy: Policy{Listen: sock("gomilter-policy.sock"), SPF: PolicySPF{
			RejectOn: []string{"fail"}, DeferOn: []string{"temperror"},
			InternalNetworks: []Prefix{mustPrefix("127.0.0.0/8"), mustPrefix("::1/128")},
		}},
		Auth: Auth{Listen: sock("gomilter-auth.sock"), PasswdFile: filepath.Join(etc, "passwd"),
			FailureDelay: 2 * time.Second, CacheTTL: time.Minute},
		LMTP:  LMTP{Listen: sock("gomilter-lmtp.sock")},
		Spamd: defaultSpamd(),
	}
}

func mustPrefix(s string) Prefix {
	p, err := ParsePrefix(s)
	if err != nil {
		panic(err)
	}
	return p
}
