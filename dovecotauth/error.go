package dovecotauth

import (
	"context"
	"errors"

	"github.com/gomilter/gomilter/internal/userdb"
)

// RequestInfo describes a login attempt (service, addresses, mechanism).
type RequestInfo = userdb.RequestInfo

// Credentials is what the Authenticator found for a user.
type Credentials = userdb.Credentials

// UserFields is a userdb answer for the auth-userdb protocol.
type UserFields = userdb.User

// ErrUnknownUser is returned by an Authenticator for a user that does not
// exist or may not log in. The client sees the same FAIL as for a wrong
// password.
var ErrUnknownUser = userdb.ErrNotFound

// TempError marks a temporary failure of the credential store; the server
// makes sure the SMTP client sees 454, never 535 or 235.
type TempError = userdb.TempError

// Authenticator is the passdb behind the server.
type Authenticator interface {
	// Lookup returns the stored credentials for the (normalised) user name.
	// Errors: ErrUnknownUser (or wrapping it) for a permanent "no such
	// user", *TempError (or a context error) for "try again later"; any
	// other error is treated as temporary too.
	Lookup(ctx context.Context, user string, req RequestInfo) (Credentials, error)
}

// AuthenticatorFunc adapts a function to Authenticator.
type AuthenticatorFunc func(ctx context.Context, user string, req RequestInfo) (Credentials, error)

// Lookup calls f.
func (f AuthenticatorFunc) Lookup(ctx context.Context, user string, req RequestInfo) (Credentials, error) {
	return f(ctx, user, req)
}

var _ Authenticator = AuthenticatorFunc(nil)

// UserLookuper is the optional add-on interface an Authenticator implements
// to answer USER requests on the auth-userdb socket.
type UserLookuper interface {
	LookupUser(ctx context.Context, user string, req RequestInfo) (UserFields, error)
}

// UserIterator is the optional add-on interface behind LIST.
type UserIterator = userdb.Iterator

// failure is the outcome of a rejected authentication, as sent in FAIL.
type failure struct {
	code   string // code= value, empty for a plain credentials failure
	reason string // reason= text, empty unless safe to show
	// noDelay skips auth failure delay (protocol errors answered at once).
	noDelay bool
	// penalise counts towards the brute-force penalty.
	penalise bool
}

func (f *failure) Error() string { return "authentication failed: " + f.code + " " + f.reason }

var (
	failCredentials = &failure{penalise: true}
	failBase64Init  = &failure{code: "invalid_base64", reason: "Invalid base64 data in initial response", noDelay: true}
	failBase64Cont  = &failure{code: "invalid_base64", reason: "Invalid base64 data in continued response", noDelay: true}
	failAuthz       = &failure{code: "authz_fail", penalise: true}
	failInput       = &failure{reason: "Invalid input", penalise: true}
	failTimeout     = &failure{reason: "Authentication timed out", noDelay: true}
)

// classify maps a lookup/verification error to: a *failure sent as FAIL,
// or nil meaning "temporary": the server must not answer FAIL/OK.
func classify(err error) *failure {
	var f *failure
	switch {
	case errors.As(err, &f):
		return f
	case errors.Is(err, ErrUnknownUser):
		return failCredentials
	}
	return nil
}
