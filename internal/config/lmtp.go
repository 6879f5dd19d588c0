package config

import (
	"path/filepath"
	"strings"
	"time"
)

// LMTP is the delivery daemon (virtual_transport = lmtp:unix:...): Maildir
// delivery as Dovecot does it, with users' Sieve scripts. Zero values
// take the defaults named per key.
type LMTP struct {
	// Enabled turns the LMTP daemon on (default false: it needs a userdb
	// and a mail location).
	Enabled bool `yaml:"enabled"`
	// Listen is the socket Postfix's lmtp client connects to.
	Listen Listener `yaml:"listen"`
	// Hostname names this host in the greeting and the Received header
	// (default: the host name).
	Hostname string `yaml:"hostname"`
	// PasswdFile and SQLConf are where recipients are looked up (userdb
	// fields uid, gid, home, mail, quota_rule); empty = auth's passwd_file
	// and sql_conf, so SMTP AUTH and delivery share one user list.
	PasswdFile string `yaml:"passwd_file"`
	SQLConf    string `yaml:"sql_conf"`
	// MailLocation is Dovecot's mail_location for users whose userdb entry
	// has no mail field (default maildir:~/Maildir; %u %n %d expand).
	MailLocation string `yaml:"mail_location"`
	// RecipientDelimiter separates user and detail, as Postfix's and
	// Dovecot's recipient_delimiter (default "+").
	RecipientDelimiter string `yaml:"recipient_delimiter"`
	// MaxMessageSize bounds one message in bytes (default 64 MiB).
	MaxMessageSize int64 `yaml:"max_message_size"`
	// MaxRecipients bounds recipients per transaction (default 1000).
	MaxRecipients int `yaml:"max_recipients"`
	// Timeout bounds each read and write on the connection (default 5m).
	Timeout time.Duration `yaml:"timeout"`
	// QuotaFullTempfail answers over-quota with 452 4.2.2 (retry) instead
	// of 552 5.2.2 (bounce), as Dovecot's quota_full_tempfail.
	QuotaFullTempfail bool `yaml:"quota_full_tempfail"`
	// MailboxAutocreate creates folders a Sieve fileinto names
	// (lda_mailbox_autocreate); otherwise such mail goes to INBOX.
	MailboxAutocreate bool `yaml:"mailbox_autocreate"`
	// SaveToDetailMailbox files user+Folder@domain into Folder when it
	// exists and Sieve chose no place (lmtp_save_to_detail_mailbox).
	SaveToDetailMailbox bool `yaml:"save_to_detail_mailbox"`
	// Relay sends Sieve redirects, vacation replies and notifications:
	// inet:host:port or unix:/path (an SMTP server, e.g. Postfix on
	// localhost) or sendmail:/usr/sbin/sendmail. Empty: redirect keeps
	// the message and vacation is off.
	Relay string `yaml:"relay"`
	// Sieve locates and limits users' scripts (Pigeonhole settings).
	Sieve LMTPSieve `yaml:"sieve"`
}

// LMTPSieve mirrors Pigeonhole's plugin settings.
type LMTPSieve struct {
	// Enabled runs Sieve scripts (default true).
	Enabled *bool `yaml:"enabled"`
	// Script is Pigeonhole's "sieve" setting (default
	// file:~/sieve;active=~/.dovecot.sieve).
	Script string `yaml:"script"`
	// Default runs for users without a script (sieve_default).
	Default string `yaml:"default"`
	// Before and After are scripts or directories of *.sieve run before
	// and after the user's (sieve_before, sieve_after).
	Before []string `yaml:"before"`
	After  []string `yaml:"after"`
	// GlobalDir holds scripts for include :global (sieve_global).
	GlobalDir string `yaml:"global_dir"`
	// Settings are further Pigeonhole settings as "name = value"
	// (sieve_extensions, sieve_max_actions, sieve_vacation_min_period,
	// sieve_spamtest_status_header...).
	Settings []string `yaml:"settings"`
}

// check validates the lmtp section.
func (l *LMTP) check(bad func(key, format string, args ...any)) {
	if l.Enabled && l.Listen.IsZero() {
		bad("lmtp.listen", "required when lmtp is enabled")
	}
	for _, kp := range [][2]string{{"lmtp.passwd_file", l.PasswdFile}, {"lmtp.sql_conf", l.SQLConf},
		{"lmtp.sieve.default", l.Sieve.Default}, {"lmtp.sieve.global_dir", l.Sieve.GlobalDir}} {
		if kp[1] != "" && !filepath.IsAbs(kp[1]) {
			bad(kp[0], "%q: want an absolute path", kp[1])
		}
	}
	if l.MailLocation != "" && !strings.HasPrefix(l.MailLocation, "maildir:") {
		bad("lmtp.mail_location", "%q: only maildir:PATH is supported", l.MailLocation)
	}
	if l.MaxMessageSize < 0 || l.MaxRecipients < 0 || l.Timeout < 0 {
		bad("lmtp", "max_message_size, max_recipients and timeout must not be negative")
	}
	if r := l.Relay; r != "" && !strings.HasPrefix(r, "sendmail:/") {
		if _, err := ParseListener(r); err != nil {
			bad("lmtp.relay", "%q: want inet:host:port, unix:/path or sendmail:/path", r)
		}
	}
	for _, kv := range l.Sieve.Settings {
		if k, _, ok := strings.Cut(kv, "="); !ok || !strings.HasPrefix(strings.TrimSpace(k), "sieve") && strings.TrimSpace(k) != "recipient_delimiter" {
			bad("lmtp.sieve.settings", "%q: want \"sieve_<name> = value\"", kv)
		}
	}
	for _, list := range [][]string{l.Sieve.Before, l.Sieve.After} {
		for _, p := range list {
			if !filepath.IsAbs(p) {
				bad("lmtp.sieve", "%q: before/after want absolute paths", p)
			}
		}
	}
}
