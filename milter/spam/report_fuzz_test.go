package spam

import (
	"bytes"
	"context"
	"regexp"
	"strings"
	"testing"
)

var boundaryParam = regexp.MustCompile(`\nContent-Type: multipart/mixed; boundary="([^"]+)"\r?\n`)

// FuzzReportSafe wraps arbitrary messages (every message is spam here):
// no panic, the original is attached byte for byte (its mbox line
// aside) between the boundaries the new Content-Type names, and a
// header-only rewrite keeps the body.
func FuzzReportSafe(f *testing.F) {
	f.Add([]byte(reportMsg))
	f.Add([]byte("From x@y Mon Jan  1 00:00:00 2024\r\nSubject: =?UTF-8?Q?a?=\r\n b\r\nContent-Type: text/html\r\n\r\n<p>hi</p>\r\n"))
	f.Add([]byte("no header at all"))
	f.Add([]byte("Subject: x\n\n------------=_00000000.00000000--\n"))
	wrapEng, _, err := LoadConf("f.cf", reportCF+"required_score -100\nreport_safe 2\nreport_safe_copy_headers Received X-A\n", Options{})
	if err != nil {
		f.Fatal(err)
	}
	plainEng, _, err := LoadConf("f.cf", reportCF+"required_score -100\nreport_safe 0\n", Options{})
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, raw []byte) {
		res := wrapEng.CheckBytes(context.Background(), nil, raw)
		if res.Err != nil {
			t.Fatal(res.Err)
		}
		if !res.Encapsulates() {
			t.Fatal("spam with report_safe 2 not encapsulated")
		}
		out := res.Rewrite(raw)
		mm := boundaryParam.FindSubmatch(out)
		if mm == nil {
			t.Fatalf("no multipart Content-Type in\n%q", out)
		}
		boundary := string(mm[1])
		_, orig := cutMboxLine(raw)
		nl := lineEnd(raw)
		end := nl + "--" + boundary + "--" + nl + nl
		if !bytes.HasSuffix(out, append(append([]byte(nil), orig...), end...)) {
			t.Errorf("rewritten message does not end with the original and the closing boundary")
		}
		if bytes.Count(out, []byte("--"+boundary+nl)) != 2 {
			t.Errorf("boundary %q does not open exactly two parts", boundary)
		}
		plain := plainEng.CheckBytes(context.Background(), nil, raw)
		if _, body := splitHeaderBody(normalizeNL(raw)); body != nil &&
			!strings.HasSuffix(string(normalizeNL(plain.Rewrite(raw))), "\n\n"+string(body)) {
			t.Errorf("report_safe 0 rewrite changed the body")
		}
	})
}
