package spam

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"
)

// nameToRGB normalises a color attribute to "#rrggbb" or "invalid".
func nameToRGB(c string) string {
	c = strings.ToLower(strings.TrimSpace(c))
	if v, ok := cssColors[c]; ok {
		return fmt.Sprintf("#%06x", v)
	}
	if m := rgbPct.FindStringSubmatch(c); m != nil {
		return "#" + pct2hex(m[1]) + pct2hex(m[2]) + pct2hex(m[3])
	}
	if m := rgbDec.FindStringSubmatch(c); m != nil {
		return "#" + dec2hex(m[1]) + dec2hex(m[2]) + dec2hex(m[3])
	}
	if !strings.HasPrefix(c, "#") || !hexish.MatchString(c) {
		return "invalid"
	}
	h := nonHex.ReplaceAllString(c, "")
	if len(h) > 6 {
		h = h[:6]
	}
	if len(h) > 3 && len(h) < 6 {
		h = h[:3]
	}
	if r := len(h) % 3; r != 0 {
		h += strings.Repeat("0", 3-r)
	}
	if len(h) == 3 {
		h = string([]byte{h[0], h[0], h[1], h[1], h[2], h[2]})
	}
	return "#" + h
}

var (
	rgbPct = regexp.MustCompile(`rgb\((\d+)%,\s*(\d+)%,\s*(\d+)%\s*\)`)
	rgbDec = regexp.MustCompile(`rgb\((\d+),\s*(\d+),\s*(\d+)\s*\)`)
	hexish = regexp.MustCompile(`^[#a-f0-9]*$`)
	nonHex = regexp.MustCompile(`[^a-f0-9]`)
)

func dec2hex(s string) string {
	v, _ := strconv.Atoi(s)
	return fmt.Sprintf("%02x", v)
}

func pct2hex(s string) string {
	v, _ := strconv.Atoi(s)
	return fmt.Sprintf("%02x", v*255/100)
}

var leadInt = regexp.MustCompile(`^\s*([+-]?\d+)`)

func (h *htmlResult) textStyle(tag string, attr map[string]string, num int) {
	if tag == "th" {
		tag = "td"
	}
	if num != 1 {
		if tag != "body" {
			h.closeTag(tag)
		}
		return
	}
	if tag == "basefont" {
		if m := leadInt.FindStringSubmatch(attr["size"]); m != nil && m[1][0] != '-' && m[1][0] != '+' {
			h.basefont, _ = strconv.Atoi(m[1])
			return
		}
	}
	if tag == "td" || tag == "tr" {
		h.closeTableTag(tag)
	}
	st := h.styles[len(h.styles)-1]
	st.tag = tag
	switch tag {
	case "big":
		st.size++
		h.styles = append(h.styles, st)
		return
	case "small":
		st.size--
		h.styles = append(h.styles, st)
		return
	}
	for name, val := range attr {
		if !htmlOKAttr[tag][name] {
			continue
		}
		h.styleAttr(&st, name, val)
		if st.size > h.maxSize {
			h.maxSize = st.size
		} else if st.size < h.minSize {
			h.minSize = st.size
		}
	}
	h.styles = append(h.styles, st)
}

func (h *htmlResult) styleAttr(st *textStyle, name, val string) {
	switch name {
	case "text", "color":
		st.fg = nameToRGB(val)
	case "size":
		if m := leadInt.FindStringSubmatch(val); m != nil {
			n, _ := strconv.Atoi(m[1])
			if m[1][0] == '+' || m[1][0] == '-' {
				st.size = h.basefont + n
			} else {
				st.size = n
			}
		}
	case "style":
		h.cssStyle(st, val)
	}
}

var (
	cssColor = regexp.MustCompile(`(?i)^\s*(background-)?color:\s*(.+?)\s*$`)
	cssBg    = regexp.MustCompile(`^\s*background:\s*(.+?)\s*$`)
	cssProp  = regexp.MustCompile(`(?i)^\s*([a-z_-]+)\s*:\s*(\S.*?)\s*$`)
	digitsRe = regexp.MustCompile(`[^0-9,]`)
)

func (h *htmlResult) cssStyle(st *textStyle, style string) {
	parent := h.styles[len(h.styles)-1]
	for _, decl := range strings.Split(style, ";") {
		if m := cssColor.FindStringSubmatch(decl); m != nil {
			v := strings.TrimSuffix(strings.ToLower(m[2]), "!important")
			v = strings.TrimSpace(v)
			var c string
			switch {
			case strings.Contains(v, "rgb"):
				parts := strings.Split(digitsRe.ReplaceAllString(v, ""), ",")
				var rgb [3]int
				for i := 0; i < 3 && i < len(parts); i++ {
					rgb[i], _ = strconv.Atoi(parts[i])
					rgb[i] = min(rgb[i], 255)
				}
				c = fmt.Sprintf("#%02x%02x%02x", rgb[0], rgb[1], rgb[2])
			case v == "inherit":
				continue
			case v == "transparent":
				c = v
			default:
				c = nameToRGB(v)
			}
			if m[1] != "" {
				st.bg = c
			} else {
				st.fg = c
			}
		} else if m := cssBg.FindStringSubmatch(decl); m != nil {
			for _, w := range strings.Fields(strings.ToLower(m[1])) {
				if c := nameToRGB(w); c != "invalid" {
					st.bg = c
					break
				}
			}
		} else if m := cssProp.FindStringSubmatch(decl); m != nil {
			switch strings.ToLower(m[1]) {
			case "display":
				st.display = m[2]
			case "visibility":
				st.visib = m[2]
			}
		}
	}
	if st.bg == "transparent" {
		st.bg = parent.bg
	}
	if st.fg == "transparent" {
		st.fg = st.bg
	}
}

func (h *htmlResult) hasStyleTag(tag string) bool {
	for _, s := range h.styles {
		if s.tag == tag {
			return true
		}
	}
	return false
}

func (h *htmlResult) closeTableTag(tag string) {
	if !h.hasStyleTag(tag) {
		return
	}
	for len(h.styles) > 1 {
		top := h.styles[len(h.styles)-1].tag
		if tag == "td" && (top == "font" || top == "td") || tag == "tr" && (top == "font" || top == "td" || top == "tr") {
			h.styles = h.styles[:len(h.styles)-1]
			continue
		}
		break
	}
}

func (h *htmlResult) closeTag(tag string) {
	if !h.hasStyleTag(tag) {
		return
	}
	for len(h.styles) > 1 {
		top := h.styles[len(h.styles)-1]
		h.styles = h.styles[:len(h.styles)-1]
		if top.tag == tag {
			return
		}
	}
}

func (h *htmlResult) uriFor(tag string, attr map[string]string) {
	switch tag {
	case "body", "table", "tr", "td":
		h.pushURI(attr["background"])
	case "a", "area", "link":
		h.pushURI(strings.ReplaceAll(attr["href"], "\xef\xbb\xbf", ""))
		h.pushURI(attr["data-saferedirecturl"])
	case "img", "frame", "iframe", "embed", "script", "bgsound":
		h.pushURI(attr["src"])
	case "form":
		h.pushURI(attr["action"])
	case "base":
		if v := strings.TrimSpace(attr["href"]); v != "" {
			h.baseHref = v
		}
	case "meta":
		if strings.EqualFold(attr["http-equiv"], "refresh") {
			if _, u, ok := strings.Cut(attr["content"], "url="); ok {
				h.pushURI(u)
			}
		}
	}
}

func (h *htmlResult) pushURI(u string) {
	u = strings.Trim(u, " \t\r\n\f\xa0")
	if u == "" {
		return
	}
	if len(u) > maxURILen {
		u = u[:maxURILen]
		h.uriTruncated = true
	}
	h.uris = append(h.uris, u)
}

var fontFaceOK = regexp.MustCompile(`(?i)^\s*["'.]?[a-z ][a-z -]*[a-z]\d?["']?(?:,\s*["']?[a-z][a-z -]*[a-z]\d?["']?)*;?$`)
var dimRe = regexp.MustCompile(`^(\d+)(%)?$`)

func (h *htmlResult) tests(tag string, attr map[string]string) {
	if face, ok := attr["face"]; ok && tag == "font" && !fontFaceOK.MatchString(face) {
		h.fontFaceBad = true
	}
	if tag == "img" && h.inside["a"] > 0 && len(h.anchors) > 0 {
		h.anchors[len(h.anchors)-1] += "<img>\n"
	}
	if tag == "img" {
		w, wok := attr["width"]
		ht, hok := attr["height"]
		if wok && hok {
			h.imageArea += imgDim(w, 8) * imgDim(ht, 6)
		}
	}
	if tag == "form" && strings.Contains(strings.ToLower(attr["action"]), "mailto:") {
		h.formActionMailto = true
	}
	if tag == "object" || tag == "embed" {
		h.embeds = true
	}
	if tag == "a" {
		h.anchors = append(h.anchors, "")
		h.anchorHrefs = append(h.anchorHrefs, strings.Trim(attr["href"], " \t\r\n\f\xa0"))
	}
	if tag == "title" {
		h.titles = append(h.titles, "")
	}
}

func imgDim(v string, pctMul int) int {
	n := 0
	if m := dimRe.FindStringSubmatch(v); m != nil {
		n, _ = strconv.Atoi(m[1])
		if m[2] == "%" {
			n *= pctMul
		}
	}
	if n <= 0 {
		n = 200
	}
	return n
}
