package milter_test

import (
	"context"
	"slices"
	"strings"

	"github.com/gomilter/gomilter/internal/mailmsg"
	"github.com/gomilter/gomilter/milter"
)

// txMilter remembers the transaction: sender local part, recipients,
// header names in order (behind Postfix's hidden Received:) and body.
type txMilter struct {
	milter.NoOpMilter
	from    string
	rcpts   []string
	headers []mailmsg.Field
	body    []byte
}

func (m *txMilter) MailFrom(_ context.Context, from string, _ []string, _ *milter.Macros) (milter.Response, error) {
	m.from, m.rcpts, m.headers, m.body = from, nil, nil, nil
	return milter.Continue, nil
}

func (m *txMilter) RcptTo(_ context.Context, rcpt string, _ []string, _ *milter.Macros) (milter.Response, error) {
	m.rcpts = append(m.rcpts, rcpt)
	return milter.Continue, nil
}

func (m *txMilter) Header(_ context.Context, name, value string, _ *milter.Macros) (milter.Response, error) {
	m.headers = append(m.headers, mailmsg.Field{Name: name, Value: value})
	return milter.Continue, nil
}

func (m *txMilter) BodyChunk(_ context.Context, c []byte, _ *milter.Macros) (milter.Response, error) {
	m.body = append(m.body, c...)
	return milter.Continue, nil
}

// headerMilter: header edits chosen by the sender.
type headerMilter struct{ txMilter }

// inserter tracks header positions as Postfix counts them for
// SMFIR_INSHEADER: index 0 is above Postfix's own Received:, which the
// milter never saw, so the first field the milter saw is at index 1.
type inserter struct {
	mod   *milter.Modifier
	names []string
}

func newInserter(mod *milter.Modifier, hs []mailmsg.Field) *inserter {
	in := &inserter{mod: mod, names: []string{"Received"}}
	for _, h := range hs {
		in.names = append(in.names, h.Name)
	}
	return in
}

// before inserts name: value before the first field called target.
func (in *inserter) before(target, name, value string) error {
	i := slices.IndexFunc(in.names, func(n string) bool { return strings.EqualFold(n, target) })
	if i < 0 {
		i = len(in.names)
	}
	in.names = slices.Insert(in.names, i, name)
	return in.mod.InsertHeader(i, name, value)
}

func (m *headerMilter) EndOfMessage(_ context.Context, mod *milter.Modifier, _ *milter.Macros) (milter.Response, error) {
	in := newInserter(mod, m.headers)
	first := ""
	if len(m.headers) > 0 {
		first = m.headers[0].Name
	}
	var errs []error
	switch local, _, _ := strings.Cut(m.from, "@"); local {
	case "add":
		errs = append(errs, mod.AddHeader("X-ADD1", " Test"), mod.AddHeader("X-ADD2", " Test"))
	case "add-first":
		errs = append(errs, in.before(first, "X-First1", " Test"), in.before(first, "X-First2", " Test"))
	case "add-middle":
		errs = append(errs, in.before("Subject", "X-Middle1", " Test"), in.before("Subject", "X-Middle2", " Test"))
	case "subject":
		errs = append(errs, mod.ChangeHeader(1, "Subject", " changed"))
	case "del":
		errs = append(errs, mod.DeleteHeader(1, "Subject"))
	case "multi":
		errs = append(errs, in.before(first, "X-First1", " Test"), in.before(first, "X-First2", " Test"),
			in.before("Date", "X-Before-DATE", " Test"), mod.DeleteHeader(1, "Subject"),
			mod.AddHeader("X-ADD1", " Test"), mod.AddHeader("X-ADD2", " Test"))
	case "multiline":
		errs = append(errs, mod.AddHeader("X-MultiLine", " Line1\r\n\tLine2\r\n\tLine3"))
	case "change-to":
		for _, h := range m.headers {
			if strings.EqualFold(h.Name, "To") {
				errs = append(errs, mod.ChangeHeader(1, "To", h.Value+",\n <to@example.org>"))
				break
			}
		}
	default:
		return milter.ReplyCode("500 unknown mail from")
	}
	for _, err := range errs {
		if err != nil {
			return milter.Continue, err
		}
	}
	return milter.Accept, nil
}

// bodyMilter: add@ gets "two" appended to its body.
type bodyMilter struct{ txMilter }

func (m *bodyMilter) EndOfMessage(_ context.Context, mod *milter.Modifier, _ *milter.Macros) (milter.Response, error) {
	if m.from == "add@example.com" {
		return milter.Accept, mod.ReplaceBody(append(m.body, "two\r\n"...))
	}
	return milter.Accept, nil
}

// mailFromMilter decides at MAIL by sender.
type mailFromMilter struct{ txMilter }

func (m *mailFromMilter) MailFrom(ctx context.Context, from string, args []string, mac *milter.Macros) (milter.Response, error) {
	m.txMilter.MailFrom(ctx, from, args, mac)
	switch from {
	case "temp-fail@example.com":
		return milter.TempFail, nil
	case "reject@example.com":
		return milter.Reject, nil
	case "discard@example.com":
		return milter.Discard, nil
	case "custom@example.com":
		return milter.ReplyCode("555 5.0.0 custom")
	case "quarantine@example.com":
		return milter.Quarantine("test"), nil
	}
	return milter.Continue, nil
}

func (m *mailFromMilter) EndOfMessage(_ context.Context, mod *milter.Modifier, _ *milter.Macros) (milter.Response, error) {
	if m.from == "change@example.com" {
		return milter.Accept, mod.ChangeFrom("another@example.com", "")
	}
	return milter.Accept, nil
}

// rcptToMilter validates each RCPT, decides at DATA by recipient and
// edits recipients at end of message.
type rcptToMilter struct{ txMilter }

func (m *rcptToMilter) RcptTo(ctx context.Context, rcpt string, args []string, mac *milter.Macros) (milter.Response, error) {
	switch rcpt {
	case "reject-one@example.com":
		return milter.Reject, nil
	case "discard-one@example.com":
		return milter.Discard, nil // discards the whole transaction
	}
	return m.txMilter.RcptTo(ctx, rcpt, args, mac)
}

func (m *rcptToMilter) Data(context.Context, *milter.Macros) (milter.Response, error) {
	has := func(a string) bool { return slices.Contains(m.rcpts, a) }
	switch {
	case has("temp-fail@example.com"):
		return milter.TempFail, nil
	case has("reject@example.com"):
		return milter.Reject, nil
	case has("discard@example.com"):
		return milter.Discard, nil
	case has("custom@example.com"):
		return milter.ReplyCode("555 5.0.0 custom")
	case has("quarantine@example.com"):
		return milter.Quarantine("test"), nil
	}
	return milter.Continue, nil
}

func (m *rcptToMilter) EndOfMessage(_ context.Context, mod *milter.Modifier, _ *milter.Macros) (milter.Response, error) {
	var err error
	if slices.Contains(m.rcpts, "add@example.com") {
		err = mod.AddRcpt("another@example.com", "")
	}
	if slices.Contains(m.rcpts, "change@example.com") {
		if err = mod.DelRcpt("change@example.com"); err == nil {
			err = mod.AddRcpt("another@example.com", "")
		}
	}
	return milter.Accept, err
}

// lowLevelMilter: a recipient refused with a custom reply, a sender
// refused at end of message with a multi-line reply.
type lowLevelMilter struct{ txMilter }

func (m *lowLevelMilter) RcptTo(_ context.Context, rcpt string, _ []string, _ *milter.Macros) (milter.Response, error) {
	if rcpt == "other-spammer@example.com" {
		return milter.ReplyCode("550 5.7.1 Rejected by example backend")
	}
	return milter.Continue, nil
}

func (m *lowLevelMilter) EndOfMessage(context.Context, *milter.Modifier, *milter.Macros) (milter.Response, error) {
	if m.from == "reject-me@example.com" {
		return milter.ReplyCode("550-5.7.1 We do not like you\r\n550 5.7.1 very much, please go away")
	}
	return milter.Accept, nil
}

// macroMilter fails every transaction that cannot see the MTA's FQDN (j),
// a CONNECT-stage macro, at end of message.
type macroMilter struct{ txMilter }

func (m *macroMilter) EndOfMessage(_ context.Context, _ *milter.Modifier, mac *milter.Macros) (milter.Response, error) {
	if mac.Get("j") == "" {
		return milter.ReplyCode("500 5.0.0 macro j missing")
	}
	return milter.Accept, nil
}
