package mailfilter

import (
	"bytes"
	"context"
	"log/slog"
	"strings"

	"github.com/gomilter/gomilter/internal/authres"
	"github.com/gomilter/gomilter/internal/mailmsg"
	"github.com/gomilter/gomilter/internal/spf"
	"github.com/gomilter/gomilter/milter"
	"github.com/gomilter/gomilter/milter/arc"
	"github.com/gomilter/gomilter/milter/dkim"
)

// Tx is one message as the checks see it, and what they decided.
type Tx struct {
	Env mailmsg.Envelope
	// Msg is the message as received (Postfix hides its own Received:).
	Msg *mailmsg.Message
	// Results go into our Authentication-Results header, in order.
	Results []authres.Result
	// Prepend are header fields a check adds at the top (X-Spam-*,
	// Received-SPF...), in the order they should appear.
	Prepend []mailmsg.Field
	// Decision, when not Continue, ends the transaction (reject,
	// tempfail, quarantine, discard). The first check to set it wins.
	Decision milter.Response
	// LogAttrs are added to the transaction's log line.
	LogAttrs []slog.Attr
	// RemoveFields names incoming header fields to delete, every
	// occurrence (forged X-Spam-* markers, say).
	RemoveFields []string
	// NewSubject, when set, replaces the Subject (spam tagging).
	NewSubject string
	// NewBody, when not nil, replaces the body (CRLF line ends): spam
	// wrapped with SpamAssassin's report, the original attached.
	NewBody []byte
	// Auth is what the authentication checks found, for the checks that
	// combine them (DMARC reads SPF, DKIM and ARC; the ARC sealer the chain).
	Auth Auth

	body   bytes.Buffer
	size   int
	tooBig bool
	final  *mailmsg.Message
}

// Auth collects the authentication results of one message.
type Auth struct {
	SPF  *spf.Result // nil when SPF was not checked
	DKIM []dkim.Result
	ARC  *arc.Result // nil when ARC was not checked
}

// Decide records a final decision unless an earlier check made one.
func (tx *Tx) Decide(r milter.Response) {
	if tx.Decision.Code() == milter.RespContinue || tx.Decision.Code() == 0 {
		tx.Decision = r
	}
}

// Final returns the message as it will leave: our added fields on top,
// forged Authentication-Results removed. Signers sign this.
func (tx *Tx) Final() *mailmsg.Message { return tx.final }

func (c *conn) finish(ctx context.Context, tx *Tx, mod *milter.Modifier) (milter.Response, error) {
	o := c.opts
	if tx.tooBig {
		o.Logger.Warn("message larger than max_message_size: not checked", "queue_id", tx.Env.QueueID, "limit", o.MaxMessageSize)
	} else {
		for _, ch := range o.Checks {
			if err := ch.Check(ctx, tx); err != nil {
				o.Logger.Error("check failed; skipped", "check", ch.Name(), "queue_id", tx.Env.QueueID, "err", err)
			}
		}
	}
	if err := deleteForged(mod, tx.Msg.Header, o.AuthservID); err != nil {
		return milter.TempFail, err
	}
	if err := applyEdits(mod, tx); err != nil {
		return milter.TempFail, err
	}
	if tx.NewBody != nil {
		if err := mod.ReplaceBody(tx.NewBody); err != nil {
			return milter.TempFail, err
		}
	}
	ar := authres.Field(o.AuthservID, tx.Results)
	added := append([]mailmsg.Field{ar}, tx.Prepend...)
	tx.final = finalMessage(tx, added, o.AuthservID)
	if !tx.tooBig && (tx.Decision.Code() == 0 || tx.Decision.Code() == milter.RespContinue) {
		for _, s := range o.Signers {
			sigs, err := s.Sign(ctx, tx)
			if err != nil {
				o.Logger.Error("signing failed; message passes unsigned", "signer", s.Name(), "queue_id", tx.Env.QueueID, "err", err)
				continue
			}
			added = append(sigs, added...)
			tx.final = finalMessage(tx, added, o.AuthservID)
		}
	}
	// Insert in reverse so the first field of added ends up on top.
	for i := len(added) - 1; i >= 0; i-- {
		if err := mod.InsertHeader(0, added[i].Name, unCRLF(added[i].Value)); err != nil {
			return milter.TempFail, err
		}
	}
	milter.AddLogAttrs(ctx, tx.LogAttrs...)
	if tx.Decision.Code() == 0 {
		return milter.Continue, nil
	}
	return tx.Decision, nil
}

// deleteForged removes every Authentication-Results field claiming our
// authserv-id (RFC 8601 section 5). ChangeHeader's index counts fields of
// that name, 1-based, as Postfix received them.
func deleteForged(mod *milter.Modifier, h []mailmsg.Field, id string) error {
	forged := authres.Forged(h, id)
	if len(forged) == 0 {
		return nil
	}
	isForged := map[int]bool{}
	for _, i := range forged {
		isForged[i] = true
	}
	n := 0
	for i, f := range h {
		if !strings.EqualFold(f.Name, authres.HeaderName) {
			continue
		}
		n++
		if isForged[i] {
			if err := mod.DeleteHeader(n, f.Name); err != nil {
				return err
			}
		}
	}
	return nil
}

func finalMessage(tx *Tx, added []mailmsg.Field, id string) *mailmsg.Message {
	m := tx.Msg
	drop := map[int]bool{}
	for _, i := range authres.Forged(m.Header, id) {
		drop[i] = true
	}
	subjectDone := false
	h := make([]mailmsg.Field, 0, len(added)+len(m.Header))
	h = append(h, added...)
	for i, f := range m.Header {
		if drop[i] || removed(tx, f.Name) {
			continue
		}
		if tx.NewSubject != "" && !subjectDone && strings.EqualFold(f.Name, "Subject") {
			f = mailmsg.Field{Name: f.Name, Value: " " + tx.NewSubject}
			subjectDone = true
		}
		h = append(h, f)
	}
	body := m.Body
	if tx.NewBody != nil {
		body = tx.NewBody
	}
	return &mailmsg.Message{Header: h, Body: body}
}

func removed(tx *Tx, name string) bool {
	for _, r := range tx.RemoveFields {
		if strings.EqualFold(r, name) {
			return true
		}
	}
	return false
}

// applyEdits deletes RemoveFields (highest index first, so the numbers
// of the remaining occurrences do not move) and rewrites the Subject.
func applyEdits(mod *milter.Modifier, tx *Tx) error {
	done := map[string]bool{}
	for _, name := range tx.RemoveFields {
		// A name listed twice (one entry per forged X-Spam-Flag, say) is
		// deleted once: a second pass would aim at indexes already gone.
		if done[strings.ToLower(name)] {
			continue
		}
		done[strings.ToLower(name)] = true
		n := len(tx.Msg.All(name))
		for i := n; i >= 1; i-- {
			if err := mod.DeleteHeader(i, name); err != nil {
				return err
			}
		}
	}
	if tx.NewSubject == "" {
		return nil
	}
	if len(tx.Msg.All("Subject")) == 0 {
		return mod.AddHeader("Subject", " "+tx.NewSubject)
	}
	return mod.ChangeHeader(1, "Subject", " "+tx.NewSubject)
}

// unCRLF turns our CRLF folding into the LF folding the milter protocol
// wants in header values.
func unCRLF(v string) string { return strings.ReplaceAll(v, "\r\n", "\n") }
