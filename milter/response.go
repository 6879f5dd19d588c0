package milter

import (
	"errors"
	"fmt"
	"strings"
)

// Response is a milter's answer to one event. The zero value is Continue.
type Response struct {
	code Code
	text string // reply text for RespReplyCode, reason for RespQuarantine
}

// The fixed responses.
var (
	// Continue goes on to the next event (at end of message: accept with
	// any modifications made).
	Continue = Response{code: RespContinue}
	// Accept accepts the message (or, at CONNECT/HELO, the whole
	// connection) without further events for it.
	Accept = Response{code: RespAccept}
	// Reject rejects: Postfix says "550 5.7.1 Command rejected". At RCPT it
	// rejects only that recipient; at CONNECT/HELO the connection.
	Reject = Response{code: RespReject}
	// TempFail fails temporarily ("451 4.7.1 Service unavailable").
	TempFail = Response{code: RespTempFail}
	// Discard accepts and silently drops the whole message (even when
	// given at RCPT); not valid at CONNECT or HELO.
	Discard = Response{code: RespDiscard}
	// Skip, from BodyChunk, stops further body chunks (SMFIR_SKIP when
	// the MTA understands it; otherwise the server stops calling
	// BodyChunk itself). Elsewhere it means Continue.
	Skip = Response{code: RespSkip}
)

// Quarantine puts the message on hold (Postfix: the hold queue) and goes
// on as Continue. Postfix accepts it at any stage; Sendmail only at end of
// message, where Modifier.Quarantine is the portable form.
func Quarantine(reason string) Response {
	return Response{code: RespQuarantine, text: reason}
}

// ErrBadReplyCode is returned by ReplyCode for text the MTA would refuse.
var ErrBadReplyCode = errors.New("milter: invalid SMTP reply")

// ReplyCode returns a custom SMTP reply, e.g. "550 5.7.1 Blocked". The
// text may have several lines separated by CRLF or LF; each must start
// with the same 4xx or 5xx code followed by '-' (all but the last) or ' '.
// An enhanced status code, if present, must have the same class digit.
// '%' is doubled because Postfix and Sendmail expand "%%". The signature
// lets a callback write `return milter.ReplyCode("550 5.7.1 no")`; an
// invalid text becomes an error, which the server turns into a tempfail.
func ReplyCode(text string) (Response, error) {
	text = strings.ReplaceAll(text, "\r\n", "\n")
	text = strings.TrimSuffix(text, "\n")
	lines := strings.Split(text, "\n")
	code := ""
	for i, l := range lines {
		if err := checkReplyLine(l, i == len(lines)-1); err != nil {
			return Response{}, err
		}
		if code == "" {
			code = l[:3]
		} else if l[:3] != code {
			return Response{}, fmt.Errorf("%w: mixed codes %s and %s", ErrBadReplyCode, code, l[:3])
		}
	}
	text = strings.Join(lines, "\r\n")
	text = strings.ReplaceAll(text, "%", "%%")
	return Response{code: RespReplyCode, text: text}, nil
}

func checkReplyLine(l string, last bool) error {
	if len(l) < 4 || (l[0] != '4' && l[0] != '5') || !isDigit(l[1]) || !isDigit(l[2]) {
		return fmt.Errorf("%w: %q does not start with a 4xx/5xx code", ErrBadReplyCode, l)
	}
	sep := l[3]
	if (last && sep != ' ') || (!last && sep != '-') {
		return fmt.Errorf("%w: %q: code must be followed by '-' (continued) or ' ' (last line)", ErrBadReplyCode, l)
	}
	if strings.ContainsAny(l, "\x00\r") {
		return fmt.Errorf("%w: control character in %q", ErrBadReplyCode, l)
	}
	rest := l[4:]
	if len(rest) > 0 && isDigit(rest[0]) && strings.IndexByte(rest, '.') > 0 {
		enh, _, _ := strings.Cut(rest, " ")
		if !validEnhanced(enh) || enh[0] != l[0] {
			return fmt.Errorf("%w: enhanced code %q does not match %c.x.x", ErrBadReplyCode, enh, l[0])
		}
	}
	return nil
}

// validEnhanced checks class.subject.detail (RFC 3463): 1 digit, 1-3, 1-3.
func validEnhanced(s string) bool {
	parts := strings.Split(s, ".")
	if len(parts) != 3 || len(parts[0]) != 1 || (parts[0] != "4" && parts[0] != "5") {
		return false
	}
	for _, p := range parts[1:] {
		if len(p) < 1 || len(p) > 3 {
			return false
		}
		for i := 0; i < len(p); i++ {
			if !isDigit(p[i]) {
				return false
			}
		}
	}
	return true
}

func isDigit(b byte) bool { return b >= '0' && b <= '9' }

// Code returns the reply code this response is sent as.
func (r Response) Code() Code {
	if r.code == 0 {
		return RespContinue
	}
	return r.code
}

// Text returns the reply text of a ReplyCode response or the reason of a
// Quarantine response.
func (r Response) Text() string { return r.text }

// final reports whether the response ends the message (or connection)
// for the MTA, so no further events of this transaction follow.
func (r Response) final() bool {
	switch r.Code() {
	case RespAccept, RespReject, RespTempFail, RespDiscard, RespReplyCode:
		return true
	}
	return false
}

// result is the metric/log label of a final decision.
func (r Response) result() string {
	switch r.Code() {
	case RespAccept, RespContinue, RespSkip:
		return "accept"
	case RespReject:
		return "reject"
	case RespTempFail:
		return "tempfail"
	case RespDiscard:
		return "discard"
	case RespQuarantine:
		return "quarantine"
	case RespReplyCode:
		if strings.HasPrefix(r.text, "4") {
			return "tempfail"
		}
		return "reject"
	}
	return "unknown"
}

func (r Response) String() string {
	if r.text != "" {
		return r.Code().String() + " " + r.text
	}
	return r.Code().String()
}
