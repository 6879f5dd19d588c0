package spam

import "slices"

// RuleNames lists the rules that run for every message when Bayes is not
// in use, in load order. Comparisons with
// SpamAssassin's hits (contrib/bench/spam.sh) count only these, so a rule
// we skip (unimplemented eval, zero score) is not scored as a disagreement.
func (e *Engine) RuleNames() []string { return slices.Clone(e.sets[0].ruleList) }
