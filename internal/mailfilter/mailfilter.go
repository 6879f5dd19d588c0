// Package mailfilter is the milter application: it collects one SMTP
// transaction from the milter server (envelope, headers, body), runs the
// configured checks at end of message (DKIM/SPF/ARC/DMARC verification,
// spam scoring), adds exactly one Authentication-Results header with our
// authserv-id after deleting forged ones, and signs last, so signatures
// cover the message as it leaves.
package mailfilter

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"sync/atomic"

	"github.com/gomilter/gomilter/internal/mailmsg"
	"github.com/gomilter/gomilter/milter"
)

// Check runs at end of message and records what it found in tx: results
// for the Authentication-Results header, headers to add, or a decision.
// A Check returns an error only for a failure of its own (it is logged and
// the check is skipped); a temporary DNS problem is a result (temperror),
// not an error.
type Check interface {
	Name() string
	Check(ctx context.Context, tx *Tx) error
}

// Signer runs after every check and after the Authentication-Results
// header is in place; it returns fields to prepend (DKIM-Signature,
// ARC set) computed over tx.Final().
type Signer interface {
	Name() string
	Sign(ctx context.Context, tx *Tx) ([]mailmsg.Field, error)
}

// Options configure a Filter. They are replaced as a whole on reload;
// connections already open keep the Options they started with.
type Options struct {
	// AuthservID is written into, and protected in, Authentication-Results.
	AuthservID string
	// MaxMessageSize bounds the bytes of one message kept for the checks;
	// a larger message passes with an Authentication-Results of "none" and
	// a log line, never a rejection. Default 64 MiB.
	MaxMessageSize int
	Checks         []Check
	Signers        []Signer
	Logger         *slog.Logger
}

// Filter makes one milter.Milter per connection.
type Filter struct {
	opts atomic.Pointer[Options]
}

// New returns a Filter using opts.
func New(opts Options) (*Filter, error) {
	f := &Filter{}
	return f, f.Update(opts)
}

// Update replaces the options for connections opened from now on.
func (f *Filter) Update(opts Options) error {
	if opts.AuthservID == "" {
		return fmt.Errorf("mailfilter: AuthservID is required")
	}
	if opts.MaxMessageSize <= 0 {
		opts.MaxMessageSize = 64 << 20
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	f.opts.Store(&opts)
	return nil
}

// NewMilter is the per-connection constructor for milter.NewServer.
func (f *Filter) NewMilter(context.Context) milter.Milter {
	return &conn{opts: f.opts.Load()}
}

// conn is the state of one SMTP session: connection facts survive every
// message; tx is reset per transaction.
type conn struct {
	milter.NoOpMilter
	opts *Options
	env  mailmsg.Envelope // connection part: ClientAddr, ClientName, Helo, Local
	tx   *Tx
}

var _ milter.Milter = (*conn)(nil)

func (c *conn) Connect(_ context.Context, ci milter.ConnectInfo, _ *milter.Macros) (milter.Response, error) {
	c.env.ClientAddr = ci.Addr
	c.env.ClientName = ci.Host
	// Postfix's cleanup simulates the connection of non_smtpd_milters mail
	// as localhost/127.0.0.1 with no port; a real SMTP client always has one.
	c.env.Local = ci.Port == 0 && ci.Addr.IsLoopback()
	if !ci.Addr.IsValid() {
		c.env.Local = ci.Family == milter.FamilyUnknown || ci.Family == milter.FamilyUnix
	}
	return milter.Continue, nil
}

func (c *conn) Helo(_ context.Context, name string, _ *milter.Macros) (milter.Response, error) {
	c.env.Helo = name
	return milter.Continue, nil
}

func (c *conn) MailFrom(_ context.Context, from string, _ []string, m *milter.Macros) (milter.Response, error) {
	env := c.env
	env.MailFrom = from
	env.Rcpts = nil
	env.AuthUser = m.Get("{auth_authen}")
	env.DaemonName = m.Get("{daemon_name}")
	c.tx = &Tx{Env: env, Msg: &mailmsg.Message{}}
	return milter.Continue, nil
}

func (c *conn) RcptTo(_ context.Context, rcpt string, _ []string, _ *milter.Macros) (milter.Response, error) {
	if c.tx != nil {
		c.tx.Env.Rcpts = append(c.tx.Env.Rcpts, rcpt)
	}
	return milter.Continue, nil
}

func (c *conn) Header(_ context.Context, name, value string, _ *milter.Macros) (milter.Response, error) {
	if c.tx == nil {
		return milter.Continue, nil
	}
	f := milter.HeaderField(name, value)
	c.tx.size += len(f.Name) + len(f.Value) + 3
	c.tx.Msg.Header = append(c.tx.Msg.Header, f)
	return milter.Continue, nil
}

func (c *conn) BodyChunk(_ context.Context, chunk []byte, _ *milter.Macros) (milter.Response, error) {
	if c.tx == nil || c.tx.tooBig {
		return milter.Continue, nil
	}
	c.tx.size += len(chunk)
	if c.tx.size > c.opts.MaxMessageSize {
		c.tx.tooBig = true
		c.tx.body = bytes.Buffer{}
		return milter.Continue, nil
	}
	c.tx.body.Write(chunk)
	return milter.Continue, nil
}

func (c *conn) Abort(context.Context, *milter.Macros) error {
	c.tx = nil
	return nil
}

// EndOfMessage runs the checks, rewrites Authentication-Results and signs.
func (c *conn) EndOfMessage(ctx context.Context, mod *milter.Modifier, m *milter.Macros) (milter.Response, error) {
	tx := c.tx
	c.tx = nil
	if tx == nil {
		return milter.Continue, nil
	}
	tx.Env.QueueID = m.Get("i")
	tx.Msg.Body = tx.body.Bytes()
	return c.finish(ctx, tx, mod)
}
