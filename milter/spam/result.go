package spam

import (
	"fmt"
	"math"
	"regexp"
	"sort"
	"strings"
)

// saSubVersion is the release date SA prints after its version.
const saSubVersion = "2024-03-25"

// Result is the verdict for one message.
type Result struct {
	Score    float64
	Required float64
	IsSpam   bool
	Rules    []string // visible rules hit, sorted (no "__" subrules)
	// Headers are the fields to add, in SA's order, values folded as SA
	// folds them (continuation lines start with a tab).
	Headers []HeaderField
	// RemoveHeaders names incoming fields to delete first (forged
	// X-Spam-* markers).
	RemoveHeaders []string
	// Subject is the rewritten Subject value when rewrite_header applies;
	// "" means unchanged.
	Subject string
	// Scores maps each visible rule hit to its score.
	Scores map[string]float64
	// AutoLearn is the autolearn= word of X-Spam-Status: what Bayes
	// auto-learning did with this message (ham, spam, no, disabled,
	// unavailable or failed).
	AutoLearn string
	// TimedOut is set when Options.TimeLimit or the context stopped the
	// rule work early; the score covers the rules that ran (SA does the
	// same when its time_limit expires).
	TimedOut bool
	// Err is set when checking failed (a recovered panic); nothing else
	// in the result is meaningful then.
	Err error

	rep  *reportState // report text and tags, computed when asked for (report.go)
	wrap *wrapInfo    // report_safe encapsulation of spam (report_safe.go)
}

// HeaderField is one header to add.
type HeaderField struct {
	Name, Value string
}

func (e *Engine) result(m *msgState) *Result {
	res := &Result{Required: e.conf.RequiredScore, Scores: map[string]float64{}, TimedOut: m.timedOut}
	sum := 0.0
	for name := range m.hits {
		if strings.HasPrefix(name, "__") {
			continue
		}
		r := e.conf.Rules[name]
		res.Rules = append(res.Rules, name)
		res.Scores[name] = r.Score[m.set.set]
		sum += r.Score[m.set.set]
	}
	sort.Strings(res.Rules)
	res.Score = math.Round(sum*1000) / 1000
	res.IsSpam = res.Score >= res.Required
	res.AutoLearn = e.autoLearn(m.ctx, m, res)
	e.decorate(m, res)
	return res
}

// decorate fills headers, removals and the Subject rewrite.
func (e *Engine) decorate(m *msgState, res *Result) {
	c := e.conf
	e.fillReport(m, res)
	list := c.HamHeaders
	if res.IsSpam {
		list = c.SpamHeaders
	}
	// SA drops every incoming X-Spam-* field except X-Spam-Prev-*.
	for _, h := range m.hdrs {
		ln := strings.ToLower(h.name)
		if strings.HasPrefix(ln, "x-spam-") && !strings.HasPrefix(ln, "x-spam-prev-") {
			res.RemoveHeaders = append(res.RemoveHeaders, h.name)
		}
	}
	for _, h := range list {
		name := "X-Spam-" + h.Name
		val := foldSA(name, e.expandTags(h.Template, res))
		res.Headers = append(res.Headers, HeaderField{Name: name, Value: val})
	}
	if res.IsSpam && c.RewriteSubject != "" {
		subj, ok := m.lastHeader("Subject")
		tag := strings.ReplaceAll(e.expandTags(c.RewriteSubject, res), "\n", " ")
		prev := "(nonexistent)"
		if ok {
			prev = subj
		}
		res.Subject = tag + " " + strings.TrimPrefix(subj, tag+" ")
		res.Headers = append(res.Headers, HeaderField{Name: "X-Spam-Prev-Subject", Value: prev})
	}
}

func canonicalName(n string) string {
	parts := strings.Split(strings.ToLower(n), "-")
	for i, p := range parts {
		if p != "" {
			parts[i] = strings.ToUpper(p[:1]) + p[1:]
		}
	}
	return strings.Join(parts, "-")
}

var (
	nlSpace   = regexp.MustCompile(`\s*\n\s*`)
	blankLine = regexp.MustCompile(`(?m)^\s*\n`)
)

var tagToken = regexp.MustCompile(`_([A-Z][A-Z0-9]*)(?:\(([^)]*)\))?_`)

// expandTags replaces the template tags we support.
func (e *Engine) expandTags(t string, res *Result) string {
	return tagToken.ReplaceAllStringFunc(t, func(s string) string {
		mm := tagToken.FindStringSubmatch(s)
		switch mm[1] {
		case "YESNO", "YESNOCAPS":
			v := "No"
			if res.IsSpam {
				v = "Yes"
			}
			if mm[2] != "" { // _YESNO(spam text,ham text)_
				spam, ham, hasHam := strings.Cut(mm[2], ",")
				switch {
				case res.IsSpam:
					v = spam
				case hasHam:
					v = ham
				}
			}
			if mm[1] == "YESNOCAPS" {
				v = strings.ToUpper(v)
			}
			return v
		case "SCORE", "HITS":
			return scoreTag(res)
		case "REQD":
			return fmt.Sprintf("%2.1f", res.Required)
		case "TESTS":
			if len(res.Rules) == 0 {
				return "none"
			}
			sep := ","
			if mm[2] != "" {
				sep = mm[2]
			}
			return strings.Join(res.Rules, sep)
		case "AUTOLEARN":
			return res.AutoLearn
		case "VERSION":
			return saVersionString
		case "SUBVERSION":
			return saSubVersion
		case "HOSTNAME":
			return e.opts.Hostname
		case "STARS":
			ch := "*"
			if mm[2] != "" {
				ch = mm[2]
			}
			n := min(int(res.Score), 50)
			if n <= 0 {
				return ""
			}
			return strings.Repeat(ch, n)
		}
		if v, ok := res.reportTag(mm[1]); ok {
			return v
		}
		return s
	})
}

// scoreTag formats the score like SA: one decimal, and a ham score that
// would round up to the threshold is shown as threshold-0.1.
func scoreTag(res *Result) string {
	s := fmt.Sprintf("%2.1f", res.Score)
	r := fmt.Sprintf("%2.1f", res.Required)
	var sv, rv float64
	fmt.Sscanf(s, "%g", &sv)
	fmt.Sscanf(r, "%g", &rv)
	if res.IsSpam || sv < rv {
		return s
	}
	return fmt.Sprintf("%g", rv-0.1)
}

// foldSA folds a header value like SA's Util::wrap with fold_headers on:
// breaks after whitespace or commas, 79 columns counting the name, tabs
// counted as eight columns, continuation lines starting with a tab.
func foldSA(name, data string) string {
	if strings.Contains(data, "\n") {
		return nlSpace.ReplaceAllString(strings.TrimRight(data, "\r\n"), "\n\t")
	}
	s := name + "!!" + data
	var arr []string
	start := 0
	for i := 0; i < len(s); i++ {
		if s[i] == ' ' || s[i] == '\t' || s[i] == ',' || s[i] == '\n' {
			arr = append(arr, s[start:i+1], "")
			start = i + 1
		}
	}
	arr = append(arr, s[start:])
	for len(arr) > 0 && arr[len(arr)-1] == "" {
		arr = arr[:len(arr)-1]
	}
	width := func(x string) int { return len(x) + strings.Count(x, "\t")*7 }
	pos, mod := 0, false
	for len(arr)-1 > pos {
		l := width(arr[pos])
		if mod {
			l += width(arr[pos+1])
		}
		if l <= 79 {
			arr[pos] += arr[pos+1]
			arr = append(arr[:pos+1], arr[pos+2:]...)
			mod = true
			continue
		}
		arr[pos] = strings.TrimRight(arr[pos], " \t\n")
		pos++
		mod = false
		arr = append(arr[:pos], append([]string{"\t"}, arr[pos:]...)...)
	}
	out := strings.Join(arr, "\n")
	out = blankLine.ReplaceAllString(out, "")
	_, v, _ := strings.Cut(out, "!!")
	return v
}
