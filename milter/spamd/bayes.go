package spamd

import (
	"context"

	"github.com/gomilter/gomilter/internal/bayes"
)

// BayesLearner is a Learner backed by a Bayes classifier.
type BayesLearner struct {
	C *bayes.Classifier
	// GlobalOnly ignores the User header and learns into the global
	// database (the usual site-wide setup).
	GlobalOnly bool
}

// NewBayesLearner returns a Learner over c with per-user databases.
func NewBayesLearner(c *bayes.Classifier) *BayesLearner { return &BayesLearner{C: c} }

func (b *BayesLearner) user(u string) string {
	if b.GlobalOnly {
		return ""
	}
	return u
}

// Learn implements Learner.
func (b *BayesLearner) Learn(ctx context.Context, raw []byte, user string, spam bool) (bool, error) {
	return b.C.Learn(ctx, bayes.ParseMessage(raw), spam, b.user(user))
}

// Forget implements Learner.
func (b *BayesLearner) Forget(ctx context.Context, raw []byte, user string) (bool, error) {
	return b.C.Forget(ctx, bayes.ParseMessage(raw), b.user(user))
}

var _ Learner = (*BayesLearner)(nil)
