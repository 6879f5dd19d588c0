package spam

import (
	"math"
	"regexp"
)

// HTML eval functions (SA's HTMLEval plugin) over every rendered
// text/html part.

func init() {
	regEval("html_test", boolEval(func(m *msgState, args []string) bool {
		return m.anyHTML(func(h *htmlResult) bool { return h.flag(lastArg(args)) })
	}))
	regEval("html_tag_exists", boolEval(func(m *msgState, args []string) bool {
		return m.anyHTML(func(h *htmlResult) bool { _, ok := h.inside[lastArg(args)]; return ok })
	}))
	regEval("html_tag_balance", boolEval(func(m *msgState, args []string) bool {
		if len(args) < 2 {
			return false
		}
		tag, expr := args[len(args)-2], args[len(args)-1]
		return m.anyHTML(func(h *htmlResult) bool {
			v, ok := h.inside[tag]
			return ok && compareExpr(float64(v), expr)
		})
	}))
	regEval("html_eval", boolEval(func(m *msgState, args []string) bool {
		if len(args) < 2 {
			return false
		}
		return m.anyHTML(func(h *htmlResult) bool {
			v, ok := h.value(args[len(args)-2])
			return ok && compareExpr(v, args[len(args)-1])
		})
	}))
	regEval("html_range", boolEval(evalHTMLRange))
	regEval("html_image_only", boolEval(func(m *msgState, args []string) bool {
		if len(args) < 2 {
			return false
		}
		lo, hi := atof(args[len(args)-2]), atof(args[len(args)-1])
		return m.anyHTML(func(h *htmlResult) bool {
			_, img := h.inside["img"]
			return img && float64(h.length) > lo && float64(h.length) <= hi
		})
	}))
	regEval("html_image_ratio", boolEval(func(m *msgState, args []string) bool {
		if len(args) < 2 {
			return false
		}
		lo, hi := atof(args[len(args)-2]), atof(args[len(args)-1])
		return m.anyHTML(func(h *htmlResult) bool {
			if h.imageArea <= 0 {
				return false
			}
			r := float64(h.nonSpaceLen) / float64(h.imageArea)
			return r > lo && r <= hi
		})
	}))
	regEval("html_text_match", boolEval(evalHTMLTextMatch))
	regEval("html_title_subject_ratio", boolEval(func(m *msgState, args []string) bool {
		subj := m.get("Subject")
		if subj == "" || len(args) == 0 {
			return false
		}
		limit := atof(lastArg(args))
		return m.anyHTML(func(h *htmlResult) bool {
			best := 0.0
			for _, t := range h.titles {
				best = math.Max(best, float64(len(t))/float64(len(subj)))
			}
			return best > limit
		})
	}))
}

func lastArg(args []string) string {
	if len(args) == 0 {
		return ""
	}
	return args[len(args)-1]
}

func (m *msgState) anyHTML(f func(h *htmlResult) bool) bool {
	m.render()
	for _, h := range m.htmls {
		if f(h) {
			return true
		}
	}
	return false
}

// flag returns SA's boolean html results.
func (h *htmlResult) flag(name string) bool {
	switch name {
	case "html":
		return true
	case "font_low_contrast":
		return h.fontLowContrast
	case "font_invalid_color":
		return h.fontInvalidColor
	case "font_face_bad":
		return h.fontFaceBad
	case "form_action_mailto":
		return h.formActionMailto
	case "embeds":
		return h.embeds
	}
	v, ok := h.value(name)
	return ok && v != 0
}

// value returns SA's numeric html results.
func (h *htmlResult) value(name string) (float64, bool) {
	tags := float64(h.tags)
	switch name {
	case "length":
		return float64(h.length), true
	case "max_size":
		return float64(h.maxSize), true
	case "min_size":
		return float64(h.minSize), true
	case "image_area":
		return float64(h.imageArea), true
	case "non_space_len":
		return float64(h.nonSpaceLen), true
	case "ratio":
		return h.ratio, h.length > 0
	case "closed_extra_ratio":
		return float64(h.closedExtra) / tags, tags > 0
	case "bad_tag_ratio":
		return (tags - float64(h.elements)) / tags, tags > 0
	case "non_element_ratio":
		return float64(h.tagsSeen-h.elementsSeen) / float64(h.tagsSeen), h.tagsSeen > 0
	case "obfuscation_ratio":
		return float64(h.obfuscation) / tags, tags > 0
	case "backhair_count":
		return float64(len(h.backhair)), true
	}
	return 0, false
}

func evalHTMLRange(m *msgState, args []string) bool {
	if len(args) < 2 {
		return false
	}
	test, lo := args[0], atof(args[1])
	hi := math.Inf(1)
	if len(args) > 2 && args[2] != "inf" {
		hi = atof(args[2])
	}
	return m.anyHTML(func(h *htmlResult) bool {
		v, ok := h.value(test)
		return ok && v > lo && v <= hi
	})
}

var cmpExpr = regexp.MustCompile(`^\s*(==|!=|>=|<=|>|<)\s*([-+]?\d+)\s*$`)

// compareExpr evaluates SA's "$val <op> N" snippets.
func compareExpr(v float64, expr string) bool {
	mm := cmpExpr.FindStringSubmatch(expr)
	if mm == nil {
		return false
	}
	n := atof(mm[2])
	switch mm[1] {
	case "==":
		return v == n
	case "!=":
		return v != n
	case ">=":
		return v >= n
	case "<=":
		return v <= n
	case ">":
		return v > n
	}
	return v < n
}

func evalHTMLTextMatch(m *msgState, args []string) bool {
	if len(args) < 2 {
		return false
	}
	what, pat := args[len(args)-2], args[len(args)-1]
	re := htmlTextPattern(pat)
	if re == nil {
		return false
	}
	return m.anyHTML(func(h *htmlResult) bool {
		var list []string
		switch what {
		case "title":
			list = h.titles
		case "comment":
			list = h.comments
		case "script":
			list = h.scripts
		case "anchor":
			list = h.anchors
		}
		for _, s := range list {
			if re.Match(newText(latin1s(s))) {
				return true
			}
		}
		return false
	})
}

func htmlTextPattern(pat string) Matcher {
	return argPattern("html_text_match\x00"+pat, func() Matcher {
		re, _, err := CompilePerl(pat, "")
		if err != nil {
			return nil
		}
		return re
	})
}
