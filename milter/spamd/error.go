package spamd

import "fmt"

// Status codes of the protocol (sysexits.h values).
const (
	ExOK          = 0  // EX_OK
	ExUsage       = 64 // EX_USAGE
	ExDataErr     = 65 // EX_DATAERR
	ExUnavailable = 69 // EX_UNAVAILABLE
	ExSoftware    = 70 // EX_SOFTWARE
	ExTempFail    = 75 // EX_TEMPFAIL
	ExProtocol    = 76 // EX_PROTOCOL
	ExNoPerm      = 77 // EX_NOPERM
	ExTimeout     = 79 // EX_TIMEOUT
)

var codeNames = map[int]string{
	ExOK: "EX_OK", ExUsage: "EX_USAGE", ExDataErr: "EX_DATAERR", ExUnavailable: "EX_UNAVAILABLE",
	ExSoftware: "EX_SOFTWARE", ExTempFail: "EX_TEMPFAIL", ExProtocol: "EX_PROTOCOL",
	ExNoPerm: "EX_NOPERM", ExTimeout: "EX_TIMEOUT",
}

// Error is a failure reply the client sees: "SPAMD/1.1 <Code> <Text>". A
// Scorer or Learner may return one (wrapped or not) to choose the reply;
// any other error becomes EX_TEMPFAIL with a generic text.
type Error struct {
	Code int
	Text string
}

func (e *Error) Error() string { return fmt.Sprintf("spamd: %d %s", e.Code, e.Text) }

// protoErr is a malformed request.
func protoErr(format string, args ...any) *Error {
	return &Error{Code: ExProtocol, Text: fmt.Sprintf(format, args...)}
}
