package spamd

import (
	"context"

	"github.com/gomilter/gomilter/internal/mailmsg"
)

// Verdict is what the spam engine says about one message.
type Verdict struct {
	Score, Required float64
	IsSpam          bool
	// Rules are the names of the rules that hit, for SYMBOLS.
	Rules []string
	// Report is the report text for REPORT and REPORT_IFSPAM.
	Report string
	// Headers are the X-Spam-* fields to add; PROCESS and HEADERS append
	// them to the message when Rewritten is nil.
	Headers []mailmsg.Field
	// Rewritten, if not nil, is the whole message PROCESS returns (for
	// example with a spam report wrapped around it).
	Rewritten []byte
}

// Scorer scores a raw message for a user ("" when the client sent none).
// raw is exactly what the client sent (often LF line ends). Return an
// *Error to choose the reply; other errors reply EX_TEMPFAIL.
type Scorer interface {
	Score(ctx context.Context, raw []byte, user string) (Verdict, error)
}

// ScorerFunc adapts a function to Scorer.
type ScorerFunc func(ctx context.Context, raw []byte, user string) (Verdict, error)

// Score implements Scorer.
func (f ScorerFunc) Score(ctx context.Context, raw []byte, user string) (Verdict, error) {
	return f(ctx, raw, user)
}

// Learner handles TELL: Learn records the message as spam or ham for user
// (learned is false when it already was), Forget removes it.
type Learner interface {
	Learn(ctx context.Context, raw []byte, user string, spam bool) (learned bool, err error)
	Forget(ctx context.Context, raw []byte, user string) (forgot bool, err error)
}

var _ Scorer = ScorerFunc(nil)
