package sieve

import (
	"strings"

	"github.com/gomilter/gomilter/internal/mailmsg"
)

// Outgoing is a message a delivery agent must send for an action
// (redirect copy, vacation reply, notification).
type Outgoing struct {
	From    string // envelope sender; "" is the null sender
	To      string // envelope recipient
	Message *mailmsg.Message
}

// EnvelopeFrom resolves a Pigeonhole envelope-from setting
// (sieve_redirect_envelope_from, sieve_notify_mailto_envelope_from):
// "sender", "recipient", "orig_recipient", "user_email", "postmaster",
// "<>" or "<address>". def is used for an empty setting.
func EnvelopeFrom(setting, def string, env Envelope, opts *Options) string {
	setting = strings.TrimSpace(setting)
	if setting == "" {
		setting = def
	}
	switch setting {
	case "sender":
		return env.From
	case "recipient":
		return env.To
	case "orig_recipient":
		if env.OrigTo != "" {
			return env.OrigTo
		}
		return env.To
	case "user_email":
		if opts.UserEmail != "" {
			return opts.UserEmail
		}
		return env.To
	case "postmaster":
		_, domain, _ := splitAddr(env.To)
		if domain == "" {
			domain = "localhost"
		}
		return "postmaster@" + domain
	}
	return strings.Trim(setting, "<>")
}

var importance = map[string][2]string{"1": {"1 (Highest)", "high"}, "2": {"3 (Normal)", "normal"}, "3": {"5 (Lowest)", "low"}}

// ComposeNotify builds the mailto notification messages (RFC 5436), one
// per recipient, or none when the message is itself automatic. A message
// with the null envelope sender is notified about with the null sender.
func ComposeNotify(a *Action, env Envelope, opts *Options) []Outgoing {
	for _, f := range fieldValues(a.Message.Header, "Auto-Submitted", false) {
		if !strings.EqualFold(strings.TrimSpace(f), "no") {
			return nil
		}
	}
	nt := a.Notify
	uri, ok := parseMailtoURI(nt.Method)
	if !ok {
		return nil
	}
	var to, cc []string // header texts as written in the URI
	for _, rc := range uri.rcpts {
		if rc.cc {
			cc = append(cc, strings.TrimSpace(rc.full))
		} else {
			to = append(to, strings.TrimSpace(rc.full))
		}
	}
	from := nt.From
	if from == "" {
		from = "Postmaster <" + EnvelopeFrom("postmaster", "", env, opts) + ">"
	}
	subject := uri.subject
	if subject == "" {
		subject = nt.Message
	}
	imp := importance[nt.Importance]
	if imp[0] == "" {
		imp = importance["2"]
	}
	h := []mailmsg.Field{hdr("X-Sieve", "Pigeonhole Sieve"), hdr("Message-ID", "<notify."+env.To+">"),
		hdr("From", from), hdr("To", strings.Join(to, ", "))}
	if len(cc) > 0 {
		h = append(h, hdr("Cc", strings.Join(cc, ", ")))
	}
	h = append(h, hdr("Subject", encodeHeaderValue(subject)), hdr("Auto-Submitted", "auto-notified; owner-email=\""+env.To+"\""),
		hdr("Precedence", "bulk"), hdr("X-Priority", imp[0]), hdr("Importance", imp[1]),
		hdr("MIME-Version", "1.0"), hdr("Content-Type", "text/plain; charset=utf-8"))
	body := uri.body
	if body == "" {
		body = "Notification of new message."
	}
	msg := &mailmsg.Message{Header: h, Body: []byte(strings.ReplaceAll(body, "\n", "\r\n") + "\r\n")}
	envFrom := EnvelopeFrom(opts.NotifyEnvelopeFrom, "postmaster", env, opts)
	if nt.From != "" && opts.NotifyEnvelopeFrom == "" {
		envFrom = FirstAddress(nt.From)
	}
	if env.From == "" {
		envFrom = "" // a notification about a bounce must not bounce (Pigeonhole)
	}
	var out []Outgoing
	seen := map[string]bool{}
	for _, rc := range uri.rcpts {
		if !seen[strings.ToLower(rc.addr)] {
			seen[strings.ToLower(rc.addr)] = true
			out = append(out, Outgoing{From: envFrom, To: rc.addr, Message: msg})
		}
	}
	return out
}

// ComposeRedirect prepares the copy a redirect action sends (RFC 5228
// 4.2) the way Pigeonhole does: an X-Sieve-Redirected-From header names
// the user, a message already carrying that header for the user is a loop
// (ok false), and the envelope sender follows sieve_redirect_envelope_from
// except that a null sender stays null.
func ComposeRedirect(a *Action, env Envelope, opts *Options) (out Outgoing, ok bool) {
	self := env.To
	if opts.UserEmail != "" {
		self = opts.UserEmail
	}
	for _, v := range fieldValues(a.Message.Header, "X-Sieve-Redirected-From", false) {
		id := strings.Trim(v, "<> ")
		if strings.EqualFold(id, self) || strings.EqualFold(id, env.To) {
			return Outgoing{}, false
		}
	}
	from := ""
	if env.From != "" {
		from = EnvelopeFrom(strings.TrimSpace(opts.RedirectEnvelopeFrom), "sender", env, opts)
	}
	h := append([]mailmsg.Field{hdr("X-Sieve-Redirected-From", self)}, a.Message.Header...)
	return Outgoing{From: from, To: a.Address, Message: &mailmsg.Message{Header: h, Body: a.Message.Body}}, true
}
