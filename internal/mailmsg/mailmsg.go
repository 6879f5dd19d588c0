// Package mailmsg holds the message and envelope types that every check in
// the milter pipeline (DKIM, SPF, DMARC, ARC, spam) reads, so that the checks
// stay independent of the milter wire protocol.
package mailmsg

import (
	"net/netip"
	"strings"
)

// Field is one header field exactly as it travels: Name as received (case
// kept), Value everything after the colon, leading whitespace and folding
// kept, with CRLF between folded lines. DKIM "simple" canonicalization
// depends on these bytes, which is why they are never normalised here.
type Field struct {
	Name  string
	Value string
}

// Raw returns the field as it appears in the message, CRLF-terminated.
func (f Field) Raw() string { return f.Name + ":" + f.Value + "\r\n" }

// Message is a header block in order plus the body with CRLF line endings.
type Message struct {
	Header []Field
	Body   []byte
}

// Get returns the value (leading whitespace trimmed, unfolded) of the first
// field named name, compared case-insensitively, and whether it exists.
func (m *Message) Get(name string) (string, bool) {
	for _, f := range m.Header {
		if strings.EqualFold(f.Name, name) {
			return Unfold(f.Value), true
		}
	}
	return "", false
}

// All returns every field named name (case-insensitive), in order.
func (m *Message) All(name string) []Field {
	var out []Field
	for _, f := range m.Header {
		if strings.EqualFold(f.Name, name) {
			out = append(out, f)
		}
	}
	return out
}

// Unfold removes CRLF/LF folding and trims surrounding whitespace.
func Unfold(v string) string {
	v = strings.ReplaceAll(v, "\r\n", "")
	v = strings.ReplaceAll(v, "\n", "")
	return strings.TrimSpace(v)
}

// Envelope is what the MTA told us about the transaction.
type Envelope struct {
	ClientAddr netip.Addr // zero for local submission without an address
	ClientName string     // verified reverse name or "unknown"
	Helo       string
	MailFrom   string   // without angle brackets; "" for the null sender
	Rcpts      []string // without angle brackets
	AuthUser   string   // {auth_authen}; non-empty when the client authenticated
	QueueID    string   // Postfix queue id (macro i)
	DaemonName string   // {daemon_name}, e.g. ORIGINATING on a submission service
	Local      bool     // arrived through non_smtpd_milters (sendmail/pickup)
}
