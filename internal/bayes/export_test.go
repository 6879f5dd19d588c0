package bayes

import (
	"context"

	"github.com/gomilter/gomilter/internal/mailmsg"
)

// Test-only access for cv_test.go (build tag bayescv), an external test
// package because it builds its options with milter/spam, which imports
// this one.
// Tokenizing each message once, rather than once per fold, keeps the
// cross-validation fast.

// TokenHashes returns msg's tokens as c would learn or score them.
func (c *Classifier) TokenHashes(msg *mailmsg.Message) []Hash { return hashes(c.tokenize(msg)) }

// ScoreHashes scores already tokenized hashes against user's database.
func (c *Classifier) ScoreHashes(ctx context.Context, user string, toks []Hash) (float64, bool, error) {
	nspam, nham, err := c.store.Totals(ctx, user)
	if err != nil || nspam < c.minSpam || nham < c.minHam {
		return 0, false, err
	}
	return c.scoreTokens(ctx, user, toks, nspam, nham)
}

// Parallel lets the cross-validation (package bayes_test) share the
// corpus loader's worker pool.
var Parallel = parallel
