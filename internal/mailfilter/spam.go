package mailfilter

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"net/netip"
	"strings"

	"github.com/gomilter/gomilter/internal/authres"
	"github.com/gomilter/gomilter/internal/mailmsg"
	"github.com/gomilter/gomilter/milter"
	"github.com/gomilter/gomilter/milter/spam"
)

// Spam scores the message with SpamAssassin's rules and writes
// SpamAssassin's own headers (X-Spam-Flag, X-Spam-Status, X-Spam-Level,
// X-Spam-Checker-Version), so existing Sieve rules keep filing. Incoming
// X-Spam-* fields are removed first. With the configuration's report_safe
// 1 or 2 (SpamAssassin's default is 1), spam is rewritten as SpamAssassin
// does: the body is replaced by the report with the original message
// attached, and the header keeps From, To, Cc, Subject, Date and
// Message-Id. Above RejectScore the message is refused at end of data
// (550 5.7.1); above QuarantineScore it is held.
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
	res := s.Engine.CheckAuth(ctx, &tx.Env, tx.Msg, spamAuth(tx))
	if res.Err != nil {
		return fmt.Errorf("spam check: %w", res.Err) // logged; the mail passes unscored
	}
	if x := s.encapsulation(ctx, tx, res); x != nil {
		wrap(tx, x)
	} else {
		tx.RemoveFields = append(tx.RemoveFields, res.RemoveHeaders...)
		prependSA(tx, res.Headers)
		if res.Subject != "" {
			tx.NewSubject = res.Subject
		}
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

// encapsulation is the report_safe rewrite of a spam message (the
// configuration's report_safe 1 or 2), or nil: ham, report_safe 0, or an
// MTA that does not let us replace the body (then only headers change).
func (s *Spam) encapsulation(ctx context.Context, tx *Tx, res *spam.Result) *spam.Encapsulation {
	if !res.Encapsulates() || res.TimedOut {
		return nil
	}
	if milter.Negotiated(ctx).Actions&milter.ActChangeBody == 0 {
		tx.LogAttrs = append(tx.LogAttrs, slog.String("spam_report_safe", "body change not negotiated; headers only"))
		return nil
	}
	return res.Encapsulate(rawMessage(tx.Msg))
}

// wrap applies SpamAssassin's report_safe rewrite: the body becomes the
// report plus the original message attached, and the header keeps only
// From, To, Cc, Subject, Date, Message-Id (and report_safe_copy_headers)
// beside the new X-Spam-*, MIME-Version and Content-Type fields. Our
// Authentication-Results handling stays with the pipeline.
func wrap(tx *Tx, x *spam.Encapsulation) {
	seen := map[string]bool{}
	for _, f := range tx.Msg.Header {
		ln := strings.ToLower(f.Name)
		if seen[ln] || x.Keeps(f.Name) || strings.EqualFold(f.Name, authres.HeaderName) {
			continue
		}
		seen[ln] = true
		tx.RemoveFields = append(tx.RemoveFields, f.Name)
	}
	prependSA(tx, x.Headers)
	if x.Subject != "" {
		tx.NewSubject = crlf(x.Subject)
	}
	tx.NewBody = x.Body
	tx.LogAttrs = append(tx.LogAttrs, slog.Bool("spam_wrapped", true))
}

// prependSA adds the engine's fields on top; the engine folds as
// SpamAssassin does, with LF, and mailmsg folds with CRLF.
func prependSA(tx *Tx, hs []spam.HeaderField) {
	for _, h := range hs {
		tx.Prepend = append(tx.Prepend, mailmsg.Field{Name: h.Name, Value: " " + crlf(h.Value)})
	}
}

func crlf(v string) string {
	return strings.ReplaceAll(strings.ReplaceAll(v, "\r\n", "\n"), "\n", "\r\n")
}

// rawMessage is the message as the engine checked it (CRLF line ends).
func rawMessage(m *mailmsg.Message) []byte {
	var b bytes.Buffer
	for _, f := range m.Header {
		b.WriteString(f.Raw())
	}
	b.WriteString("\r\n")
	b.Write(m.Body)
	return b.Bytes()
}
