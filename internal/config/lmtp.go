package config

// LMTP is the delivery daemon (virtual_transport = lmtp:unix:...): Maildir
// delivery as Dovecot does it, with users' Sieve scripts.
type LMTP struct {
	// Enabled turns the LMTP daemon on (default false: it needs a userdb
	// and a mail location).
	Enabled bool `yaml:"enabled"`
	// Listen is the socket Postfix's lmtp client connects to.
	Listen Listener `yaml:"listen"`
}

// check validates the lmtp section.
func (l *LMTP) check(bad func(key, format string, args ...any)) {
	if l.Enabled && l.Listen.IsZero() {
		bad("lmtp.listen", "required when lmtp is enabled")
	}
}
