package spam

import (
	"regexp"
	"regexp/syntax"
	"slices"
	"strconv"
	"strings"
)

// Rule prefilters, in the spirit of SA's BodyRuleBaseExtractor: most
// body rules contain a literal that any match must include, so a rule
// whose literals are all absent from the (lower-cased) text cannot hit
// and its regex need not run. Small character classes and alternations
// stand for the strings they spell, and adjacent pieces join, so that
// c[uo]rrent yields "current" and "corrent" and A(?i:ct) N(?i:ow) yields
// "act now": longer literals rule out more lines.

const maxPrefilterLits = 64

// maxClassLits is the most runes a character class may spell out.
const maxClassLits = 4

// requiredLits returns lower-cased strings one of which occurs in every
// match of re (simplified), or nil when no such set is known.
func requiredLits(re *syntax.Regexp) []string {
	if set, ok := exactSet(re); ok {
		if minLen(set) > 0 {
			return set
		}
		return nil
	}
	switch re.Op {
	case syntax.OpCapture, syntax.OpPlus:
		return requiredLits(re.Sub[0])
	case syntax.OpRepeat:
		if re.Min >= 1 {
			return requiredLits(re.Sub[0])
		}
	case syntax.OpConcat:
		// Adjacent pieces with finite sets join into one run whose
		// strings every match holds at that place; the best run or
		// piece wins.
		var best, run []string
		inRun := false
		consider := func(l []string) {
			if better(l, best) {
				best = l
			}
		}
		for _, s := range re.Sub {
			if set, ok := exactSet(s); ok {
				if !inRun {
					run, inRun = set, true
				} else if p, ok := product(run, set); ok {
					run = p
				} else {
					consider(run)
					run = set
				}
				continue
			}
			if inRun {
				consider(run)
				inRun = false
			}
			consider(requiredLits(s))
		}
		if inRun {
			consider(run)
		}
		return best
	case syntax.OpAlternate:
		var all []string
		for _, s := range re.Sub {
			l := requiredLits(s)
			if l == nil {
				return nil
			}
			all = append(all, l...)
			if len(all) > maxPrefilterLits {
				return nil
			}
		}
		return dedupe(all)
	}
	return nil
}

// better reports whether the literal set l rules out more text than
// best: it is less likely to occur at a place of mail text. A set
// holding the empty string rules out nothing.
func better(l, best []string) bool {
	if minLen(l) < 1 {
		return false
	}
	if minLen(best) < 1 {
		return true
	}
	return litOdds(l) < litOdds(best)
}

// litOdds estimates how likely one of lits starts at a given place of
// lower-cased mail text, from rough English letter frequencies: "x" is
// a better literal than "a", and "qu" than either.
func litOdds(lits []string) float64 {
	sum := 0.0
	for _, l := range lits {
		p := 1.0
		for i := 0; i < len(l); i++ {
			p *= byteOdds(l[i])
		}
		sum += p
	}
	return sum
}

// letterOdds are the letters' shares of English text, in percent.
var letterOdds = [26]float64{8.2, 1.5, 2.8, 4.3, 12.7, 2.2, 2.0, 6.1, 7.0, 0.15, 0.8, 4.0, 2.4,
	6.7, 7.5, 1.9, 0.1, 6.0, 6.3, 9.1, 2.8, 1.0, 2.4, 0.15, 2.0, 0.07}

func byteOdds(c byte) float64 {
	switch {
	case c >= 'a' && c <= 'z':
		return letterOdds[c-'a'] / 100 * 0.75 // letters are about 3/4 of text
	case c == ' ':
		return 0.15
	case c >= '0' && c <= '9':
		return 0.005
	case c == '\n' || c == '.' || c == ',' || c == '-':
		return 0.01
	case c < 0x80:
		return 0.003
	}
	return 0.001
}

// exactSet returns every string re (simplified) can match, lower-cased,
// when they are few; assertions match the empty string.
func exactSet(re *syntax.Regexp) ([]string, bool) {
	switch re.Op {
	case syntax.OpEmptyMatch, syntax.OpBeginLine, syntax.OpEndLine, syntax.OpBeginText,
		syntax.OpEndText, syntax.OpWordBoundary, syntax.OpNoWordBoundary:
		return []string{""}, true
	case syntax.OpLiteral:
		return []string{strings.ToLower(string(re.Rune))}, true
	case syntax.OpCharClass:
		var out []string
		for i := 0; i+1 < len(re.Rune); i += 2 {
			lo, hi := re.Rune[i], re.Rune[i+1]
			if hi-lo >= 2*maxClassLits {
				return nil, false
			}
			for r := lo; r <= hi; r++ {
				out = append(out, strings.ToLower(string(r)))
			}
		}
		out = dedupe(out)
		return out, len(out) > 0 && len(out) <= maxClassLits
	case syntax.OpCapture:
		return exactSet(re.Sub[0])
	case syntax.OpQuest:
		set, ok := exactSet(re.Sub[0])
		if !ok {
			return nil, false
		}
		return dedupe(append(set, "")), true
	case syntax.OpConcat:
		out := []string{""}
		for _, s := range re.Sub {
			set, ok := exactSet(s)
			if !ok {
				return nil, false
			}
			if out, ok = product(out, set); !ok {
				return nil, false
			}
		}
		return out, true
	case syntax.OpAlternate:
		var out []string
		for _, s := range re.Sub {
			set, ok := exactSet(s)
			if !ok {
				return nil, false
			}
			out = append(out, set...)
		}
		out = dedupe(out)
		return out, len(out) <= maxPrefilterLits
	}
	return nil, false
}

// product joins every string of a with every string of b, or fails when
// that makes too many.
func product(a, b []string) ([]string, bool) {
	if len(a)*len(b) > 4*maxPrefilterLits {
		return nil, false
	}
	out := make([]string, 0, len(a)*len(b))
	for _, x := range a {
		for _, y := range b {
			out = append(out, x+y)
		}
	}
	out = dedupe(out)
	return out, len(out) <= maxPrefilterLits
}

// dedupe sorts l and drops repeats.
func dedupe(l []string) []string {
	slices.Sort(l)
	return slices.Compact(l)
}

func minLen(l []string) int {
	m := -1
	for _, s := range l {
		if m < 0 || len(s) < m {
			m = len(s)
		}
	}
	return m
}

// prefilterFor parses a Go pattern and extracts its literals.
func prefilterFor(goSrc string) []string {
	re, err := syntax.Parse(goSrc, syntax.Perl)
	if err != nil {
		// Too large for RE2 (big counted repeats): what X{5} requires, X
		// requires, so parse with the counts relaxed.
		re, err = syntax.Parse(relaxCounts(goSrc), syntax.Perl)
		if err != nil {
			return nil
		}
	}
	l := requiredLits(re.Simplify())
	if minLen(l) < 1 {
		return nil
	}
	return l
}

var countedRepeat = regexp.MustCompile(`\{(\d+)(,\d*)?\}`)

// relaxCounts turns {0,m} into * and the other counts ({n}, {n,m},
// {n,}) into + so that the pattern parses within RE2's size limit,
// matching at least what it did.
func relaxCounts(src string) string { return relaxCountsAbove(src, 0) }

// relaxCountsAbove relaxes, as relaxCounts does, only the counts whose
// upper bound (n for {n}, infinite for {n,}) exceeds limit.
func relaxCountsAbove(src string, limit int) string {
	var b strings.Builder
	last := 0
	for _, loc := range countedRepeat.FindAllStringIndex(src, -1) {
		if loc[0] >= 2 && (src[loc[0]-2:loc[0]] == `\x` || src[loc[0]-2:loc[0]] == `\p` || src[loc[0]-2:loc[0]] == `\P`) {
			continue // \x{85}, \p{L}: not a count
		}
		c := src[loc[0]:loc[1]]
		if limit > 0 && countMax(c) <= limit {
			continue
		}
		b.WriteString(src[last:loc[0]])
		// At least the count's minimum, possibly more: * or +. Dropping an
		// exact count (x{40} as x) would not be looser: "ax{40}b" is
		// not in the texts "axb" matches.
		if strings.HasPrefix(c, "{0") {
			b.WriteString("*")
		} else {
			b.WriteString("+")
		}
		last = loc[1]
	}
	b.WriteString(src[last:])
	return b.String()
}

// countMax returns the upper bound of a {n}, {n,m} or {n,} count; -1
// stands for unbounded and counts as larger than any limit.
func countMax(c string) int {
	inner := c[1 : len(c)-1]
	if i := strings.IndexByte(inner, ','); i >= 0 {
		if i == len(inner)-1 {
			return 1 << 30
		}
		inner = inner[i+1:]
	}
	n, err := strconv.Atoi(inner)
	if err != nil {
		return 1 << 30
	}
	return n
}

// containsAny reports whether text contains one of lits.
func containsAny(text string, lits []string) bool {
	for _, l := range lits {
		if strings.Contains(text, l) {
			return true
		}
	}
	return false
}

// approxPerl rewrites a Perl pattern needing backtracking into a looser
// RE2 pattern: look-around groups are dropped and back references become
// ".*". Anything the original matches, the approximation matches, so it
// is a safe linear-time gate in front of regexp2.
func approxPerl(p string) string {
	var b strings.Builder
	for i := 0; i < len(p); i++ {
		c := p[i]
		switch {
		case c == '\\' && i+1 < len(p):
			if p[i+1] >= '1' && p[i+1] <= '9' {
				b.WriteString(`(?s:.*)`)
			} else {
				b.WriteString(p[i : i+2])
			}
			i++
		case c == '[':
			j := classEnd(p, i)
			b.WriteString(p[i:j])
			i = j - 1
		case strings.HasPrefix(p[i:], "(?=") || strings.HasPrefix(p[i:], "(?!") ||
			strings.HasPrefix(p[i:], "(?<=") || strings.HasPrefix(p[i:], "(?<!"):
			i = groupEnd(p, i) - 1
		case strings.HasPrefix(p[i:], "(?>"):
			b.WriteString("(?:")
			i += 2
		default:
			b.WriteByte(c)
		}
	}
	return b.String()
}

// classEnd returns the index after the character class starting at i.
func classEnd(p string, i int) int {
	j := i + 1
	if j < len(p) && p[j] == '^' {
		j++
	}
	if j < len(p) && p[j] == ']' {
		j++
	}
	for j < len(p) {
		switch {
		case p[j] == '\\':
			j += 2
			continue
		case p[j] == '[' && j+1 < len(p) && p[j+1] == ':':
			if k := strings.Index(p[j:], ":]"); k > 0 {
				j += k + 2
				continue
			}
		case p[j] == ']':
			return j + 1
		}
		j++
	}
	return len(p)
}

// groupEnd returns the index after the group opened at i.
func groupEnd(p string, i int) int {
	depth := 0
	for j := i; j < len(p); j++ {
		switch p[j] {
		case '\\':
			j++
		case '[':
			j = classEnd(p, j) - 1
		case '(':
			depth++
		case ')':
			depth--
			if depth == 0 {
				return j + 1
			}
		}
	}
	return len(p)
}
