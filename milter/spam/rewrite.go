package spam

import (
	"bytes"
	"strings"
)

// Rewrite applies the result to a raw message the way SA does. With
// report_safe 0, and for ham, incoming X-Spam-* fields go, the Subject is
// rewritten when requested, and the new fields are appended to the header
// block. Spam with report_safe 1 or 2 becomes SA's new message with the
// report and the original attached (see Encapsulate). Line endings follow
// the message (CRLF when it uses CRLF).
func (r *Result) Rewrite(raw []byte) []byte {
	if r.Encapsulates() {
		return r.rewriteSafe(raw)
	}
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
