package spam

// SA's DKIM plugin calls its signature results "dependable" when the
// caller supplied verified signatures, or when it verified them itself
// (which takes DNS) and the message was not truncated. The engine is given
// no DKIM results (the milter's own verification is not passed in) and
// runs no DNS lookups for DKIM, which is SA's situation with network tests
// off: __DKIM_DEPENDABLE never hits, and neither do the net-only
// DKIM_SIGNED/DKIM_VALID rules, whose evals are not implemented.

func init() {
	regEval("check_dkim_dependable", func(*msgState, []string) float64 { return 0 })
}
