package bayes

import (
	"bytes"
	"strings"

	"golang.org/x/net/html"
	"golang.org/x/net/html/atom"
)

// renderHTML returns the visible text of an HTML part, block elements
// separated by newlines, and the URIs in its link attributes. Script and
// style content is not visible text.
func renderHTML(b []byte) (string, []string) {
	z := html.NewTokenizer(bytes.NewReader(b))
	var sb strings.Builder
	var uris []string
	skip := 0
	for sb.Len() < maxPartText {
		switch z.Next() {
		case html.ErrorToken:
			return sb.String(), uris
		case html.TextToken:
			if skip == 0 {
				writeText(&sb, z.Text())
			}
		case html.StartTagToken, html.SelfClosingTagToken:
			name, hasAttr := z.TagName()
			a := atom.Lookup(name)
			if a == atom.Script || a == atom.Style {
				skip++
			}
			if blockTag(a) {
				sb.WriteByte('\n')
			}
			for hasAttr && len(uris) < 500 {
				var k, v []byte
				k, v, hasAttr = z.TagAttr()
				if linkAttr(string(k)) && len(v) > 0 {
					uris = append(uris, strings.TrimSpace(string(v)))
				}
			}
		case html.EndTagToken:
			name, _ := z.TagName()
			a := atom.Lookup(name)
			if (a == atom.Script || a == atom.Style) && skip > 0 {
				skip--
			}
			if blockTag(a) {
				sb.WriteByte('\n')
			}
		}
	}
	return sb.String(), uris
}

// writeText writes HTML text: no-break spaces separate words like
// spaces.
func writeText(sb *strings.Builder, t []byte) {
	nbsp := []byte("\u00a0")
	for {
		i := bytes.Index(t, nbsp)
		if i < 0 {
			sb.Write(t)
			return
		}
		sb.Write(t[:i])
		sb.WriteByte(' ')
		t = t[i+len(nbsp):]
	}
}

func linkAttr(k string) bool {
	return k == "href" || k == "src" || k == "action" || k == "background"
}

func blockTag(a atom.Atom) bool {
	switch a {
	case atom.P, atom.Br, atom.Div, atom.Tr, atom.Li, atom.Table, atom.H1, atom.H2,
		atom.H3, atom.H4, atom.H5, atom.H6, atom.Hr, atom.Blockquote, atom.Pre, atom.Title:
		return true
	}
	return false
}
