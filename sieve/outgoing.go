package sieve

import (
	"net/url"
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

// mailtoParts splits a mailto: URI into recipients, cc and header fields.
func mailtoParts(uri string) (to, cc []string, fields map[string]string) {
	fields = map[string]string{}
	_, rest, _ := strings.Cut(uri, ":")
	path, query, _ := strings.Cut(rest, "?")
	if p, err := url.PathUnescape(path); err == nil {
		for _, a := range strings.Split(p, ",") {
			if n, ok := normalizeRedirect(strings.TrimSpace(a)); ok {
				to = append(to, n)
			}
		}
	}
	q, _ := url.ParseQuery(query)
	for k, vs := range q {
		lk := strings.ToLower(k)
		for _, v := range vs {
			switch lk {
			case "to", "cc":
				for _, a := range strings.Split(v, ",") {
					if n, ok := normalizeRedirect(strings.TrimSpace(a)); ok {
						if lk == "to" {
							to = append(to, n)
						} else {
							cc = append(cc, n)
						}
					}
				}
			default:
				fields[lk] = v
			}
		}
	}
	return to, cc, fields
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
	to, cc, fields := mailtoParts(nt.Method)
	var ccKept []string
	for _, c := range cc {
		if !containsFold(to, c) && !containsFold(ccKept, c) {
			ccKept = append(ccKept, c)
		}
	}
	cc = ccKept
	from := nt.From
	if from == "" {
		from = "Postmaster <" + EnvelopeFrom("postmaster", "", env, opts) + ">"
	}
	subject := fields["subject"]
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
	body := fields["body"]
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
	for _, rc := range append(to, cc...) {
		if !seen[strings.ToLower(rc)] {
			seen[strings.ToLower(rc)] = true
			out = append(out, Outgoing{From: envFrom, To: rc, Message: msg})
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
