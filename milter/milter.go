package milter

import (
	"context"
	"log/slog"
	"strings"

	"github.com/gomilter/gomilter/internal/mailmsg"
)

// Milter handles the events of one MTA connection (one SMTP session in
// Postfix). The server makes one value per connection with the function
// given to NewServer and calls its methods from a single goroutine, so a
// Milter needs no locking for its own fields. The same value serves every
// message on the connection: keep per-connection state (client, HELO) in
// fields and reset per-message state in MailFrom or Abort.
//
// Every callback gets the connection's context, cancelled as soon as the
// MTA hangs up or times out (a reader goroutine watches the socket even
// while a callback runs) or the server is closed. A returned error is logged once and
// answered with SMFIR_TEMPFAIL; a panic is recovered the same way (and
// counted in gomilter_milter_panics_total). Never put an error's text in
// a reply: use ReplyCode with fixed text instead.
//
// Events for which the server negotiated "no reply" (Options.NoReply)
// cannot answer at once; a final response returned from one (Reject from
// Header, say) is held and sent at the next event that has a reply, and
// later callbacks of that message are not made.
type Milter interface {
	// Connect is called once per SMTP session with the client's address.
	Connect(ctx context.Context, c ConnectInfo, m *Macros) (Response, error)
	// Helo is called for each HELO/EHLO (again after STARTTLS).
	Helo(ctx context.Context, name string, m *Macros) (Response, error)
	// MailFrom starts a transaction: from is the address without angle
	// brackets ("" for the null sender), args the ESMTP parameters.
	MailFrom(ctx context.Context, from string, args []string, m *Macros) (Response, error)
	// RcptTo is called per recipient Postfix accepted; Reject or TempFail
	// refuses only this recipient.
	RcptTo(ctx context.Context, rcpt string, args []string, m *Macros) (Response, error)
	// Data is called at DATA; only MTAs speaking protocol 4 or later send it.
	Data(ctx context.Context, m *Macros) (Response, error)
	// Header is called per header field in order. value is the raw text
	// after the colon (leading whitespace kept, folded lines joined by
	// "\n"); use HeaderField for a mailmsg.Field with CRLF folding.
	Header(ctx context.Context, name, value string, m *Macros) (Response, error)
	// EndOfHeaders is called after the last header.
	EndOfHeaders(ctx context.Context, m *Macros) (Response, error)
	// BodyChunk is called per body chunk (CRLF lines, at most 65535
	// bytes). chunk is reused after the call returns: copy what you keep.
	BodyChunk(ctx context.Context, chunk []byte, m *Macros) (Response, error)
	// EndOfMessage is the only place where mod may change the message.
	EndOfMessage(ctx context.Context, mod *Modifier, m *Macros) (Response, error)
	// Abort ends the current transaction without end of message (RSET,
	// a rejected message, a client that went away). The connection stays.
	Abort(ctx context.Context, m *Macros) error
	// Close is called once when the connection ends (QUIT, EOF, error or
	// server shutdown). Its ctx carries the connection's values but is
	// never cancelled, so cleanup can finish.
	Close(ctx context.Context)
}

// NoOpMilter continues at every event. Embed it and override what you need.
type NoOpMilter struct{}

var _ Milter = NoOpMilter{}

// Connect implements Milter.
func (NoOpMilter) Connect(context.Context, ConnectInfo, *Macros) (Response, error) {
	return Continue, nil
}

// Helo implements Milter.
func (NoOpMilter) Helo(context.Context, string, *Macros) (Response, error) { return Continue, nil }

// MailFrom implements Milter.
func (NoOpMilter) MailFrom(context.Context, string, []string, *Macros) (Response, error) {
	return Continue, nil
}

// RcptTo implements Milter.
func (NoOpMilter) RcptTo(context.Context, string, []string, *Macros) (Response, error) {
	return Continue, nil
}

// Data implements Milter.
func (NoOpMilter) Data(context.Context, *Macros) (Response, error) { return Continue, nil }

// Header implements Milter.
func (NoOpMilter) Header(context.Context, string, string, *Macros) (Response, error) {
	return Continue, nil
}

// EndOfHeaders implements Milter.
func (NoOpMilter) EndOfHeaders(context.Context, *Macros) (Response, error) { return Continue, nil }

// BodyChunk implements Milter.
func (NoOpMilter) BodyChunk(context.Context, []byte, *Macros) (Response, error) {
	return Continue, nil
}

// EndOfMessage implements Milter.
func (NoOpMilter) EndOfMessage(context.Context, *Modifier, *Macros) (Response, error) {
	return Continue, nil
}

// Abort implements Milter.
func (NoOpMilter) Abort(context.Context, *Macros) error { return nil }

// Close implements Milter.
func (NoOpMilter) Close(context.Context) {}

// HeaderField converts a Header callback's name and value into a
// mailmsg.Field, turning the "\n" between folded lines into CRLF so the
// field's Raw() is the header as it travelled.
func HeaderField(name, value string) mailmsg.Field {
	if strings.IndexByte(value, '\n') >= 0 {
		value = strings.ReplaceAll(value, "\r\n", "\n")
		value = strings.ReplaceAll(value, "\n", "\r\n")
	}
	return mailmsg.Field{Name: name, Value: value}
}

type logAttrsKey struct{}

// AddLogAttrs adds attributes to the one log line the server writes at
// the end of the current transaction (e.g. dkim=pass, spam score). It
// does nothing when ctx is not a callback context of this package.
func AddLogAttrs(ctx context.Context, attrs ...slog.Attr) {
	if tx, ok := ctx.Value(logAttrsKey{}).(*txLog); ok {
		tx.attrs = append(tx.attrs, attrs...)
	}
}

// Negotiated returns what OPTNEG settled for the connection of ctx:
// protocol version, actions and protocol flags (zero outside callbacks).
func Negotiated(ctx context.Context) OptNeg {
	if tx, ok := ctx.Value(logAttrsKey{}).(*txLog); ok {
		return tx.neg
	}
	return OptNeg{}
}
