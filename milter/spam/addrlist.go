package spam

import (
	"regexp"
	"strings"
	"unicode/utf8"
)

// addrGlob is a welcomelist/blocklist/freemail pattern: '*' and '?' are
// wildcards, matching is case-insensitive over the whole address.
type addrGlob struct {
	src string
	re  *regexp.Regexp // set for freemail domains' one-label stars; else globMatch
}

func newAddrGlob(s string) (addrGlob, bool) {
	s = strings.ToLower(strings.Trim(s, "<>"))
	if s == "" {
		return addrGlob{}, false
	}
	return addrGlob{src: s}, true
}

func (g addrGlob) match(addr string) bool {
	if g.re != nil {
		return g.re.MatchString(addr)
	}
	return globMatch(g.src, addr)
}

// globMatch reports whether all of s matches the glob p: '*' is any run
// of characters, '?' any one, and neither matches a newline (as the
// regexes SA builds from these lists). On a mismatch it backtracks only
// to the last star, so a match costs at most len(p)*len(s) steps.
func globMatch(p, s string) bool {
	pi, si := 0, 0
	star, starS := -1, 0
	for si < len(s) {
		if pi < len(p) {
			switch c := p[pi]; {
			case c == '*':
				star, starS = pi, si
				pi++
				continue
			case c == '?':
				if s[si] != '\n' {
					_, n := utf8.DecodeRuneInString(s[si:])
					pi, si = pi+1, si+n
					continue
				}
			case c == s[si]:
				pi, si = pi+1, si+1
				continue
			}
		}
		if star < 0 || s[starS] == '\n' {
			return false
		}
		_, n := utf8.DecodeRuneInString(s[starS:])
		starS += n
		pi, si = star+1, starS
	}
	for pi < len(p) && p[pi] == '*' {
		pi++
	}
	return pi == len(p)
}

func appendGlobs(list []addrGlob, val string) []addrGlob {
	for _, f := range strings.Fields(val) {
		if g, ok := newAddrGlob(f); ok {
			list = append(list, g)
		}
	}
	return list
}

func removeGlobs(list []addrGlob, val string) []addrGlob {
	drop := map[string]bool{}
	for _, f := range strings.Fields(val) {
		drop[strings.ToLower(strings.Trim(f, "<>"))] = true
	}
	out := list[:0]
	for _, g := range list {
		if !drop[g.src] {
			out = append(out, g)
		}
	}
	return out
}

// globIndex matches a long glob list (freemail_domains has thousands of
// entries) with one map lookup for its literal patterns and the regexes
// only for those with wildcards.
type globIndex struct {
	exact map[string]bool
	wild  []addrGlob
}

func newGlobIndex(list []addrGlob) *globIndex {
	x := &globIndex{exact: map[string]bool{}}
	for _, g := range list {
		if strings.ContainsAny(g.src, "*?") {
			x.wild = append(x.wild, g)
		} else {
			x.exact[g.src] = true
		}
	}
	return x
}

// newDomainGlobIndex indexes freemail_domains, whose wildcards stay
// within one label as in SpamAssassin's FreeMail plugin: "freemail.*.*"
// matches freemail.example.net but not freemail.nx.example.net.
func newDomainGlobIndex(list []addrGlob) *globIndex {
	x := newGlobIndex(nil)
	for _, g := range list {
		if !strings.ContainsAny(g.src, "*?") {
			x.exact[g.src] = true
			continue
		}
		var b strings.Builder
		b.WriteString("^")
		for _, c := range g.src {
			switch c {
			case '*':
				b.WriteString("[^.]*")
			case '?':
				b.WriteString(".")
			default:
				b.WriteString(regexp.QuoteMeta(string(c)))
			}
		}
		b.WriteString("$")
		if re, err := regexp.Compile(b.String()); err == nil {
			x.wild = append(x.wild, addrGlob{src: g.src, re: re})
		}
	}
	return x
}

// match is matchGlobs over the indexed list; a nil index matches nothing.
func (x *globIndex) match(addr string) bool {
	if x == nil {
		return false
	}
	addr = strings.ToLower(addr)
	return x.exact[addr] || matchGlobs(x.wild, addr)
}

// matchGlobs reports whether addr matches any pattern.
func matchGlobs(list []addrGlob, addr string) bool {
	addr = strings.ToLower(addr)
	for _, g := range list {
		if g.match(addr) {
			return true
		}
	}
	return false
}
