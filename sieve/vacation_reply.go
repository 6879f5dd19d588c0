package sieve

import (
	"strings"
	"unicode/utf8"

	"github.com/gomilter/gomilter/internal/mailmsg"
)

// vacationSubject picks the reply subject as Pigeonhole does: explicit
// :subject, else the configured template ("%$" = original subject), else
// the configured default, else "Auto: <original>"; then it is cut to
// VacationMaxSubjectCodepoints with an ellipsis.
func (r *Runtime) vacationSubject(explicit string) string {
	orig := ""
	if subj := fieldValues(r.msg.header, "Subject", true); len(subj) > 0 {
		orig = subj[0]
	}
	s := explicit
	switch {
	case s != "":
	case r.opts.VacationDefaultSubjectTemplate != "" && orig != "":
		s = strings.ReplaceAll(r.opts.VacationDefaultSubjectTemplate, "%%", "\x00")
		s = strings.ReplaceAll(s, "%$", orig)
		s = strings.ReplaceAll(s, "%{subject}", orig)
		s = strings.ReplaceAll(s, "\x00", "%")
	case r.opts.VacationDefaultSubject != "":
		s = r.opts.VacationDefaultSubject
	case orig != "":
		s = "Auto: " + orig
	default:
		s = "Automated reply"
	}
	max := r.opts.VacationMaxSubjectCodepoints
	if max <= 0 {
		max = 256
	}
	if utf8.RuneCountInString(s) > max {
		i, n := 0, 0
		for i = range s {
			if n == max-1 {
				break
			}
			n++
		}
		s = s[:i] + "\u2026"
	}
	return s
}

// replyToHeader finds the header naming the sender being answered, so the
// reply's To: keeps the display name (Pigeonhole looks at Reply-To, Sender,
// From, Resent-*), or returns "<sender>".
func replyToHeader(m *mailmsg.Message, sender string, ignoreEnvelope bool) string {
	for _, h := range []string{"Reply-To", "Sender", "Resent-Reply-To", "Resent-Sender", "Resent-From", "From"} {
		for _, raw := range fieldValues(m.Header, h, false) {
			addrs, _ := parseAddressList(raw)
			if len(addrs) == 0 {
				continue
			}
			if ignoreEnvelope && (h == "Reply-To" || h == "Sender" || h == "From") {
				return raw
			}
			if !ignoreEnvelope && strings.EqualFold(addrs[0], sender) && len(addrs) == 1 {
				return raw
			}
		}
	}
	return "<" + sender + ">"
}

func hdr(name, value string) mailmsg.Field { return mailmsg.Field{Name: name, Value: " " + value} }

// ComposeVacation builds the reply message for a vacation action sent on
// behalf of rcpt (RFC 5230 section 5, RFC 3834 headers).
func ComposeVacation(a *Action, rcpt string, opts *Options) *mailmsg.Message {
	v := a.Vacation
	orig := a.Message
	from := v.From
	if from == "" {
		from = "<" + replyFrom(orig, rcpt, v.Addresses, opts) + ">"
	}
	to := replyToHeader(orig, v.To, opts.VacationToHeaderIgnoreEnvelope)
	h := []mailmsg.Field{hdr("From", from), hdr("To", to), hdr("Subject", encodeHeaderValue(v.Subject)),
		hdr("Auto-Submitted", "auto-replied (vacation)"), hdr("Precedence", "bulk")}
	if v.InReplyTo != "" {
		h = append(h, hdr("In-Reply-To", v.InReplyTo))
		refs := strings.Join(strings.Fields(strings.Join(fieldValues(orig.Header, "References", false), " ")), " ")
		if refs != "" {
			refs += "\r\n "
		}
		h = append(h, hdr("References", refs+v.InReplyTo))
	}
	if v.MIME {
		m := ParseMessage([]byte(v.Reason))
		return &mailmsg.Message{Header: append(append(h, hdr("MIME-Version", "1.0")), m.Header...), Body: m.Body}
	}
	h = append(h, hdr("MIME-Version", "1.0"), hdr("Content-Type", "text/plain; charset=utf-8"),
		hdr("Content-Transfer-Encoding", "8bit"))
	body := strings.ReplaceAll(strings.ReplaceAll(v.Reason, "\r\n", "\n"), "\n", "\r\n")
	return &mailmsg.Message{Header: h, Body: []byte(body + "\r\n")}
}

// replyFrom picks the address the reply comes from: the user's address
// that the original message was sent to (it may be one of :addresses),
// else the user's email, else the recipient.
func replyFrom(orig *mailmsg.Message, rcpt string, addresses []string, opts *Options) string {
	own := append([]string{rcpt}, addresses...)
	if opts.UserEmail != "" {
		own = append(own, opts.UserEmail)
	}
	for _, h := range []string{"To", "Cc", "Bcc", "Resent-To", "Resent-Cc", "Resent-Bcc"} {
		for _, raw := range fieldValues(orig.Header, h, false) {
			addrs, _ := parseAddressList(raw)
			for _, a := range addrs {
				if containsFold(own, a) {
					return a
				}
			}
		}
	}
	if opts.UserEmail != "" {
		return opts.UserEmail
	}
	return rcpt
}
