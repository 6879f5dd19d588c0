package bayes

import (
	"math"
	"sort"
)

// Constants of the chi-squared combiner and Bayes plugin.
const (
	// DefaultRobinsonS is Robinson's s, the strength given to the prior x.
	// SpamAssassin 4.0.1's CombineChi.pm uses 0.030 with x = 0.538
	// (SAConstantsS/X); 0.160 with x = 0.5 did better in 5-fold
	// cross-validation on the shared corpus (82% vs 75% BAYES_95+ spam
	// recall, SpamAssassin itself 77%; no ham above 0.95 in any case), so
	// it is our default.
	DefaultRobinsonS = 0.160
	// DefaultRobinsonX is Robinson's x, the assumed probability of an unseen word.
	DefaultRobinsonX = 0.5
	// SAConstantsS and SAConstantsX are SpamAssassin 4.0.1's own s and x.
	SAConstantsS, SAConstantsX = 0.030, 0.538
	// MinProbStrength: tokens with |p-0.5| below it are not used.
	MinProbStrength = 0.346
	// MaxTokens is how many of the strongest tokens are combined.
	MaxTokens = 150
)

// Counts is how many learned spam and ham messages contained a token.
type Counts struct {
	Spam, Ham uint32
}

// tokenProb is Robinson's f(w): the token's spam ratio normalised by the
// class sizes, pulled towards x for rarely seen tokens. ok is false for
// tokens never seen or when a class is empty.
func tokenProb(c Counts, nspam, nham uint64, rs, rx float64) (p float64, ok bool) {
	if nspam == 0 || nham == 0 || c.Spam+c.Ham == 0 {
		return 0, false
	}
	s, n := float64(c.Spam), float64(c.Ham)
	p = s * float64(nham) / (n*float64(nspam) + s*float64(nham))
	total := s + n
	return (rs*rx + total*p) / (rs + total), true
}

// combine selects the strongest token probabilities and combines them with
// Fisher's method; ok is false when no token is strong enough.
func combine(probs []float64, nspam, nham uint64) (float64, bool) {
	// Strongest first; equal strengths ordered by value, so that the
	// result never depends on the order tokens came in.
	sort.Slice(probs, func(i, j int) bool {
		si, sj := math.Abs(probs[i]-0.5), math.Abs(probs[j]-0.5)
		if si != sj {
			return si > sj
		}
		return probs[i] > probs[j]
	})
	if len(probs) > MaxTokens {
		probs = probs[:MaxTokens]
	}
	used := probs[:0]
	for _, p := range probs {
		if math.Abs(p-0.5) >= MinProbStrength {
			used = append(used, p)
		}
	}
	if len(used) == 0 || nspam+nham == 0 {
		return 0, false
	}
	return chiCombine(used, nspam, nham), true
}

// chiCombine is Fisher's inverse chi-square combination: S measures how
// unlikely the spam evidence is under a random hypothesis, H the same for
// ham; the result (1 + S - H) / 2 is near 1 for spam, near 0 for ham and
// near 0.5 when the evidence conflicts. Products are kept in mantissa and
// exponent form so that 150 small factors cannot underflow.
func chiCombine(probs []float64, nspam, nham uint64) float64 {
	tot := float64(nspam + nham)
	S, H := float64(nspam)/tot, float64(nham)/tot
	var sExp, hExp int
	for _, p := range probs {
		S *= 1 - p
		H *= p
		if S < 1e-200 {
			var e int
			S, e = math.Frexp(S)
			sExp += e
		}
		if H < 1e-200 {
			var e int
			H, e = math.Frexp(H)
			hExp += e
		}
	}
	lnS := math.Log(S) + float64(sExp)*math.Ln2
	lnH := math.Log(H) + float64(hExp)*math.Ln2
	s := 1 - chi2Q(-2*lnS, len(probs))
	h := 1 - chi2Q(-2*lnH, len(probs))
	return (s - h + 1) / 2
}

// chi2Q is the probability that a chi-square variable with 2*halfV degrees
// of freedom exceeds x2 (the series for even degrees of freedom).
func chi2Q(x2 float64, halfV int) float64 {
	m := x2 / 2
	term := math.Exp(-m)
	sum := term
	for i := 1; i < halfV; i++ {
		term *= m / float64(i)
		sum += term
	}
	return math.Min(sum, 1)
}

// Rule returns the SpamAssassin rule (23_bayes.cf) a Bayes probability
// fires: BAYES_00 for p <= 0.01, BAYES_05 for 0.01 < p <= 0.05, and so on up
// to BAYES_99 for p > 0.99. BAYES_999 (p > 0.999) fires in addition to
// BAYES_99 in SpamAssassin; Rules returns both.
func Rule(prob float64) string {
	for _, r := range ranges {
		if prob <= r.max {
			return r.name
		}
	}
	return "BAYES_99"
}

// Rules returns every BAYES_xx rule prob fires (BAYES_99 and BAYES_999 can
// fire together).
func Rules(prob float64) []string {
	if prob > 0.999 {
		return []string{"BAYES_99", "BAYES_999"}
	}
	return []string{Rule(prob)}
}

var ranges = []struct {
	name string
	max  float64
}{
	{"BAYES_00", 0.01}, {"BAYES_05", 0.05}, {"BAYES_20", 0.20}, {"BAYES_40", 0.40},
	{"BAYES_50", 0.60}, {"BAYES_60", 0.80}, {"BAYES_80", 0.95}, {"BAYES_95", 0.99},
}

// InRange is SpamAssassin's check_bayes(min, max) test, for a rule engine
// that evaluates the BAYES_xx rules of 23_bayes.cf itself: the probability
// must be above min (or min is 0) and at most max.
func InRange(prob, min, max float64) bool {
	return (min == 0 || prob > min) && prob <= max
}
