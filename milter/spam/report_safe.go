package spam

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"strings"
	"time"
)

// report_safe 1 and 2: SA's rewrite_report_safe wraps a spam message in a
// new multipart/mixed message whose first part is the report and whose
// second part is the original, untouched, as message/rfc822 (1) or
// text/plain (2). The new message keeps From, To, Cc, Subject (tagged by
// rewrite_header), Date and Message-Id, plus report_safe_copy_headers.

// encapsulatedDesc is SA's encapsulated_content_description.
const encapsulatedDesc = "original message before SpamAssassin"

// wrapInfo is what encapsulation needs from the check.
type wrapInfo struct {
	mode       int    // report_safe: 1 or 2
	attachment bool   // the original is not plain text: "attachment", unsafe_report added
	report     string // the report part's text
	subjectTag string // rewrite_header Subject tag, expanded; "" = none
	charset    string
	copy       []string
	hostname   string
	now        time.Time
}

func (e *Engine) prepareWrap(m *msgState, res *Result) {
	w := &wrapInfo{mode: e.conf.ReportSafe, report: res.Report(), charset: e.conf.report.reportCharset(),
		copy: e.conf.report.copyHeaders, hostname: e.opts.Hostname, now: e.opts.Now()}
	// SA reads the decoded Content-Type of the message: anything but
	// text/plain could be unsafe to open.
	if ct, ok := m.lastHeader("Content-Type"); ok && ct != "" && !strings.Contains(strings.ToLower(ct), "text/plain") {
		w.attachment = true
		w.report += e.expandTags(e.conf.report.unsafeTemplate, res)
	}
	if e.conf.RewriteSubject != "" {
		w.subjectTag = strings.ReplaceAll(e.expandTags(e.conf.RewriteSubject, res), "\n", " ")
	}
	res.wrap = w
}

// Encapsulation is a spam message rewritten as report_safe asks, in the
// form a milter applies: which original header fields stay, what to add,
// and the new body.
type Encapsulation struct {
	// Headers are the fields to add, in order: the X-Spam-* fields, then
	// MIME-Version and Content-Type. Values as in Result.Headers.
	Headers []HeaderField
	// Subject, when not "", is the new raw Subject value (the original's,
	// encoded words and folding kept, with the rewrite_header tag).
	Subject string
	// Body is the new multipart/mixed body, in the line-end style of the
	// message given to Encapsulate.
	Body []byte
	keep map[string]bool
}

// Keeps reports whether the original header field name stays in the new
// message; every other original field is to be deleted.
func (x *Encapsulation) Keeps(name string) bool { return x.keep[strings.ToLower(name)] }

// Encapsulates reports whether the message is to be wrapped as
// report_safe 1 or 2 asks (spam, and a check that did not fail).
func (r *Result) Encapsulates() bool { return r.wrap != nil && r.Err == nil }

// Encapsulate returns the report_safe form of raw (the message that was
// checked), or nil when the message stays as it is apart from headers:
// not spam, report_safe 0, or a failed check.
func (r *Result) Encapsulate(raw []byte) *Encapsulation {
	if !r.Encapsulates() {
		return nil
	}
	nl := lineEnd(raw)
	_, orig := cutMboxLine(raw)
	hb, _ := splitHeaderBody(normalizeNL(orig))
	x := &Encapsulation{keep: map[string]bool{}}
	for _, n := range append([]string{"from", "to", "cc", "subject", "date", "message-id"}, r.wrap.copy...) {
		x.keep[strings.ToLower(n)] = true
	}
	if r.wrap.subjectTag != "" {
		x.Subject = strings.TrimSuffix(r.wrap.taggedSubject(parseHeaderBlock(hb)), "\n")
	}
	for _, h := range r.Headers {
		if !strings.EqualFold(h.Name, "X-Spam-Prev-Subject") {
			x.Headers = append(x.Headers, h)
		}
	}
	boundary := newBoundary(orig, r.wrap.now)
	x.Headers = append(x.Headers, HeaderField{Name: "MIME-Version", Value: "1.0"},
		HeaderField{Name: "Content-Type", Value: `multipart/mixed; boundary="` + boundary + `"`})
	x.Body = r.wrap.body(orig, boundary, nl)
	return x
}

// taggedSubject is SA's report_safe Subject: the raw value of the last
// Subject field ("" when there is none) with the tag in front, once.
func (w *wrapInfo) taggedSubject(hdrs []header) string {
	subj := "\n"
	for _, h := range hdrs {
		if strings.EqualFold(h.name, "Subject") {
			subj = h.raw
		}
	}
	return w.subjectTag + " " + strings.TrimPrefix(subj, w.subjectTag+" ")
}

// body builds the MIME body around orig (kept byte for byte).
func (w *wrapInfo) body(orig []byte, boundary, nl string) []byte {
	typ, disp := "message/rfc822", "inline"
	if w.mode > 1 {
		typ = "text/plain"
	}
	if w.attachment {
		disp = "attachment"
	}
	head := "This is a multi-part message in MIME format.\n\n" +
		"--" + boundary + "\nContent-Type: text/plain; charset=" + w.charset +
		"\nContent-Disposition: inline\nContent-Transfer-Encoding: 8bit\n\n" + w.report + "\n" +
		"--" + boundary + "\nContent-Type: " + typ + "; x-spam-type=original\nContent-Description: " +
		encapsulatedDesc + "\nContent-Disposition: " + disp + "\nContent-Transfer-Encoding: 8bit\n\n"
	tail := "\n--" + boundary + "--\n\n"
	var b bytes.Buffer
	b.Grow(len(head) + len(orig) + len(tail) + 64)
	b.WriteString(withLineEnd(head, nl))
	b.Write(orig)
	b.WriteString(withLineEnd(tail, nl))
	return b.Bytes()
}

// rewriteSafe is Result.Rewrite for report_safe 1 and 2: the whole new
// message as SA writes it, starting with SA's own Received line.
func (r *Result) rewriteSafe(raw []byte) []byte {
	x := r.Encapsulate(raw)
	nl := lineEnd(raw)
	mbox, orig := cutMboxLine(raw)
	hb, _ := splitHeaderBody(normalizeNL(orig))
	hdrs := parseHeaderBlock(hb)
	var h strings.Builder
	h.WriteString("Received: from localhost by " + r.wrap.hostname + "\n\twith SpamAssassin (version " +
		saVersionString + ");\n\t" + r.wrap.now.Format("Mon, 2 Jan 2006 15:04:05 -0700") + "\n")
	last := func(name string) (string, bool) {
		v, ok := "", false
		for _, f := range hdrs {
			if strings.EqualFold(f.name, name) {
				v, ok = f.raw, true
			}
		}
		return v, ok
	}
	for _, n := range []string{"From", "To", "Cc", "Subject", "Date", "Message-Id"} {
		v, ok := last(n)
		if n == "Subject" && x.Subject != "" {
			v, ok = x.Subject+"\n", true
		}
		if ok {
			h.WriteString(n + ": " + v)
		}
	}
	for _, f := range x.Headers {
		if strings.HasPrefix(f.Name, "X-Spam-") {
			h.WriteString(f.Name + ": " + f.Value + "\n")
		}
	}
	copied := r.copiedHeaders(hdrs)
	var out bytes.Buffer
	out.Write(mbox)
	out.WriteString(withLineEnd(copied.received+h.String()+copied.rest, nl))
	for _, f := range x.Headers {
		if !strings.HasPrefix(f.Name, "X-Spam-") {
			out.WriteString(withLineEnd(f.Name+": "+f.Value+"\n", nl))
		}
	}
	out.WriteString(nl)
	out.Write(x.Body)
	return out.Bytes()
}

// copiedHeaders renders report_safe_copy_headers: Received fields go on
// top of the new message, the others after the X-Spam-* fields.
func (r *Result) copiedHeaders(hdrs []header) (c struct{ received, rest string }) {
	done := map[string]bool{"from": true, "to": true, "cc": true, "subject": true, "date": true, "message-id": true}
	for _, name := range r.wrap.copy {
		ln := strings.ToLower(name)
		if done[ln] {
			continue
		}
		done[ln] = true
		for _, f := range hdrs {
			if !strings.EqualFold(f.name, name) {
				continue
			}
			if ln == "received" {
				c.received += name + ": " + f.raw
			} else {
				c.rest += name + ": " + f.raw
			}
		}
	}
	return c
}

// newBoundary is SA's boundary: time and a random number in hex, made
// longer until no line of the original starts with it.
func newBoundary(orig []byte, now time.Time) string {
	b := fmt.Sprintf("----------=_%08X.%08X", uint32(now.Unix()), rand.Uint32())
	for bytes.Contains(orig, []byte("\n"+b)) || bytes.HasPrefix(orig, []byte(b)) {
		b += fmt.Sprintf("/%08X", rand.Uint32())
	}
	return b
}

func lineEnd(raw []byte) string {
	if bytes.Contains(raw, []byte("\r\n")) {
		return "\r\n"
	}
	return "\n"
}

func withLineEnd(s, nl string) string {
	if nl == "\n" {
		return s
	}
	return strings.ReplaceAll(s, "\n", nl)
}

// cutMboxLine splits off a leading mbox "From " line, which SA keeps in
// front of its rewritten message and out of the attached original.
func cutMboxLine(raw []byte) (mbox, rest []byte) {
	if !bytes.HasPrefix(raw, []byte("From ")) {
		return nil, raw
	}
	i := bytes.IndexByte(raw, '\n')
	if i < 0 {
		return nil, raw
	}
	return raw[:i+1], raw[i+1:]
}
