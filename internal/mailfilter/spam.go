package mailfilter

import (
	"context"
	"fmt"
	"log/slog"
	"net/netip"
	"strings"

	"github.com/gomilter/gomilter/internal/mailmsg"
	"github.com/gomilter/gomilter/milter"
	"github.com/gomilter/gomilter/milter/spam"
)

// Spam scores the message with SpamAssassin's rules and writes
// SpamAssassin's own headers (X-Spam-Flag, X-Spam-Status, X-Spam-Level,
// X-Spam-Checker-Version), so existing Sieve rules keep filing. Incoming
// X-Spam-* fields are removed first. Above RejectScore the message is
// refused at end of data (550 5.7.1); above QuarantineScore it is held.
type Spam struct {
	Engine *spam.Engine
	// RejectScore and QuarantineScore: 0 = never.
	RejectScore, QuarantineScore float64
	// CheckAuthenticated also scores our own users' mail (authenticated,
	// local and Internal clients), which is exempt by default.
	CheckAuthenticated bool
	Internal           []netip.Prefix
}

func (*Spam) Name() string { return "spam" }

func (s *Spam) Check(ctx context.Context, tx *Tx) error {
	if !s.CheckAuthenticated && !inbound(tx, s.Internal) {
		return nil
	}
	res := s.Engine.Check(ctx, &tx.Env, tx.Msg)
	if res.Err != nil {
		return fmt.Errorf("spam check: %w", res.Err) // logged; the mail passes unscored
	}
	tx.RemoveFields = append(tx.RemoveFields, res.RemoveHeaders...)
	for _, h := range res.Headers {
		// mailmsg folds with CRLF; the engine folds as SpamAssassin, with LF.
		v := strings.ReplaceAll(strings.ReplaceAll(h.Value, "\r\n", "\n"), "\n", "\r\n")
		tx.Prepend = append(tx.Prepend, mailmsg.Field{Name: h.Name, Value: " " + v})
	}
	if res.Subject != "" {
		tx.NewSubject = res.Subject
	}
	tx.LogAttrs = append(tx.LogAttrs, slog.Float64("spam_score", res.Score), slog.Bool("spam", res.IsSpam))
	switch {
	case res.TimedOut:
		// A partial score may be too low or too high: tag, never act on it.
		tx.LogAttrs = append(tx.LogAttrs, slog.Bool("spam_timed_out", true))
	case s.RejectScore > 0 && res.Score >= s.RejectScore:
		r, err := milter.ReplyCode(fmt.Sprintf("550 5.7.1 Message rejected as spam (score %.1f)", res.Score))
		if err != nil {
			return err
		}
		tx.Decide(r)
	case s.QuarantineScore > 0 && res.Score >= s.QuarantineScore:
		tx.Decide(milter.Quarantine(fmt.Sprintf("spam score %.1f", res.Score)))
	}
	return nil
}
