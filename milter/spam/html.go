package spam

import (
	"bytes"
	"math"
	"regexp"
	"strconv"
	"strings"
	"unicode/utf8"

	"golang.org/x/net/html"
)

// htmlElements are the HTML 4.01/XHTML 1.0 element names; SA counts only
// these as "elements" and renders text style only for them.
var htmlElements = setOf(`a abbr acronym address area b base bdo big blockquote body br
	button caption cite code col colgroup dd del dfn div dl dt em fieldset form h1 h2 h3
	h4 h5 h6 head hr html i img input ins kbd label legend li link map meta noscript
	object ol optgroup option p param pre q samp script select small span strong style
	sub sup table tbody td textarea tfoot th thead title tr tt ul var applet basefont
	center dir font frame frameset iframe isindex menu noframes s strike u nobr x-sigsep x-tab`)

var (
	htmlTricks     = setOf(`bgsound embed listing plaintext xmp`)
	htmlTextStyle  = setOf(`body font table tr th td big small basefont marquee span p div a`)
	htmlWhitespace = setOf(`br div li th td dt dd p hr blockquote pre embed listing plaintext xmp title h1 h2 h3 h4 h5 h6`)
	htmlURITags    = setOf(`body table tr td a area link img frame iframe embed script form base bgsound meta`)
	htmlOKAttr     = map[string]map[string]bool{
		"basefont": setOf("color face size"), "body": setOf("text bgcolor link alink vlink background"),
		"font": setOf("color face size"), "marquee": setOf("bgcolor background"),
		"table": setOf("bgcolor style"), "td": setOf("bgcolor style"), "th": setOf("bgcolor style"),
		"tr": setOf("bgcolor style"), "span": setOf("style"), "p": setOf("style"),
		"div": setOf("style"), "a": setOf("style"),
	}
)

func setOf(s string) map[string]bool {
	m := map[string]bool{}
	for _, f := range strings.Fields(s) {
		m[f] = true
	}
	return m
}

// htmlResult is what rendering one text/html part tells the HTML evals.
type htmlResult struct {
	text       []string // rendered chunks
	whitespace []bool   // chunk is synthetic whitespace
	invisible  []bool

	inside                    map[string]int
	elements, elementsSeen    int
	tags, tagsSeen            int
	closedExtra               int
	closedHTML, closedBody    bool
	imageArea                 int
	minSize, maxSize          int
	basefont                  int
	styles                    []textStyle
	fontLowContrast           bool
	fontInvalidColor          bool
	fontFaceBad               bool
	formActionMailto, embeds  bool
	uris                      []string
	anchors                   []string
	anchorHrefs               []string // href of each anchor, parallel to anchors
	inAnchor                  bool
	titles                    []string
	comments                  []string
	scripts                   []string
	obfuscation               int
	backhair                  map[string]int
	length                    int // bytes of HTML source
	charsets                  string
	renderedLen, nonSpaceLen  int
	ratio                     float64
	baseHref                  string
	anchorText                map[string][]string
	hasTitle, hasScriptInside bool
	uriTruncated              bool
}

type textStyle struct {
	tag            string
	fg, bg         string
	size           int
	display, visib string
}

var selfClose = regexp.MustCompile(`(?i)<(\w+)\s*/>`)

// renderHTML parses src the way SA's HTML.pm drives HTML::Parser.
func renderHTML(src []byte) *htmlResult {
	h := &htmlResult{inside: map[string]int{}, minSize: 3, maxSize: 3, basefont: 3,
		backhair: map[string]int{}, anchorText: map[string][]string{}, length: len(src)}
	h.styles = []textStyle{{tag: "default", fg: "#000000", bg: "#ffffff", size: 3}}
	src = bytes.ReplaceAll(src, []byte("&nbsp;"), []byte(" "))
	src = selfClose.ReplaceAll(src, []byte("<$1>"))
	src = bytes.ReplaceAll(src, []byte("\xe2\x80\x9c"), []byte(`"`))
	src = bytes.ReplaceAll(src, []byte("\xe2\x80\x9d"), []byte(`"`))
	z := html.NewTokenizer(bytes.NewReader(src))
	z.SetMaxBuf(4 << 20)
	for {
		tt := z.Next()
		if tt == html.ErrorToken {
			break
		}
		tok := z.Token()
		switch tt {
		case html.StartTagToken, html.SelfClosingTagToken:
			h.tag(tok.Data, attrMap(tok.Attr), 1)
		case html.EndTagToken:
			h.tag(tok.Data, nil, -1)
		case html.TextToken:
			h.textToken(tok.Data)
		case html.CommentToken:
			h.comments = append(h.comments, "<!--"+tok.Data+"-->")
		case html.DoctypeToken:
			h.elements++
			h.tags++
			h.inside["!doctype"] = 0
		}
	}
	h.finish(len(src))
	return h
}

// attrMap keeps the first value of each (lower-case) attribute, as
// HTML::Parser does.
func attrMap(a []html.Attribute) map[string]string {
	m := make(map[string]string, len(a))
	for _, x := range a {
		if _, ok := m[x.Key]; !ok {
			m[x.Key] = x.Val
		}
	}
	return m
}

func (h *htmlResult) tag(name string, attr map[string]string, num int) {
	ns := strings.HasPrefix(name, "o:") || len(name) > 3 && name[:2] == "st" && strings.Contains(name, ":")
	if htmlElements[name] || ns {
		h.elements++
		if _, ok := h.inside[name]; !ok {
			h.elementsSeen++
		}
	}
	h.tags++
	if _, ok := h.inside[name]; !ok {
		h.tagsSeen++
	}
	h.inside[name] += num
	if h.inside[name] < 0 {
		h.inside[name] = 0
		h.closedExtra++
	}
	if ns || !(htmlElements[name] || htmlTricks[name]) {
		return
	}
	if htmlTextStyle[name] {
		h.textStyle(name, attr, num)
	}
	if htmlWhitespace[name] {
		h.whitespaceFor(name)
	}
	if num == 1 {
		if htmlURITags[name] {
			h.uriFor(name, attr)
		}
		h.tests(name, attr)
		return
	}
	if name == "a" {
		h.inAnchor = false
	}
	h.closedHTML = h.closedHTML || name == "html"
	h.closedBody = h.closedBody || name == "body"
}

func (h *htmlResult) whitespaceFor(name string) {
	switch {
	case name == "br" || name == "div":
		h.display("\n", true, false)
	case name == "li" || name == "th" || name == "td" || name == "dt" || name == "dd" ||
		name == "embed" || len(name) == 2 && name[0] == 'h' && name[1] >= '1' && name[1] <= '6':
		h.display(" ", true, false)
	default:
		h.display("\n\n", true, false)
	}
}

// squeezeWS replaces each run of Perl white space and no-break spaces
// (U+00A0) in s with one space, as the regex (?:[ \t\n\r\f\x0b]|\x{a0})+
// would (FuzzSqueezeWS checks them equal): reading s rune by rune, so
// bytes of invalid UTF-8 stay as they are. Rendered HTML is thousands of
// short pieces; the regex's set-up per piece was 2% of the milter's
// instructions.
func squeezeWS(s string) string {
	i := 0
	for i < len(s) && !isWSStart(s[i]) {
		i++
	}
	if i == len(s) {
		return s
	}
	var b strings.Builder
	b.Grow(len(s))
	b.WriteString(s[:i])
	inRun := false
	for i < len(s) {
		r, n := utf8.DecodeRuneInString(s[i:])
		if r == 0xa0 || r < utf8.RuneSelf && isPerlSpace(r) {
			if !inRun {
				b.WriteByte(' ')
				inRun = true
			}
		} else {
			b.WriteString(s[i : i+n])
			inRun = false
		}
		i += n
	}
	return b.String()
}

// isWSStart reports whether byte c may begin such a run: a space
// character or the lead byte of U+00A0.
func isWSStart(c byte) bool { return c == 0xc2 || isPerlSpace(rune(c)) }

// display appends rendered text with SA's whitespace rules.
func (h *htmlResult) display(text string, ws, invisible bool) {
	n := len(h.text)
	if ws {
		if n > 0 && !h.whitespace[n-1] && !h.invisible[n-1] {
			h.text[n-1] = strings.TrimSuffix(h.text[n-1], " ")
		}
	} else {
		text = squeezeWS(text)
		if n > 0 && !invisible && h.whitespace[n-1] {
			text = strings.TrimPrefix(text, " ")
		}
	}
	h.text = append(h.text, text)
	h.whitespace = append(h.whitespace, ws)
	h.invisible = append(h.invisible, invisible)
}

func isPunctOrSpace(c byte) bool {
	return c <= ' ' || c >= 0x21 && c <= 0x2f || c >= 0x3a && c <= 0x40 || c >= 0x5b && c <= 0x60 || c >= 0x7b && c <= 0x7e
}

var (
	backhairTail = regexp.MustCompile(`\b([^\s\x21-\x2f\x3a-\x40\x5b-\x60\x7b-\x7e]{1,7})\z`)
	backhairHead = regexp.MustCompile(`^([^\s\x21-\x2f\x3a-\x40\x5b-\x60\x7b-\x7e]{1,7})\b`)
)

func (h *htmlResult) textToken(text string) {
	if h.inside["script"] > 0 {
		h.scripts = append(h.scripts, text)
		return
	}
	if h.inside["style"] > 0 {
		return
	}
	if h.inside["a"] > 0 && len(h.anchors) > 0 {
		h.anchors[len(h.anchors)-1] += text
	}
	if h.inside["title"] > 0 && len(h.titles) > 0 {
		h.titles[len(h.titles)-1] += text
	}
	invisible := false
	if strings.TrimFunc(text, func(r rune) bool { return r <= ' ' || r == 0xa0 }) != "" {
		invisible = h.fontInvisible()
	}
	if n := len(h.text); n > 0 && text != "" {
		last := h.text[n-1]
		if last != "" && !isPunctOrSpace(text[0]) && !isPunctOrSpace(last[len(last)-1]) {
			h.obfuscation++
		}
		if m := backhairTail.FindStringSubmatch(last); m != nil {
			if m2 := backhairHead.FindStringSubmatch(text); m2 != nil {
				h.backhair[strconv.Itoa(len(m[1]))+"_"+strconv.Itoa(len(m2[1]))]++
			}
		}
	}
	h.display(text, false, invisible)
}

func (h *htmlResult) finish(srcLen int) {
	rendered := strings.Join(h.text, "")
	h.renderedLen = len(rendered)
	space := 0
	for i := 0; i < len(rendered); i++ {
		switch rendered[i] {
		case ' ', '\t', '\n', '\r', 0x0b:
			space++
		}
	}
	h.nonSpaceLen = h.renderedLen - space
	if srcLen > 0 {
		h.ratio = float64(srcLen-h.renderedLen) / float64(srcLen)
	}
}

// rendered returns the whole rendered text (visible and invisible).
func (h *htmlResult) rendered() string { return strings.Join(h.text, "") }

// visibleText returns only chunks not hidden by font tricks.
func (h *htmlResult) visibleText() string {
	var b strings.Builder
	for i, t := range h.text {
		if !h.invisible[i] {
			b.WriteString(t)
		}
	}
	return b.String()
}

func (h *htmlResult) fontInvisible() bool {
	st := h.styles[len(h.styles)-1]
	fg, bg := st.fg, st.bg
	if len(fg) >= 6 && len(bg) >= 6 && fg[len(fg)-6:] == bg[len(bg)-6:] {
		h.fontLowContrast = true
		return true
	}
	if r1, g1, b1, ok := hexRGB(fg); ok {
		if r2, g2, b2, ok := hexRGB(bg); ok {
			d := math.Sqrt(sq(0.2126*float64(r1-r2)) + sq(0.7152*float64(g1-g2)) + sq(0.0722*float64(b1-b2)))
			if d < 12 {
				h.fontLowContrast = true
				return true
			}
		}
	}
	if fg == "invalid" || bg == "invalid" {
		h.fontInvalidColor = true
		return true
	}
	return st.size <= 1 || strings.EqualFold(st.display, "none") || strings.EqualFold(st.visib, "hidden")
}

func sq(x float64) float64 { return x * x }

func hexRGB(s string) (r, g, b int, ok bool) {
	s = strings.TrimPrefix(s, "#")
	if len(s) != 6 {
		return 0, 0, 0, false
	}
	v, err := strconv.ParseUint(s, 16, 32)
	if err != nil {
		return 0, 0, 0, false
	}
	return int(v >> 16), int(v >> 8 & 0xff), int(v & 0xff), true
}
