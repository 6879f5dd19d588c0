package spam

import (
	"context"
	"errors"
	"fmt"

	"github.com/gomilter/gomilter/internal/bayes"
	"github.com/prometheus/client_golang/prometheus"
)

// Bayes is internal/bayes: one classifier and one database format for the
// milter, `gomilter spam learn` and spamd's TELL. The engine only decides
// which score set applies and maps the probability onto SpamAssassin's
// BAYES_xx rules (check_bayes ranges from 23_bayes.cf).

// ErrNoBayes is returned by Learn when the engine has no Bayes database.
var ErrNoBayes = errors.New("spam: Bayes is not enabled (Options.BayesPath, use_bayes)")

type bayesDB struct {
	c          *bayes.Classifier
	store      bayes.Store
	minLearned uint64
}

func openBayes(path string, reg prometheus.Registerer) (*bayesDB, error) {
	st, err := bayes.OpenBolt(path, bayes.BoltOptions{})
	if err != nil {
		return nil, fmt.Errorf("spam: bayes: %w", err)
	}
	c, err := bayes.New(bayes.Options{Store: st, Registerer: reg})
	if err != nil {
		st.Close()
		return nil, err
	}
	return &bayesDB{c: c, store: st, minLearned: 200}, nil
}

func (b *bayesDB) close() error { return b.store.Close() }

// ready reports whether enough mail was learned for the Bayes score set
// (bayes_min_spam_num / bayes_min_ham_num).
func (b *bayesDB) ready(ctx context.Context) bool {
	if b == nil {
		return false
	}
	s, h, err := b.store.Totals(ctx, "")
	return err == nil && s >= b.minLearned && h >= b.minLearned
}

// Learn trains the Bayes database with one raw message as spam or ham
// (sa-learn --spam/--ham). It reports whether the database changed.
func (e *Engine) Learn(ctx context.Context, raw []byte, spam bool) (bool, error) {
	if e.bayes == nil {
		return false, ErrNoBayes
	}
	return e.bayes.c.Learn(ctx, bayes.ParseMessage(raw), spam, "")
}

// BayesCounts returns how many spam and ham messages were learned.
func (e *Engine) BayesCounts() (spam, ham int) {
	if e.bayes == nil {
		return 0, 0
	}
	s, h, _ := e.bayes.store.Totals(context.Background(), "")
	return int(s), int(h)
}

// scoreBayes computes the message's probability once, before the rules.
func (m *msgState) scoreBayes(ctx context.Context, raw []byte) {
	p, ok, err := m.e.bayes.c.Score(ctx, bayes.ParseMessage(raw), "")
	if err == nil && ok {
		m.bayesProb = &p
	}
}

func (m *msgState) bayesScore() (float64, bool) {
	if m.bayesProb == nil {
		return 0.5, false
	}
	return *m.bayesProb, true
}

func init() {
	regEval("check_bayes", boolEval(func(m *msgState, args []string) bool {
		if len(args) < 2 {
			return false
		}
		p, ok := m.bayesScore()
		if !ok {
			return false
		}
		max := 1.0
		if args[1] != "undef" {
			max = atof(args[1])
		}
		return bayes.InRange(p, atof(args[0]), max)
	}))
}
