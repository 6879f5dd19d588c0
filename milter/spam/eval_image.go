package spam

import (
	"regexp"
	"strconv"
	"strings"
	"unicode/utf8"
)

// SA's ImageInfo plugin: counts, sizes and pixel areas of the GIF, PNG
// and JPEG parts, for the image-spam rules of 20_imageinfo.cf.

func init() {
	regEval("image_count", boolEval(func(m *msgState, args []string) bool {
		if len(args) < 2 {
			return false
		}
		n, ok := m.imageInfo().count[args[0]]
		return ok && inRange(args[1:], float64(n), false)
	}))
	regEval("pixel_coverage", boolEval(func(m *msgState, args []string) bool {
		if len(args) < 2 {
			return false
		}
		area, ok := m.imageInfo().area[args[0]]
		return ok && inRange(args[1:], float64(area), false)
	}))
	regEval("image_to_text_ratio", boolEval(evalImageTextRatio))
	regEval("image_size_exact", boolEval(func(m *msgState, args []string) bool {
		return len(args) >= 3 && m.imageInfo().dims[args[0]][args[1]+"x"+args[2]]
	}))
	regEval("image_size_range", boolEval(evalImageSizeRange))
	regEval("image_named", boolEval(func(m *msgState, args []string) bool {
		return len(args) >= 1 && m.imageInfo().names[args[0]]
	}))
	regEval("image_name_regex", boolEval(evalImageNameRegex))
}

// imageStats is ImageInfo's per-message table. Keys are "all", "gif",
// "png" and "jpeg"; dims holds "HEIGHTxWIDTH" strings as SA writes them.
type imageStats struct {
	count map[string]int
	area  map[string]int
	dims  map[string]map[string]bool
	names map[string]bool
}

var imageTypes = []string{"gif", "png", "jpeg"}

func (m *msgState) imageInfo() *imageStats {
	if v, ok := m.evalCache["imageinfo"].(*imageStats); ok {
		return v
	}
	st := &imageStats{count: map[string]int{}, area: map[string]int{}, dims: map[string]map[string]bool{}, names: map[string]bool{}}
	for _, t := range append([]string{"all"}, imageTypes...) {
		st.count[t], st.area[t], st.dims[t] = 0, 0, map[string]bool{}
	}
	for _, p := range m.root.leaves(nil) {
		typ, ok := imagePartType(p)
		if !ok {
			continue
		}
		st.count[typ]++
		st.count["all"]++
		w, h, ok := imageSize(typ, decodeBase64Prefix(p.body, imgPrefixMax))
		if !ok {
			continue
		}
		st.area[typ] += w * h
		st.area["all"] += w * h
		dim := strconv.Itoa(h) + "x" + strconv.Itoa(w)
		st.dims[typ][dim], st.dims["all"][dim] = true, true
		if p.name != "" {
			st.names[p.name] = true
		}
	}
	m.evalCache["imageinfo"] = st
	return st
}

// imagePartType picks the parts ImageInfo reads: image/gif, image/png,
// image/jpeg and image/jpg leaves whose (last) Content-Transfer-Encoding
// is exactly base64.
func imagePartType(p *part) (string, bool) {
	var typ string
	switch p.ctype {
	case "image/gif":
		typ = "gif"
	case "image/png":
		typ = "png"
	case "image/jpeg", "image/jpg":
		typ = "jpeg"
	default:
		return "", false
	}
	cte := p.get("Content-Transfer-Encoding")
	if len(cte) == 0 || !strings.EqualFold(strings.TrimSpace(cte[len(cte)-1]), "base64") {
		return "", false
	}
	return typ, true
}

// inRange is ImageInfo's result_check: args are min and an optional max;
// openMax excludes the maximum itself.
func inRange(args []string, v float64, openMax bool) bool {
	if v < atof(args[0]) {
		return false
	}
	if len(args) < 2 {
		return true
	}
	hi := atof(args[1])
	return v <= hi && !(openMax && v == hi)
}

// evalImageTextRatio divides the length of the text the rule sees (the
// rendered body for a body rule, the decoded text parts for rawbody) by
// the pixel area; the range excludes its maximum.
func evalImageTextRatio(m *msgState, args []string) bool {
	if len(args) < 3 {
		return false
	}
	area := m.imageInfo().area[args[0]]
	if area <= 0 {
		return false
	}
	m.render()
	lines := m.bodyLines
	if m.evalKind == KindRawbody {
		lines = m.rawParts
	}
	n := 0
	for _, ln := range lines {
		n += utf8.RuneCountInString(ln) // Latin-1: one rune per byte
	}
	if n == 0 {
		return false
	}
	return inRange(args[1:3], float64(n)/float64(area), true)
}

func evalImageSizeRange(m *msgState, args []string) bool {
	if len(args) < 3 {
		return false
	}
	for dim := range m.imageInfo().dims[args[0]] {
		hs, ws, _ := strings.Cut(dim, "x")
		h, w := atof(hs), atof(ws)
		if h < atof(args[1]) || w < atof(args[2]) {
			continue
		}
		if len(args) > 3 && h > atof(args[3]) || len(args) > 4 && w > atof(args[4]) {
			continue
		}
		return true
	}
	return false
}

func evalImageNameRegex(m *msgState, args []string) bool {
	if len(args) < 1 {
		return false
	}
	re, err := imageNameRe(args[0])
	if err != nil {
		return false
	}
	for name := range m.imageInfo().names {
		if re.MatchString(latin1s(name)) {
			return true
		}
	}
	return false
}

// imageNameRe compiles image_name_regex's argument, given as /re/flags.
func imageNameRe(s string) (*regexp.Regexp, error) {
	flags := ""
	if strings.HasPrefix(s, "/") {
		if i := strings.LastIndexByte(s, '/'); i > 0 {
			s, flags = s[1:i], s[i+1:]
		}
	}
	if strings.Contains(flags, "i") {
		s = "(?i)" + s
	}
	return regexp.Compile(s)
}
