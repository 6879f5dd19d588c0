package dns

import (
	"errors"
	"fmt"
	"net"
)

// The error classes. Lookup errors wrap exactly one of them, so callers test
// with errors.Is.
var (
	// ErrNotFound means NXDOMAIN: the queried name does not exist.
	ErrNotFound = errors.New("no such domain")
	// ErrNoData means NOERROR without a record of the queried type.
	ErrNoData = errors.New("no record of that type")
	// ErrTemporary means the answer is unknown for now: timeout, SERVFAIL,
	// REFUSED, a network error or a cancelled context.
	ErrTemporary = errors.New("temporary DNS failure")
	// ErrInvalidName means the name is not a valid domain name; it is a
	// permanent error and no query was sent.
	ErrInvalidName = errors.New("invalid domain name")
)

// Error describes a failed lookup. It wraps its class (Kind) and, when
// there is one, the underlying cause, so errors.Is sees both.
type Error struct {
	Name  string // queried name (FQDN)
	Type  string // query type, e.g. "TXT"
	Kind  error  // ErrNotFound, ErrNoData, ErrTemporary or ErrInvalidName
	Cause error  // underlying error (network, context), may be nil
}

func (e *Error) Error() string {
	s := fmt.Sprintf("dns: lookup %s %s: %v", e.Name, e.Type, e.Kind)
	if e.Cause != nil {
		s += ": " + e.Cause.Error()
	}
	return s
}

// Unwrap returns the class and the cause for errors.Is and errors.As.
func (e *Error) Unwrap() []error {
	if e.Cause == nil {
		return []error{e.Kind}
	}
	return []error{e.Kind, e.Cause}
}

// Timeout reports whether the cause was a timeout (net.Error convention).
func (e *Error) Timeout() bool {
	var ne net.Error
	return errors.As(e.Cause, &ne) && ne.Timeout()
}

// Temporary reports whether the error is of class ErrTemporary.
func (e *Error) Temporary() bool { return e.Kind == ErrTemporary }

// IsNXDomain reports whether err says the name does not exist.
func IsNXDomain(err error) bool { return errors.Is(err, ErrNotFound) }

// IsNotFound reports whether err is a permanent absence: NXDOMAIN or no data.
// SPF and DMARC treat both the same way ("none").
func IsNotFound(err error) bool {
	return errors.Is(err, ErrNotFound) || errors.Is(err, ErrNoData)
}

// IsTemporary reports whether err is a temporary failure (temperror).
func IsTemporary(err error) bool { return errors.Is(err, ErrTemporary) }
