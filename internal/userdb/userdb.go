// Package userdb looks up users and their stored passwords the way
// Dovecot's passdb and userdb do: a Dovecot passwd-file
// (doc: https://doc.dovecot.org/2.3/configuration_manual/authentication/passwd_file/)
// or SQL through a dovecot-sql.conf.ext (doc: .../authentication/sql/,
// semantics summarised in PROTOCOLS.md §1.9 and §2 for PostfixAdmin).
//
// Lookups never build SQL by string substitution: %-variables become
// placeholders of prepared statements. Temporary failures (database down,
// timeouts) are reported as *TempError so that callers never turn them into
// a permanent "bad password".
package userdb

import (
	"context"
	"errors"
	"net/netip"
)

// ErrNotFound means the user does not exist (or is inactive): a permanent
// negative answer.
var ErrNotFound = errors.New("userdb: user not found")

// TempError wraps a temporary failure: the caller must answer "try again
// later", never "wrong password".
type TempError struct{ Err error }

func (e *TempError) Error() string { return "userdb: temporary failure: " + e.Err.Error() }

// Unwrap returns the cause.
func (e *TempError) Unwrap() error { return e.Err }

// IsTemporary reports whether err is, or wraps, a *TempError.
func IsTemporary(err error) bool {
	var t *TempError
	return errors.As(err, &t)
}

// RequestInfo is what is known about the login attempt; SQL queries may
// reference it through %-variables (%s %r %l %m %c %w ...).
type RequestInfo struct {
	Service    string     // %s: "smtp" for Postfix, "lmtp", "imap"...
	Mech       string     // %m: SASL mechanism
	LocalIP    netip.Addr // %l
	RemoteIP   netip.Addr // %r
	LocalPort  int        // %a
	RemotePort int        // %b
	Secured    bool       // %c = "secured"
	// Password is the plaintext password (%w), only for plaintext mechanisms.
	Password string
}

// Credentials is a passdb answer.
type Credentials struct {
	// User is the canonical login name (passdb "user" field); empty means
	// the name that was looked up.
	User string
	// Password is the stored password, "{SCHEME}data" or bare data.
	Password string
	// DefaultScheme applies to Password when it has no "{SCHEME}" prefix.
	DefaultScheme string
	// NoPassword means any password is accepted (passdb "nopassword").
	NoPassword bool
	// Fields holds the other passdb extra fields (nologin, reason, nodelay...).
	Fields map[string]string
}

// User is a userdb answer.
type User struct {
	// User is the canonical name; empty means the name looked up.
	User string
	// Fields are userdb fields (uid, gid, home, mail, quota_rule, ...).
	Fields map[string]string
}

// PassDB looks up stored credentials.
type PassDB interface {
	Lookup(ctx context.Context, user string, req RequestInfo) (Credentials, error)
}

// UserDB looks up user fields (Dovecot userdb).
type UserDB interface {
	LookupUser(ctx context.Context, user string, req RequestInfo) (User, error)
}

// Iterator lists all users (Dovecot iterate_query, doveadm -A).
type Iterator interface {
	Iterate(ctx context.Context, fn func(user string) error) error
}

// SchemeLister is implemented by stores that know every stored scheme in
// advance (a passwd-file): it lets the auth server offer challenge
// mechanisms (CRAM-MD5, SCRAM) only when all users can use them.
type SchemeLister interface {
	// Schemes returns the set of canonical scheme names in use.
	Schemes() []string
}
