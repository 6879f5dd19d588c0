package spam

import (
	"context"
	"math"
	"strings"
)

// autoLearnPoints adds up what SpamAssassin's AutoLearnThreshold plugin
// judges a message by: the visible rules hit, scored with the score set
// that leaves Bayes out, without rules flagged noautolearn or userconf;
// rules flagged learn (the BAYES_xx ones) count apart as the learner's own
// opinion. Header and body points are kept apart because spam is learned
// only with at least 3 of each (one kind of evidence alone must not train);
// a meta rule's points are split by the kinds of its direct dependencies.
func (e *Engine) autoLearnPoints(m *msgState) (points, head, body, learned float64, force bool) {
	set := m.set.set &^ 2
	for name := range m.hits {
		if strings.HasPrefix(name, "__") {
			continue
		}
		r := e.conf.Rules[name]
		if _, ok := r.TFlags["noautolearn"]; ok {
			continue
		}
		if _, ok := r.TFlags["userconf"]; ok {
			continue
		}
		if _, ok := r.TFlags["learn"]; ok {
			learned += r.Score[m.set.set]
			continue
		}
		if _, ok := r.TFlags["autolearn_force"]; ok {
			force = true
		}
		s := r.Score[set]
		if s == 0 {
			continue
		}
		kind := learnKind(r)
		if _, ok := r.TFlags["autolearn_header"]; ok {
			kind = "head"
		} else if _, ok := r.TFlags["autolearn_body"]; ok {
			kind = "body"
		}
		switch kind {
		case "head":
			head += s
		case "body":
			body += s
		case "meta":
			var nh, nb int
			for _, d := range r.deps {
				if dr := e.conf.Rules[d]; dr != nil {
					switch learnKind(dr) {
					case "head":
						nh++
					case "body":
						nb++
					}
				}
			}
			if n := nh + nb; n > 0 {
				head += round3(s * float64(nh) / float64(n))
				body += round3(s * float64(nb) / float64(n))
			}
		}
		points += s
	}
	return round3(points), head, body, learned, force
}

func learnKind(r *Rule) string {
	switch r.Kind {
	case KindHeader, KindMimeheader:
		return "head"
	case KindBody, KindRawbody, KindURI:
		return "body"
	case KindMeta:
		return "meta"
	}
	return "" // full rules count toward the total only
}

func round3(v float64) float64 { return math.Round(v*1000) / 1000 }

// autoLearn decides as SpamAssassin does whether the scanned message
// trains Bayes, learns it if so, and returns the autolearn= word of
// X-Spam-Status: ham, spam, no, disabled, unavailable or failed.
func (e *Engine) autoLearn(ctx context.Context, m *msgState, res *Result) string {
	c := e.conf
	if !c.UseBayes || !c.BayesAutoLearn {
		return "disabled"
	}
	if e.bayes == nil || m.raw == nil {
		return "unavailable"
	}
	if m.timedOut {
		return "no" // a partial score says nothing either way
	}
	points, head, body, learned, force := e.autoLearnPoints(m)
	var spam bool
	switch {
	case points < c.AutoLearnHamThreshold:
		if learned > 1 || res.IsSpam {
			return "no"
		}
	case points >= c.AutoLearnSpamThresh:
		need := 3.0
		if force {
			need = -99
		}
		if body < need || head < need || learned < -1 || !res.IsSpam {
			return "no"
		}
		spam = true
	default:
		return "no"
	}
	if ctx == nil {
		ctx = context.Background()
	}
	ok, err := e.bayes.c.LearnTokens(ctx, m.bayesTokens(), spam, "")
	switch {
	case err != nil:
		return "failed"
	case !ok:
		return "no" // learned before: learning twice is a no-op
	case spam:
		return "spam"
	}
	return "ham"
}
