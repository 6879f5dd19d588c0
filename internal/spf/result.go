package spf

import (
	"net/netip"
	"strings"

	"github.com/emersion/go-msgauth/authres"
)

// Code is an SPF result (RFC 7208 section 2.6).
type Code string

// The seven results of check_host().
const (
	None      Code = "none"
	Neutral   Code = "neutral"
	Pass      Code = "pass"
	Fail      Code = "fail"
	SoftFail  Code = "softfail"
	TempError Code = "temperror"
	PermError Code = "permerror"
)

// Identity names which identity was checked (RFC 7208 section 9.1 "identity").
type Identity string

// Identities defined by RFC 7208 section 2.
const (
	IdentityMailFrom Identity = "mailfrom"
	IdentityHelo     Identity = "helo"
)

// Result is the outcome of one SPF check, with everything needed to write
// a Received-SPF or Authentication-Results header.
type Result struct {
	Code     Code
	Identity Identity
	// Domain is the domain whose policy was evaluated: the MAIL FROM domain,
	// or the HELO name.
	Domain string
	// Sender is <sender> as evaluated: the MAIL FROM address (local part
	// "postmaster" if it had none) or postmaster@<HELO>.
	Sender   string
	ClientIP netip.Addr
	Helo     string
	// Mechanism is the directive that matched ("-all", "ip4:192.0.2.0/24"),
	// "default" when none matched, or "" for none/errors.
	Mechanism string
	// Explanation is set for Fail: the expanded exp= text of the domain, or
	// the checker's default explanation.
	Explanation string
	// Problem says why the result is temperror or permerror.
	Problem string
}

// comment is the human-readable part of Received-SPF (RFC 7208 section 9.1
// shows the shape; the text is informative only).
func (r Result) comment(receiver string) string {
	ip := r.ClientIP.String()
	var s string
	switch r.Code {
	case Pass:
		s = "domain of " + r.Sender + " designates " + ip + " as permitted sender"
	case Fail:
		s = "domain of " + r.Sender + " does not designate " + ip + " as permitted sender"
	case SoftFail:
		s = "domain of transitioning " + r.Sender + " does not designate " + ip + " as permitted sender"
	case Neutral:
		s = ip + " is neither permitted nor denied by domain of " + r.Sender
	case None:
		s = "domain of " + r.Sender + " does not designate permitted sender hosts"
	case TempError:
		s = "error in processing during lookup of " + r.Sender + ": " + r.Problem
	default:
		s = "permanent error in processing domain of " + r.Sender + ": " + r.Problem
	}
	if receiver != "" {
		s = receiver + ": " + s
	}
	return commentEscape(s)
}

// ReceivedSPF returns the value of a Received-SPF header field (without the
// field name), RFC 7208 section 9.1: result, comment, then key-value pairs.
// receiver is the host name of the checking MTA; empty omits it.
func (r Result) ReceivedSPF(receiver string) string {
	var b strings.Builder
	b.WriteString(string(r.Code))
	b.WriteString(" (")
	b.WriteString(r.comment(receiver))
	b.WriteString(")")
	kv := func(k, v string) {
		b.WriteString(" ")
		b.WriteString(k)
		b.WriteString("=")
		b.WriteString(kvValue(v))
		b.WriteString(";")
	}
	kv("client-ip", r.ClientIP.String())
	from := r.Sender
	if r.Identity == IdentityHelo {
		from = "<>"
	}
	kv("envelope-from", from)
	if r.Helo != "" {
		kv("helo", r.Helo)
	}
	if receiver != "" {
		kv("receiver", receiver)
	}
	kv("identity", string(r.Identity))
	if r.Mechanism != "" {
		kv("mechanism", r.Mechanism)
	}
	if r.Problem != "" {
		kv("problem", r.Problem)
	}
	return strings.TrimSuffix(b.String(), ";")
}

// AuthRes returns the result as an Authentication-Results method result
// (RFC 8601 section 2.7.2: smtp.mailfrom or smtp.helo).
func (r Result) AuthRes() *authres.SPFResult {
	res := &authres.SPFResult{Value: authres.ResultValue(r.Code), Reason: r.Problem}
	if r.Identity == IdentityHelo {
		res.Helo = r.Helo
	} else {
		res.From = r.Sender
	}
	return res
}

// commentEscape keeps a comment well-formed: parentheses and backslashes are
// quoted-pairs, control characters become spaces.
func commentEscape(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '(' || c == ')' || c == '\\':
			b.WriteByte('\\')
			b.WriteByte(c)
		case c < 0x20 || c == 0x7f:
			b.WriteByte(' ')
		default:
			b.WriteByte(c)
		}
	}
	return b.String()
}

// kvValue renders a key-value value as a dot-atom when it is one, else as a
// quoted-string (RFC 7208 section 9.1, RFC 5322 section 3.2.4).
func kvValue(v string) string {
	if isDotAtom(v) {
		return v
	}
	var b strings.Builder
	b.WriteByte('"')
	for i := 0; i < len(v); i++ {
		c := v[i]
		switch {
		case c == '"' || c == '\\':
			b.WriteByte('\\')
			b.WriteByte(c)
		case c < 0x20 || c == 0x7f:
			b.WriteByte(' ')
		default:
			b.WriteByte(c)
		}
	}
	b.WriteByte('"')
	return b.String()
}

func isDotAtom(v string) bool {
	if v == "" || v[0] == '.' || v[len(v)-1] == '.' || strings.Contains(v, "..") {
		return false
	}
	for i := 0; i < len(v); i++ {
		c := v[i]
		if c == '.' {
			continue
		}
		if c <= 0x20 || c >= 0x7f || strings.IndexByte("()<>[]:;@\\,\"", c) >= 0 {
			return false
		}
	}
	return true
}
