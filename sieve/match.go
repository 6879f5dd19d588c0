package sieve

import (
	"regexp"
	"regexp/syntax"
	"strconv"
	"strings"
)

// matchSpec is the compiled match type and comparator of a test
// (RFC 5228 section 2.7, RFC 5231, RFC 4790).
type matchSpec struct {
	typ  string // is, contains, matches, regex, value, count
	rel  string // gt ge lt le eq ne for value/count
	comp string // i;octet, i;ascii-casemap, i;ascii-numeric
	res  map[string]*regexp.Regexp

	noVars bool // the test never sets match variables (body)
}

var relOps = map[string]bool{"gt": true, "ge": true, "lt": true, "le": true, "eq": true, "ne": true}

// compileMatch builds the match spec of n from its tags; keys is the
// index of the key-list argument (for precompiling regexes), or -1.
func (c *Compiler) compileMatch(n *Node, keys int) {
	m := &matchSpec{typ: "is", comp: "i;ascii-casemap"}
	if n.Spec.Name == "string" {
		m.comp = "i;octet" // Pigeonhole's default for the string test
	}
	for _, t := range []string{"is", "contains", "matches", "regex", "value", "count"} {
		if v, ok := n.Tags[t]; ok {
			m.typ = t
			if t == "value" || t == "count" {
				m.rel = strings.ToLower(v.Str())
				if !relOps[m.rel] {
					c.Errorf(v.Pos, "the :%s match-type requires a constant string argument being one of \"gt\", \"ge\", \"lt\", \"le\", \"eq\" or \"ne\", but \"%s\" was found", t, v.Str())
				}
			}
		}
	}
	if v, ok := n.Tags["comparator"]; ok {
		if !c.ConstString(v.Str()) {
			c.Errorf(v.Pos, "this Sieve implementation currently only supports a literal string argument for the :comparator tag")
			return
		}
		m.comp = strings.ToLower(v.Str())
		switch m.comp {
		case "i;octet", "i;ascii-casemap":
		case "i;ascii-numeric":
			if !c.required["comparator-i;ascii-numeric"] {
				c.Errorf(v.Pos, "unknown comparator '%s'", v.Str())
			}
			switch m.typ {
			case "regex":
				c.Errorf(v.Pos, "regex match type only supports i;octet and i;ascii-casemap comparators")
			case "contains", "matches":
				c.Errorf(v.Pos, "the specified %s comparator does not support sub-string matching as required by the :%s match type", m.comp, m.typ)
			}
		default:
			c.Errorf(v.Pos, "unknown comparator '%s'", v.Str())
		}
	}
	n.match = m
	if m.typ == "regex" && keys >= 0 && keys < len(n.Args) {
		m.res = map[string]*regexp.Regexp{}
		for _, k := range n.Args[keys].Strs {
			if !c.ConstString(k) {
				continue
			}
			re, err := compileRegex(k, m.comp, c.opts.MaxRegexLen)
			if err != nil {
				c.Errorf(n.Args[keys].Pos, "invalid regular expression '%s' for regex match: %v", k, err)
				continue
			}
			m.res[k] = re
		}
	}
}

// compileRegex compiles a POSIX extended regular expression with
// leftmost-longest semantics, as Pigeonhole's regcomp(REG_EXTENDED) does.
func compileRegex(p, comp string, max int) (*regexp.Regexp, error) {
	if len(p) > max {
		return nil, errRegexTooLong
	}
	flags := syntax.POSIX
	if comp == "i;ascii-casemap" {
		flags |= syntax.FoldCase
	}
	tree, err := syntax.Parse(p, flags)
	if err != nil {
		return nil, err
	}
	re, err := regexp.Compile(tree.String())
	if err != nil {
		return nil, err
	}
	re.Longest()
	return re, nil
}

type regexError string

func (e regexError) Error() string { return string(e) }

const errRegexTooLong = regexError("regular expression too long")

// matchValues runs the match for every value against every key; for
// :count it compares the number of values. On success with :matches or
// :regex the match variables are set.
func (r *Runtime) matchValues(n *Node, values []string, keys []string) (bool, error) {
	m := n.match
	if m.typ == "count" {
		cnt := strconv.Itoa(len(values))
		for _, k := range keys {
			if relate(m.rel, compare(m.comp, cnt, r.expand(k))) {
				return true, nil
			}
		}
		return false, nil
	}
	if m.typ == "contains" && m.comp == "i;ascii-casemap" {
		return r.containsFold(values, keys)
	}
	for _, v := range values {
		for _, k := range keys {
			ok, err := r.matchOne(n, v, k)
			if err != nil || ok {
				return ok, err
			}
		}
	}
	return false, nil
}

func (r *Runtime) matchOne(n *Node, v, rawKey string) (bool, error) {
	m := n.match
	k := r.expand(rawKey)
	if err := r.step(); err != nil {
		return false, err
	}
	switch m.typ {
	case "is":
		return compare(m.comp, v, k) == 0, nil
	case "contains":
		if m.comp == "i;ascii-casemap" {
			return strings.Contains(asciiLower(v), asciiLower(k)), nil
		}
		return strings.Contains(v, k), nil
	case "value":
		return relate(m.rel, compare(m.comp, v, k)), nil
	case "matches":
		want := r.wantMatchVars() && !m.noVars
		if globTooBig(k, v) {
			return false, r.errorf(n.Pos, ":matches pattern with many wildcards on a %d-byte value is too costly", len(v))
		}
		caps, ok := globMatch(k, v, m.comp == "i;ascii-casemap", want)
		if ok && want {
			r.matchVals = append([]string{v}, caps...)
		}
		return ok, nil
	case "regex":
		return r.regexMatch(n, rawKey, k, v)
	}
	return false, nil
}

// containsFold is :contains under i;ascii-casemap with each value lowered
// once, not once per key (bodies can be large).
func (r *Runtime) containsFold(values, keys []string) (bool, error) {
	lk := make([]string, len(keys))
	for i, k := range keys {
		lk[i] = asciiLower(r.expand(k))
	}
	for _, v := range values {
		lv := asciiLower(v)
		for _, k := range lk {
			if err := r.step(); err != nil {
				return false, err
			}
			if strings.Contains(lv, k) {
				return true, nil
			}
		}
	}
	return false, nil
}

func (r *Runtime) wantMatchVars() bool { return r.vars.enabled }

func (r *Runtime) regexMatch(n *Node, rawKey, k, v string) (bool, error) {
	m := n.match
	re := m.res[rawKey]
	if re == nil {
		var err error
		if re = r.regexCache[m.comp+"\x00"+k]; re == nil {
			re, err = compileRegex(k, m.comp, r.opts.MaxRegexLen)
			if err != nil {
				// Pigeonhole reports a bad run-time pattern and goes on
				// with the test false.
				r.res.Errors = append(r.res.Errors, r.errorf(n.Pos, "invalid regular expression '%s': %v", k, err).(*Error))
				return false, nil
			}
			if len(r.regexCache) < 256 {
				r.regexCache[m.comp+"\x00"+k] = re
			}
		}
	}
	if !r.wantMatchVars() || m.noVars {
		return re.MatchString(v), nil
	}
	idx := re.FindStringSubmatchIndex(v)
	if idx == nil {
		return false, nil
	}
	vals := make([]string, len(idx)/2)
	for i := range vals {
		if idx[2*i] >= 0 {
			vals[i] = v[idx[2*i]:idx[2*i+1]]
		}
	}
	r.matchVals = vals
	return true, nil
}

func asciiLower(s string) string {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c >= 'A' && c <= 'Z' {
			b := []byte(s)
			for j := i; j < len(b); j++ {
				if b[j] >= 'A' && b[j] <= 'Z' {
					b[j] += 'a' - 'A'
				}
			}
			return string(b)
		}
	}
	return s
}

// compare orders a and b under the comparator.
func compare(comp, a, b string) int {
	switch comp {
	case "i;ascii-casemap":
		return strings.Compare(asciiLower(a), asciiLower(b))
	case "i;ascii-numeric":
		return compareNumeric(a, b)
	}
	return strings.Compare(a, b)
}

// compareNumeric implements i;ascii-numeric: a string without leading
// digits counts as positive infinity (RFC 4790 section 9.1).
func compareNumeric(a, b string) int {
	na, oka := leadingDigits(a)
	nb, okb := leadingDigits(b)
	switch {
	case !oka && !okb:
		return 0
	case !oka:
		return 1
	case !okb:
		return -1
	}
	na = strings.TrimLeft(na, "0")
	nb = strings.TrimLeft(nb, "0")
	if len(na) != len(nb) {
		if len(na) < len(nb) {
			return -1
		}
		return 1
	}
	return strings.Compare(na, nb)
}

func leadingDigits(s string) (string, bool) {
	i := 0
	for i < len(s) && s[i] >= '0' && s[i] <= '9' {
		i++
	}
	return s[:i], i > 0
}

func relate(op string, c int) bool {
	switch op {
	case "gt":
		return c > 0
	case "ge":
		return c >= 0
	case "lt":
		return c < 0
	case "le":
		return c <= 0
	case "eq":
		return c == 0
	case "ne":
		return c != 0
	}
	return false
}

// globElem is one element of a :matches pattern.
type globElem struct {
	kind byte // 'l' literal, '?' one byte, '*' any run
	lit  byte
}

func parseGlob(p string) []globElem {
	out := make([]globElem, 0, len(p))
	for i := 0; i < len(p); i++ {
		switch c := p[i]; c {
		case '\\':
			if i+1 < len(p) {
				i++
				out = append(out, globElem{kind: 'l', lit: p[i]})
			}
		case '*', '?':
			out = append(out, globElem{kind: c})
		default:
			out = append(out, globElem{kind: 'l', lit: c})
		}
	}
	return out
}

// globMatch matches s against a :matches pattern. Wildcards take as little
// as possible, left to right (RFC 5229 section 3.2); "?" is one octet, as
// in Pigeonhole. A memo of failed states bounds the work to
// len(pattern)*len(s).
func globMatch(pattern, s string, fold bool, capture bool) ([]string, bool) {
	g := &globber{pat: parseGlob(pattern), s: s, fold: fold}
	stars := 0
	for _, e := range g.pat {
		if e.kind != 'l' {
			stars++
		}
	}
	if stars > 1 {
		g.failed = make([]uint64, ((len(g.pat)+1)*(len(s)+1)+63)/64)
	}
	if capture {
		g.caps = make([]string, 0, stars)
	}
	if !g.match(0, 0) {
		return nil, false
	}
	return g.caps, true
}

// maxGlobMemo bounds the failure memo of one :matches (bits): 64 Mbit =
// 8 MiB, e.g. 60 wildcards on a 1 MiB body.
const maxGlobMemo = 1 << 26

// globTooBig reports whether matching needs a larger memo than allowed.
func globTooBig(pattern, s string) bool {
	stars := strings.Count(pattern, "*") + strings.Count(pattern, "?")
	return stars > 1 && (len(pattern)+1)*(len(s)+1) > maxGlobMemo
}

type globber struct {
	pat    []globElem
	s      string
	fold   bool
	caps   []string
	failed []uint64
}

func (g *globber) eq(a, b byte) bool {
	if a == b {
		return true
	}
	if g.fold {
		if a >= 'A' && a <= 'Z' {
			a += 'a' - 'A'
		}
		if b >= 'A' && b <= 'Z' {
			b += 'a' - 'A'
		}
		return a == b
	}
	return false
}

func (g *globber) match(pi, si int) bool {
	for pi < len(g.pat) && g.pat[pi].kind != '*' {
		e := g.pat[pi]
		if si >= len(g.s) || (e.kind == 'l' && !g.eq(e.lit, g.s[si])) {
			return false
		}
		if e.kind == '?' && g.caps != nil {
			g.caps = append(g.caps, g.s[si:si+1])
		}
		pi++
		si++
	}
	if pi == len(g.pat) {
		return si == len(g.s)
	}
	// The star at pi grows one octet at a time. "The rest cannot match
	// with the star ending at e" does not depend on where the star began,
	// so every end position tried is remembered as failed: each (star, end)
	// pair is tried once, bounding the work to len(pattern)*len(s).
	ncap := len(g.caps)
	end := si
	for ; end <= len(g.s); end++ {
		if g.isFailed(pi, end) {
			break
		}
		if g.caps != nil {
			g.caps = append(g.caps[:ncap], g.s[si:end])
		}
		if g.match(pi+1, end) {
			return true
		}
	}
	if g.caps != nil {
		g.caps = g.caps[:ncap]
	}
	for e := si; e < end && e <= len(g.s); e++ {
		g.setFailed(pi, e)
	}
	return false
}

func (g *globber) isFailed(pi, si int) bool {
	if g.failed == nil {
		return false
	}
	key := pi*(len(g.s)+1) + si
	return g.failed[key/64]&(1<<(key%64)) != 0
}

func (g *globber) setFailed(pi, si int) {
	if g.failed != nil {
		key := pi*(len(g.s)+1) + si
		g.failed[key/64] |= 1 << (key % 64)
	}
}
