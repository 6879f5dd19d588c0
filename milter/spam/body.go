package spam

import (
	"regexp"
	"strings"
	"unicode/utf8"
)

// render computes the body views once: rendered lines for body rules,
// decoded parts for rawbody rules, and the HTML results.
func (m *msgState) render() {
	if m.rendered {
		return
	}
	m.rendered = true
	var text strings.Builder
	for _, p := range m.root.leaves(nil) {
		if text.Len() > 0 {
			text.WriteByte('\n')
		}
		switch p.ctype {
		case "text/html":
			dec := p.decode()
			if len(dec) == 0 {
				continue
			}
			h := renderHTML(normalizeCharset(dec, p.charset))
			m.htmls = append(m.htmls, h)
			m.textParts = append(m.textParts, p)
			p.html = h
			p.rendered = h.rendered()
			text.WriteString(truncScan(p.rendered, m.e.conf.BodyScanSize, "\n "))
		case "text/plain":
			m.textParts = append(m.textParts, p)
			p.rendered = string(normalizeCharset(p.decode(), p.charset))
			text.WriteString(truncScan(p.rendered, m.e.conf.BodyScanSize, "\n "))
		}
	}
	for _, p := range m.root.leaves(nil) {
		if (strings.HasPrefix(p.ctype, "text/") || strings.HasPrefix(p.ctype, "message/")) && p.ctype != "text/calendar" {
			for _, para := range splitParagraphs(truncScan(string(p.decode()), m.e.conf.RawbodyScanSize, "\n> ")) {
				m.rawParts = append(m.rawParts, latin1s(para))
			}
		}
	}
	t := squeezeRendered(text.String())
	subj, ok := m.lastHeader("Subject")
	if ok {
		subj += "\n"
	} else {
		subj = "\n"
	}
	for _, ln := range splitShortLines(subj + t) {
		m.bodyLines = append(m.bodyLines, latin1s(ln))
	}
}

// truncScan cuts s to about limit bytes as SpamAssassin does before body
// and rawbody rules: just after the first of seps (tried in order) found
// within 1 KiB past the limit, else at the limit. Long parts are where
// rule time goes, and SA never looks past this point either.
func truncScan(s string, limit int, seps string) string {
	if limit <= 0 || len(s) <= limit {
		return s
	}
	for i := 0; i < len(seps); i++ {
		if j := strings.IndexByte(s[limit:], seps[i]); j >= 0 && j <= 1024 {
			return s[:limit+j+1]
		}
	}
	return s[:limit]
}

// squeezeRendered is SA's rendering of paragraphs, in one pass instead
// of three over the whole text: s/\n+[ \t\r\f\v]*\n+/\0/g, then
// s/[ \t\n\r\f\v]+/ /g, then \0 back to \n. The first substitution only
// matches within a run of white space, so each run is squeezed on its own:
// its paragraph breaks become newlines, the white space between them one
// space each. NUL bytes of the text become newlines too.
func squeezeRendered(s string) string {
	var b strings.Builder
	b.Grow(len(s))
	for i := 0; i < len(s); {
		if !isPerlSpace(rune(s[i])) {
			if s[i] == 0 {
				b.WriteByte('\n')
			} else {
				b.WriteByte(s[i])
			}
			i++
			continue
		}
		end := i
		for end < len(s) && isPerlSpace(rune(s[end])) {
			end++
		}
		squeezeRun(&b, s[i:end])
		i = end
	}
	return b.String()
}

// squeezeRun writes one run of white space: a space for each stretch
// outside the breaks, a newline for each break. A break is a newline
// stretch, horizontal space and another newline stretch, or failing the
// second stretch two newlines or more (the regex backs off one).
func squeezeRun(b *strings.Builder, run string) {
	p := 0 // run[p:] is not yet written
	for i := 0; i < len(run); {
		if run[i] != '\n' {
			i++
			continue
		}
		k := i
		for k < len(run) && run[k] == '\n' {
			k++
		}
		h := k
		for h < len(run) && run[h] != '\n' {
			h++
		}
		k2 := h
		for k2 < len(run) && run[k2] == '\n' {
			k2++
		}
		end := k2
		if k2 == h { // no second stretch
			if k-i < 2 {
				break // a lone newline: no break in the rest of the run either
			}
			end = k
		}
		if i > p {
			b.WriteByte(' ')
		}
		b.WriteByte('\n')
		p, i = end, end
	}
	if p < len(run) {
		b.WriteByte(' ')
	}
}

// splitShortLines splits at newlines (kept) and cuts lines over
// maxBodyLine at the last space before the limit.
func splitShortLines(s string) []string {
	var out []string
	for _, ln := range strings.SplitAfter(s, "\n") {
		if ln == "" {
			continue
		}
		for len(ln) > maxBodyLine {
			n := strings.LastIndexByte(ln[:maxBodyLine+1], ' ') + 1
			if n == 0 {
				n = maxBodyLine
			}
			out = append(out, ln[:n])
			ln = ln[n:]
		}
		out = append(out, ln)
	}
	return out
}

// splitParagraphs cuts a long decoded part into chunks of at most twice
// maxBodyLine, preferring newline, '>' and space boundaries.
func splitParagraphs(s string) []string {
	if len(s) <= maxBodyLine {
		return []string{s}
	}
	var out []string
	ofs := 0
	for len(s)-ofs > 2*maxBodyLine {
		j := -1
		for _, sep := range []string{"\n", ">", " "} {
			k := strings.Index(s[ofs+maxBodyLine:], sep)
			if k >= 0 && k+maxBodyLine+1 <= 2*maxBodyLine {
				j = ofs + maxBodyLine + k
				break
			}
		}
		if j < 0 {
			j = ofs + maxBodyLine
		}
		out = append(out, s[ofs:j+1])
		ofs = j + 1
	}
	if ofs < len(s) {
		out = append(out, s[ofs:])
	}
	return out
}

// uriSchemes are the schemes uriScheme finds, lower case.
var uriSchemes = []string{"http", "https", "ftp", "mailto", "javascript", "file", "gopher", "news", "telnet", "nntp"}

// hasSchemeColon reports whether a colon in s follows one of uriSchemes
// (in any case), which uriScheme needs: most lines with a colon ("Re:",
// "10:30") have none, and the regex, starting with a case-folded
// alternation, would try every place of them.
func hasSchemeColon(s string) bool {
	for i := strings.IndexByte(s, ':'); i >= 0; {
		for _, sc := range uriSchemes {
			if i >= len(sc) && strings.EqualFold(s[i-len(sc):i], sc) {
				return true
			}
		}
		j := strings.IndexByte(s[i+1:], ':')
		if j < 0 {
			break
		}
		i += 1 + j
	}
	return false
}

var (
	uriScheme  = regexp.MustCompile(`(?i)\b(?:https?|ftp|mailto|javascript|file|gopher|news|telnet|nntp):[^\s<>"'` + "`" + `{}|\\^\x00-\x1f\x7f]+`)
	uriWWW     = regexp.MustCompile(`(?i)\b(?:www\d{0,3}|ftp)\.[a-z0-9-]+(?:\.[a-z0-9-]+)+(?::\d+)?(?:/[^\s<>"']*)?`)
	uriEmail   = regexp.MustCompile(`(?i)\b[a-z0-9._%+-]+@[a-z0-9-]+(?:\.[a-z0-9-]+)+\b`)
	uriTrailer = regexp.MustCompile(`[.,;:!?)\]>'"]+$`)
)

// containsFold reports whether s contains the lower-case ASCII word w in
// any case, without lower-casing s.
func containsFold(s, w string) bool {
	for i := 0; i+len(w) <= len(s); i++ {
		j := 0
		for j < len(w) && s[i+j]|0x20 == w[j] {
			j++
		}
		if j == len(w) {
			return true
		}
	}
	return false
}

// uriList returns the message URIs: HTML links first, then URIs found in
// the rendered text, schemeless "www." hosts given an http:// form, mail
// addresses a mailto: form.
func (m *msgState) uriList() []string {
	if m.uris != nil {
		return m.uris
	}
	m.render()
	seen := map[string]bool{}
	add := func(raw string) {
		for _, u := range canonURIs(raw, 0) {
			if !seen[u] && len(m.uris) < maxURIs {
				seen[u] = true
				m.uris = append(m.uris, latin1s(u))
			}
		}
	}
	for _, h := range m.htmls {
		for _, u := range h.uris {
			add(u)
			if !strings.Contains(u, ":") && strings.HasPrefix(strings.ToLower(u), "www.") {
				add("http://" + u)
			}
		}
	}
	for _, ln := range m.bodyLines {
		if !utf8.ValidString(ln) {
			continue
		}
		// Each pattern needs a byte most lines lack; looking for it first
		// spares the regex engines nearly every line.
		if hasSchemeColon(ln) {
			for _, u := range uriScheme.FindAllString(ln, -1) {
				add(uriTrailer.ReplaceAllString(u, ""))
			}
		}
		if containsFold(ln, "www") || containsFold(ln, "ftp.") {
			for _, u := range uriWWW.FindAllString(ln, -1) {
				u = uriTrailer.ReplaceAllString(u, "")
				add(u)
				add("http://" + u)
			}
		}
		if strings.IndexByte(ln, '@') >= 0 {
			for _, u := range uriEmail.FindAllString(ln, -1) {
				add("mailto:" + u)
			}
		}
	}
	if m.uris == nil {
		m.uris = []string{}
	}
	return m.uris
}
