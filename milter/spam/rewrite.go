package spam

import (
	"bytes"
	"strings"
)

// Rewrite applies the result to a raw message the way SA does with
// report_safe 0: incoming X-Spam-* fields go, the Subject is rewritten
// when requested, and the new fields are appended to the header block.
// Line endings follow the message (CRLF when it uses CRLF).
func (r *Result) Rewrite(raw []byte) []byte {
	nl := "\n"
	if bytes.Contains(raw, []byte("\r\n")) {
		nl = "\r\n"
	}
	norm := normalizeNL(raw)
	hb, body := splitHeaderBody(norm)
	drop := map[string]bool{}
	for _, h := range r.RemoveHeaders {
		drop[strings.ToLower(h)] = true
	}
	var out bytes.Buffer
	subjectDone := false
	for _, f := range parseHeaderBlock(hb) {
		if drop[strings.ToLower(f.name)] {
			continue
		}
		if strings.EqualFold(f.name, "Subject") && r.Subject != "" && !subjectDone {
			out.WriteString(f.name + ": " + r.Subject + "\n")
			subjectDone = true
			continue
		}
		out.WriteString(f.name + ": " + f.raw)
	}
	if r.Subject != "" && !subjectDone {
		out.WriteString("Subject: " + r.Subject + "\n")
	}
	for _, h := range r.Headers {
		out.WriteString(h.Name + ": " + h.Value + "\n")
	}
	out.WriteString("\n")
	out.Write(body)
	if nl == "\n" {
		return out.Bytes()
	}
	return bytes.ReplaceAll(out.Bytes(), []byte("\n"), []byte("\r\n"))
}
