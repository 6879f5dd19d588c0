package authres

import (
	"strings"

	"github.com/gomilter/gomilter/internal/mailmsg"
)

// HeaderName is the field name we write.
const HeaderName = "Authentication-Results"

// maxLine is the RFC 5322 section 2.1.1 recommended line length; results
// that would make a line longer start a new folded line.
const maxLine = 78

// Prop is one "ptype.property=value" item, e.g. {"smtp", "mailfrom", "a@b"}.
type Prop struct {
	Type  string // smtp, header, body or policy
	Name  string
	Value string
}

// Result is one "method=result" clause.
type Result struct {
	Method  string // spf, dkim, dmarc, arc, iprev, auth...
	Value   string // pass, fail, none, ...
	Comment string // written in parentheses after the result, if set
	Reason  string // reason="..." if set
	Props   []Prop // kept in this order
}

// Format returns the field value (everything after the colon) for our
// authserv-id and results: it starts with a space and is folded with
// CRLF+TAB before each result, so every result sits on its own line and
// long ones are folded once more between properties. No results gives
// "; none" (RFC 8601 section 2.2).
func Format(authservID string, results []Result) string {
	var b strings.Builder
	b.WriteString(" ")
	b.WriteString(authservID)
	if len(results) == 0 {
		b.WriteString("; none")
		return b.String()
	}
	for _, r := range results {
		b.WriteString(";\r\n\t")
		writeResult(&b, r)
	}
	return b.String()
}

// Field returns Format as a ready-to-insert header field.
func Field(authservID string, results []Result) mailmsg.Field {
	return mailmsg.Field{Name: HeaderName, Value: Format(authservID, results)}
}

// FormatResult writes one result clause on a single line, e.g. for an
// ARC-Authentication-Results payload (see arc.Sealer.Seal).
func FormatResult(r Result) string {
	var b strings.Builder
	writeResultLine(&b, r, 1<<30)
	return b.String()
}

func writeResult(b *strings.Builder, r Result) { writeResultLine(b, r, maxLine) }

func writeResultLine(b *strings.Builder, r Result, width int) {
	line := 8 // the tab counts as one indentation stop
	parts := []string{r.Method + "=" + r.Value}
	if r.Comment != "" {
		parts = append(parts, "("+escapeComment(r.Comment)+")")
	}
	if r.Reason != "" {
		parts = append(parts, "reason="+quote(r.Reason))
	}
	for _, p := range r.Props {
		if p.Value == "" {
			continue
		}
		parts = append(parts, p.Type+"."+p.Name+"="+pvalue(p.Value))
	}
	for i, p := range parts {
		switch {
		case i == 0:
		case line+1+len(p) > width:
			b.WriteString("\r\n\t ")
			line = 9
		default:
			b.WriteString(" ")
			line++
		}
		b.WriteString(p)
		line += len(p)
	}
}

// escapeComment keeps a comment balanced: parentheses and backslashes are
// quoted, control characters become spaces.
func escapeComment(s string) string {
	var b strings.Builder
	for _, c := range s {
		switch {
		case c == '(' || c == ')' || c == '\\':
			b.WriteByte('\\')
			b.WriteRune(c)
		case c < ' ' || c == 0x7f:
			b.WriteByte(' ')
		default:
			b.WriteRune(c)
		}
	}
	return b.String()
}

// quote writes an RFC 2045 value: a token if possible, else a quoted string.
func quote(s string) string {
	if s != "" && isToken(s) {
		return s
	}
	var b strings.Builder
	b.WriteByte('"')
	for _, c := range s {
		switch {
		case c == '"' || c == '\\':
			b.WriteByte('\\')
			b.WriteRune(c)
		case c < ' ' || c == 0x7f:
			b.WriteByte(' ')
		default:
			b.WriteRune(c)
		}
	}
	b.WriteByte('"')
	return b.String()
}

// pvalue writes a property value: addresses and domains bare (as the big
// receivers do, e.g. header.i=@example.com), anything else via quote.
func pvalue(s string) string {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(isAlnum(c) || strings.IndexByte("@.-_+=/!#$%&'*^`{|}~", c) >= 0) {
			return quote(s)
		}
	}
	if strings.Count(s, "@") > 1 || strings.HasPrefix(s, "=") {
		return quote(s)
	}
	return s
}

func isAlnum(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9'
}

// isToken: RFC 2045 token (no space, CTL or tspecial).
func isToken(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c <= ' ' || c >= 0x7f || strings.IndexByte(`()<>@,;:\"/[]?=`, c) >= 0 {
			return false
		}
	}
	return true
}
