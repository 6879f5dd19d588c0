package sievetest

import (
	"strings"

	"github.com/gomilter/gomilter/internal/mailmsg"
	"github.com/gomilter/gomilter/sieve"
)

// execute performs the collected result on the in-memory mail store and
// SMTP sink, as Pigeonhole's testsuite does for test_result_execute.
func (s *suite) execute(r *sieve.Runtime) bool {
	res := r.Result()
	env := r.Input().Envelope
	ok := true
	acts := res.Actions
	if s.execIdx > len(acts) {
		s.execIdx = 0
	}
	kept := false
	for _, a := range acts[s.execIdx:] {
		if !s.executeOne(r, res, a, env) {
			ok = false
		}
		kept = kept || a.Implicit
	}
	s.execIdx = len(acts)
	res.MarkExecuted()
	if !kept && !res.KeepCancelled() {
		s.store("INBOX", r.Message(), r.ImplicitKeepFlags())
	}
	for _, d := range res.Duplicates {
		s.dups[d.ID] = true
	}
	return ok && !res.Aborted
}

func (s *suite) executeOne(r *sieve.Runtime, res *sieve.Result, a *sieve.Action, env sieve.Envelope) bool {
	msg := a.Message
	if msg == nil {
		msg = r.Message()
	}
	switch a.Kind {
	case sieve.ActKeep:
		s.store("INBOX", msg, a.Flags)
	case sieve.ActFileinto:
		box := a.Mailbox
		if strings.EqualFold(box, "INBOX") {
			box = "INBOX"
		}
		if !s.mailboxes[box] && a.Create && !validMailboxName(box) {
			s.errs = append(s.errs, &sieve.Error{Pos: a.Pos, Script: a.Script,
				Msg: "failed to store into mailbox '" + box + "': Invalid mailbox name: Name has an empty hierarchy level"})
			s.store("INBOX", r.Input().Message, nil)
			return false
		}
		if !s.mailboxes[box] {
			if !a.Create {
				s.errs = append(s.errs, &sieve.Error{Pos: a.Pos, Script: a.Script,
					Msg: "failed to store into mailbox '" + box + "': Mailbox doesn't exist: " + box})
				// Fall back to the implicit keep of the message as received.
				s.store("INBOX", r.Input().Message, nil)
				return false
			}
			s.mailboxes[box] = true
		}
		s.store(box, msg, a.Flags)
	case sieve.ActRedirect:
		if o, ok := sieve.ComposeRedirect(a, env, r.Options()); ok {
			s.smtp = append(s.smtp, sent{from: o.From, to: o.To, msg: o.Message})
		}
	case sieve.ActReject, sieve.ActEreject:
		if env.From != "" && !a.Silent {
			s.smtp = append(s.smtp, sent{from: "", to: env.From, msg: rejectMessage(a, env)})
		}
	case sieve.ActVacation:
		if sieve.VacationSkipReason(a, env, r.Options()) == "" {
			from := ""
			if r.Options().VacationSendFromRecipient {
				from = env.To
			}
			s.smtp = append(s.smtp, sent{from: from, to: a.Vacation.To, msg: sieve.ComposeVacation(a, env.To, r.Options())})
		}
	case sieve.ActNotify:
		for _, o := range sieve.ComposeNotify(a, env, r.Options()) {
			s.smtp = append(s.smtp, sent{from: o.From, to: o.To, msg: o.Message})
		}
	}
	return true
}

func (s *suite) store(box string, m *mailmsg.Message, flags []string) {
	s.folders[box] = append(s.folders[box], stored{msg: cloneMsg(m), flags: append([]string(nil), flags...)})
}

func field(name, value string) mailmsg.Field { return mailmsg.Field{Name: name, Value: " " + value} }

func rejectMessage(a *sieve.Action, env sieve.Envelope) *mailmsg.Message {
	return &mailmsg.Message{Header: []mailmsg.Field{
		field("From", "Mail Delivery Subsystem <postmaster@example.com>"),
		field("To", "<"+env.From+">"),
		field("Subject", "Rejected: "+subjectOf(a.Message)),
		field("Auto-Submitted", "auto-replied (rejected)"),
		field("Content-Type", "text/plain; charset=utf-8"),
	}, Body: []byte(crlf(a.Reason) + "\r\n")}
}

func subjectOf(m *mailmsg.Message) string {
	if m == nil {
		return ""
	}
	v, _ := m.Get("Subject")
	return v
}

func crlf(s string) string {
	s = strings.ReplaceAll(s, "\r\n", "\n")
	return strings.ReplaceAll(s, "\n", "\r\n")
}

// validMailboxName applies the rule of Dovecot's mail storage that the
// suite's in-memory store stands for: with '/' as hierarchy separator, no
// level may be empty.
func validMailboxName(name string) bool {
	for _, level := range strings.Split(name, "/") {
		if level == "" {
			return false
		}
	}
	return true
}
