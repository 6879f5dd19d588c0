package bayes

import "strings"

// The Received chewing steps. Each removes or rewrites what one of
// SpamAssassin's regexps matches (quoted above each function), leftmost
// first and without overlaps, as s///g does; they are hand-written
// because matching seven regexps against every Received line was a
// large part of tokenizing. fuzz_test.go checks each against its regexp.
// Matching is on bytes: the regexps' classes are all ASCII, and a byte
// of a multi-byte character is never one of them nor white space.

func isDigit(c byte) bool { return c >= '0' && c <= '9' }

func isDigitOrUpper(c byte) bool { return isDigit(c) || isUpper(c) }

func isDigitOrUpperHex(c byte) bool { return isDigit(c) || (c >= 'A' && c <= 'F') }

func isAlnum(c byte) bool { return isDigit(c) || isASCIILetter(c) }

// wordStart reports RE2's \b before v[i] when v[i] is a word character.
func wordStart(v string, i int) bool { return i == 0 || !isWordByte(v[i-1]) }

// wordEnd reports RE2's \b after v[:i] when v[i-1] is a word character.
func wordEnd(v string, i int) bool { return i == len(v) || !isWordByte(v[i]) }

// skipLit returns the index after lit at v[i:], or -1.
func skipLit(v string, i int, lit string) int {
	if strings.HasPrefix(v[i:], lit) {
		return i + len(lit)
	}
	return -1
}

// skipSpace returns the index after the one white space byte at v[i], or -1.
func skipSpace(v string, i int) int {
	if i >= 0 && i < len(v) && isRE2Space(v[i]) {
		return i + 1
	}
	return -1
}

// runEnd returns the end of the run of bytes satisfying in at v[i:].
func runEnd(v string, i int, in func(byte) bool) int {
	for i < len(v) && in(v[i]) {
		i++
	}
	return i
}

// replacer collects the output of a substitution; it allocates only once
// a match is found.
type replacer struct {
	src  string
	b    []byte
	done int // src[:done] is in b
}

// each calls try at every place of lit in the source, left to right;
// try returns where a replacement it made ends, and the search goes on
// from there, or -1 to go on from the next byte.
func (r *replacer) each(lit string, try func(i int) int) {
	for from := 0; ; {
		i := strings.Index(r.src[from:], lit)
		if i < 0 {
			return
		}
		i += from
		from = i + 1
		if end := try(i); end >= 0 {
			from = end
		}
	}
}

// replace puts repl for src[i:j].
func (r *replacer) replace(i, j int, repl ...string) {
	if r.b == nil {
		r.b = make([]byte, 0, len(r.src)+16)
	}
	r.b = append(r.b, r.src[r.done:i]...)
	for _, s := range repl {
		r.b = append(r.b, s...)
	}
	r.done = j
}

func (r *replacer) result() string {
	if r.b == nil {
		return r.src
	}
	return string(append(r.b, r.src[r.done:]...))
}

// dropSendmailID: \swith\s<proto>\sid\s<lead><id>\s -> " ", where the id
// is 10 to 12 bytes of class.
func dropSendmailID(v, proto, lead string, class func(byte) bool) string {
	r := replacer{src: v}
	r.each("with", func(i int) int {
		if i == 0 || i-1 < r.done || !isRE2Space(v[i-1]) {
			return -1
		}
		j := skipSpace(v, i+len("with"))
		if j < 0 || skipLit(v, j, proto) < 0 {
			return -1
		}
		if j = skipSpace(v, j+len(proto)); j < 0 || skipLit(v, j, "id") < 0 {
			return -1
		}
		if j = skipSpace(v, j+len("id")); j < 0 || skipLit(v, j, lead) < 0 {
			return -1
		}
		j += len(lead)
		k := runEnd(v, j, class)
		if n := k - j; n < 10 || n > 12 || skipSpace(v, k) < 0 {
			return -1
		}
		r.replace(i-1, k+1, " ")
		return k + 1
	})
	return r.result()
}

// dropQueueID: \bid\s[a-zA-Z0-9]{7,20}\b -> " ". The greedy count and
// the closing \b make the id the whole run of letters and digits, not
// followed by '_'.
func dropQueueID(v string) string {
	r := replacer{src: v}
	r.each("id", func(i int) int {
		if !wordStart(v, i) {
			return -1
		}
		j := skipSpace(v, i+2)
		if j < 0 {
			return -1
		}
		k := runEnd(v, j, isAlnum)
		if n := k - j; n < 7 || n > 20 || !wordEnd(v, k) {
			return -1
		}
		r.replace(i, k, " ")
		return k
	})
	return r.result()
}

// dropEximID: \bid\s[A-Za-z0-9]{7}-[A-Za-z0-9]{6}-0[A-Za-z0-9] -> " ".
func dropEximID(v string) string {
	const n = len("id ") + 7 + 1 + 6 + 1 + 2
	r := replacer{src: v}
	r.each("id", func(i int) int {
		if !wordStart(v, i) || i+n > len(v) || !isRE2Space(v[i+2]) {
			return -1
		}
		id := v[i+3 : i+n]
		if runEnd(id, 0, isAlnum) != 7 || id[7] != '-' || runEnd(id, 8, isAlnum) != 14 ||
			id[14] != '-' || id[15] != '0' || !isAlnum(id[16]) {
			return -1
		}
		r.replace(i, i+n, " ")
		return i + n
	})
	return r.result()
}

// dropDates removes dates:
//
//	(?:(?:Mon|Tue|Wed|Thu|Fri|Sat|Sun),\s)?[0-3\s]?[0-9]\s(?:Jan|Feb|Ma[ry]|Apr|Ju[nl]|Aug|Sep|Oct|Nov|Dec)\s
//	(?:19|20)?[0-9]{2}\s[0-2][0-9](?::[0-5][0-9]){1,2}\s(?:\s*\(|\)|\s*(?:[+-][0-9]{4})|\s*(?:UT|[A-Z]{2,3}T))*
//
// Where the regexp has choices, at most one of them can lead to a match
// (a digit or a space decides), so each part is matched without
// backtracking; the closing repetition takes the first alternative that
// matches, as nothing follows it.
func dropDates(v string) string {
	r := replacer{src: v}
	for p := 0; p < len(v); p++ {
		// A date starts with a weekday, a digit or white space.
		if c := v[p]; !isUpper(c) && !isDigit(c) && !isRE2Space(c) {
			continue
		}
		if end := dateAt(v, p); end > 0 {
			r.replace(p, end, "")
			p = end - 1
		}
	}
	return r.result()
}

var (
	weekdays = []string{"Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"}
	months   = []string{"Jan", "Feb", "Mar", "May", "Apr", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"}
)

// dateAt returns the end of the date matched at v[p:], or -1.
func dateAt(v string, p int) int {
	digit := func(i int) bool { return i < len(v) && isDigit(v[i]) }
	space := func(i int) bool { return i < len(v) && isRE2Space(v[i]) }
	in := func(i int, lo, hi byte) bool { return i < len(v) && v[i] >= lo && v[i] <= hi }
	i := p
	if c := v[i]; c >= 'A' && c <= 'Z' {
		if !oneOf(v, i, weekdays) || i+4 >= len(v) || v[i+3] != ',' || !isRE2Space(v[i+4]) {
			return -1
		}
		i += 5
	}
	switch {
	case (in(i, '0', '3') || space(i)) && digit(i+1) && space(i+2):
		i += 3
	case digit(i) && space(i+1):
		i += 2
	default:
		return -1
	}
	if !oneOf(v, i, months) || !space(i+3) {
		return -1
	}
	i += 4
	switch {
	case (strings.HasPrefix(v[i:], "19") || strings.HasPrefix(v[i:], "20")) && digit(i+2) && digit(i+3) && space(i+4):
		i += 5
	case digit(i) && digit(i+1) && space(i+2):
		i += 3
	default:
		return -1
	}
	if !in(i, '0', '2') || !digit(i+1) || !(i+2 < len(v) && v[i+2] == ':') || !in(i+3, '0', '5') || !digit(i+4) {
		return -1
	}
	i += 5
	switch {
	case i < len(v) && v[i] == ':' && in(i+1, '0', '5') && digit(i+2) && space(i+3):
		i += 4
	case space(i):
		i++
	default:
		return -1
	}
	for {
		j := i
		for space(j) {
			j++
		}
		upper := func(k int) bool { return in(k, 'A', 'Z') }
		switch {
		case j < len(v) && v[j] == '(':
			i = j + 1
		case i < len(v) && v[i] == ')':
			i++
		case j < len(v) && (v[j] == '+' || v[j] == '-') && digit(j+1) && digit(j+2) && digit(j+3) && digit(j+4):
			i = j + 5
		case strings.HasPrefix(v[j:], "UT"):
			i = j + 2
		case upper(j) && upper(j+1) && upper(j+2) && j+3 < len(v) && v[j+3] == 'T':
			i = j + 4
		case upper(j) && upper(j+1) && j+2 < len(v) && v[j+2] == 'T':
			i = j + 3
		default:
			return i
		}
	}
}

// oneOf reports whether v[i:] starts with one of the words.
func oneOf(v string, i int, words []string) bool {
	for _, w := range words {
		if strings.HasPrefix(v[i:], w) {
			return true
		}
	}
	return false
}

// splitIPv4: \b(\d{1,3}\.)(\d{1,3}\.)(\d{1,3})(\.\d{1,3})\b ->
// "$1$2$3 ip*$1$2$3$4 ". Greedy counts followed by a dot or \b match
// whole digit runs only.
func splitIPv4(v string) string {
	r := replacer{src: v}
	for p := 0; p < len(v); p++ {
		if !isDigit(v[p]) || !wordStart(v, p) {
			continue
		}
		net, end := -1, p // net: the end of $3
		for n := 0; n < 4; n++ {
			if n > 0 {
				if end >= len(v) || v[end] != '.' {
					end = -1
					break
				}
				end++
			}
			k := runEnd(v, end, isDigit)
			if k == end || k-end > 3 {
				end = -1
				break
			}
			end = k
			if n == 2 {
				net = k
			}
		}
		if end < 0 || !wordEnd(v, end) {
			p = runEnd(v, p, isDigit) - 1
			continue
		}
		r.replace(p, end, v[p:net], " ip*", v[p:end], " ")
		p = end - 1
	}
	return r.result()
}

// dropWords replaces each of the words standing alone with a space, as
// s/\b(?:word|word...)\b/ /g does.
func dropWords(v string, words ...string) string {
	r := replacer{src: v}
	for p := 0; p < len(v); p++ {
		if !isWordByte(v[p]) || !wordStart(v, p) {
			continue
		}
		for _, w := range words {
			if strings.HasPrefix(v[p:], w) && wordEnd(v, p+len(w)) {
				r.replace(p, p+len(w), " ")
				p += len(w) - 1
				break
			}
		}
	}
	return r.result()
}
