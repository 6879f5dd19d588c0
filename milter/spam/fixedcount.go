package spam

import (
	"regexp/syntax"
	"strings"
	"unicode/utf8"
)

// A fixedSet counts the matches of a pattern that can only match a few
// fixed strings. SA counts letters with such rules (__E_LIKE_LETTER: "e"
// and its accented forms, up to 320 a message), and Go's regexp pays a
// whole match set-up for each one; comparing strings costs a few
// instructions a byte.
type fixedSet struct {
	alts  []string  // in the order a backtracking engine tries them
	first [256]bool // the first bytes of alts
}

// maxFixedAlts bounds the strings a fixedSet holds.
const maxFixedAlts = 64

// newFixedSet returns the fixedSet of a Go pattern, or nil when it can
// match other than a few non-empty fixed strings, or asserts anything.
func newFixedSet(goSrc string) *fixedSet {
	re, err := syntax.Parse(goSrc, syntax.Perl)
	if err != nil {
		return nil
	}
	alts, ok := fixedAlts(re.Simplify())
	if !ok || len(alts) == 0 {
		return nil
	}
	f := &fixedSet{alts: alts}
	for _, a := range alts {
		if a == "" || strings.ContainsRune(a, utf8.RuneError) {
			return nil // U+FFFD would stand for any invalid byte
		}
		f.first[a[0]] = true
	}
	return f
}

// fixedAlts lists the strings re matches in preference order: for each
// piece of a concatenation, its alternatives in turn, the earlier first,
// as Go's leftmost-first matching ranks them.
func fixedAlts(re *syntax.Regexp) ([]string, bool) {
	switch re.Op {
	case syntax.OpLiteral:
		if re.Flags&syntax.FoldCase != 0 {
			return nil, false
		}
		return []string{string(re.Rune)}, true
	case syntax.OpCharClass:
		// One rune each: all as long, so their order does not matter.
		var out []string
		for i := 0; i+1 < len(re.Rune); i += 2 {
			for r := re.Rune[i]; r <= re.Rune[i+1]; r++ {
				if len(out) == maxFixedAlts {
					return nil, false
				}
				out = append(out, string(r))
			}
		}
		return out, true
	case syntax.OpCapture:
		return fixedAlts(re.Sub[0])
	case syntax.OpEmptyMatch:
		return []string{""}, true
	case syntax.OpQuest:
		sub, ok := fixedAlts(re.Sub[0])
		if !ok {
			return nil, false
		}
		if re.Flags&syntax.NonGreedy != 0 {
			return append([]string{""}, sub...), true
		}
		return append(sub, ""), true
	case syntax.OpConcat:
		out := []string{""}
		for _, s := range re.Sub {
			sub, ok := fixedAlts(s)
			if !ok || len(out)*len(sub) > maxFixedAlts {
				return nil, false
			}
			next := make([]string, 0, len(out)*len(sub))
			for _, a := range out {
				for _, b := range sub {
					next = append(next, a+b)
				}
			}
			out = next
		}
		return out, true
	case syntax.OpAlternate:
		var out []string
		for _, s := range re.Sub {
			sub, ok := fixedAlts(s)
			if !ok || len(out)+len(sub) > maxFixedAlts {
				return nil, false
			}
			out = append(out, sub...)
		}
		return out, true
	}
	return nil, false
}

// count returns the number of non-overlapping matches in s, up to max,
// as regexp's FindAllStringIndex counts them.
func (f *fixedSet) count(s string, max int) int {
	n := 0
	for i := 0; i < len(s) && n < max; {
		// A byte inside a UTF-8 sequence is never a first byte, so
		// stepping bytewise tries the positions regexp tries.
		if !f.first[s[i]] {
			i++
			continue
		}
		step := 1
		for _, a := range f.alts {
			if strings.HasPrefix(s[i:], a) {
				n++
				step = len(a)
				break
			}
		}
		i += step
	}
	return n
}
