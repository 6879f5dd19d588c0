package spam

import (
	"bytes"
	"context"
	"io"
	"mime"
	"mime/multipart"
	"net/mail"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/gomilter/gomilter/internal/testenv"
)

const reportCF = `
required_score 5
rewrite_header Subject [SPAM]
clear_report_template
report Spam detection software, running on the system "_HOSTNAME_",
report has_YESNO(, NOT)_ identified this incoming email as_YESNO( possible,)_ spam.
report
report Content preview:  _PREVIEW_
report
report Content analysis details:   (_SCORE_ points, _REQD_ required)
report
report " pts rule name              description"
report  ---- ---------------------- --------------------------------------------------
report _SUMMARY_
report_contact postmaster@example.org
clear_unsafe_report_template
unsafe_report Not plain text: _CONTACTADDRESS_.
header   BIG_SUBJ   Subject =~ /money/i
describe BIG_SUBJ   Subject talks about money, and this description is long enough to be wrapped
score    BIG_SUBJ   4.0
body     BODY_WORD  /winner/
describe BODY_WORD  Says winner
score    BODY_WORD  1.5
body     HUGE       /jackpot/
score    HUGE       12
`

const reportMsg = "From: Sender <s@example.net>\nTo: r@example.org\nSubject: Money for you\n" +
	"Date: Mon, 1 Jul 2024 10:00:00 +0000\nMessage-Id: <1@example.net>\nX-Other: dropped\n" +
	"X-Spam-Flag: YES\n\nYou are a winner.\nClaim your prize today.\n"

func loadReportEngine(t *testing.T, extra string) *Engine {
	t.Helper()
	e, warns, err := LoadConf("r.cf", reportCF+extra, Options{Hostname: "mx.example.org",
		Now: func() time.Time { return time.Date(2024, 7, 1, 12, 0, 0, 0, time.UTC) }})
	if err != nil || len(warns) > 0 {
		t.Fatalf("LoadConf: %v %v", err, warns)
	}
	return e
}

func TestReportText(t *testing.T) {
	e := loadReportEngine(t, "")
	res := e.CheckBytes(context.Background(), nil, []byte(reportMsg))
	want := `Spam detection software, running on the system "mx.example.org",
has identified this incoming email as possible spam.

` + "Content preview:  You are a winner. Claim your prize today. \n" + `
Content analysis details:   (5.5 points, 5.0 required)

 pts rule name              description
---- ---------------------- --------------------------------------------------
 4.0 BIG_SUBJ               Subject talks about money, and this description is long
                            enough to be wrapped
 1.5 BODY_WORD              BODY: Says winner

`
	if res.Report() != want {
		t.Errorf("Report =\n%s\nwant\n%s", res.Report(), want)
	}
	ham := e.CheckBytes(context.Background(), nil, []byte("From: a@example.net\nSubject: hi\n\nhello\n"))
	if !strings.Contains(ham.Report(), "has NOT identified this incoming email as spam.") {
		t.Errorf("ham report: %q", ham.Report())
	}
	if ham.Encapsulate([]byte("x")) != nil {
		t.Error("ham is encapsulated")
	}
}

func TestReportSafeZeroAddsReportHeader(t *testing.T) {
	e := loadReportEngine(t, "report_safe 0\n")
	raw := []byte(reportMsg + "jackpot\n")
	res := e.CheckBytes(context.Background(), nil, raw)
	var rep string
	for _, h := range res.Headers {
		if h.Name == "X-Spam-Report" {
			rep = h.Value
		}
	}
	want := "\n\t*  4.0 BIG_SUBJ Subject talks about money, and this description is long\n\t*      enough to be wrapped" +
		"\n\t*  1.5 BODY_WORD BODY: Says winner\n\t*   12 HUGE BODY: No description available."
	if rep != want {
		t.Errorf("X-Spam-Report = %q, want %q", rep, want)
	}
	if res.Encapsulate(raw) != nil {
		t.Error("report_safe 0 encapsulates")
	}
	out := string(res.Rewrite(raw))
	if !strings.Contains(out, "X-Spam-Report: \n\t*  4.0 BIG_SUBJ") || strings.Contains(out, "multipart") {
		t.Errorf("Rewrite with report_safe 0:\n%s", out)
	}
}

// parsedWrap parses a rewritten message into its header, the report
// part and the original part.
func parsedWrap(t *testing.T, msg []byte) (mail.Header, string, *multipart.Part, []byte) {
	t.Helper()
	m, err := mail.ReadMessage(bytes.NewReader(msg))
	if err != nil {
		t.Fatalf("rewritten message does not parse: %v\n%s", err, msg)
	}
	mt, params, err := mime.ParseMediaType(m.Header.Get("Content-Type"))
	if err != nil || mt != "multipart/mixed" {
		t.Fatalf("Content-Type %q: %v", m.Header.Get("Content-Type"), err)
	}
	mr := multipart.NewReader(m.Body, params["boundary"])
	p1, err := mr.NextRawPart()
	if err != nil {
		t.Fatal(err)
	}
	report, _ := io.ReadAll(p1)
	p2, err := mr.NextRawPart()
	if err != nil {
		t.Fatal(err)
	}
	orig, _ := io.ReadAll(p2)
	if _, err := mr.NextRawPart(); err != io.EOF {
		t.Errorf("more than two parts: %v", err)
	}
	return m.Header, string(report), p2, orig
}

func TestReportSafeRewrite(t *testing.T) {
	for _, tc := range []struct {
		name, conf, nl, typ, disp string
	}{
		{"report_safe 1", "report_safe 1\n", "\n", "message/rfc822", "inline"},
		{"report_safe 2, CRLF", "report_safe 2\n", "\r\n", "text/plain", "inline"},
		{"html original", "report_safe 1\n", "\n", "message/rfc822", "attachment"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := loadReportEngine(t, tc.conf)
			msg := reportMsg
			if tc.disp == "attachment" {
				msg = strings.Replace(msg, "X-Other: dropped\n", "X-Other: dropped\nContent-Type: text/html\n", 1)
			}
			raw := []byte(strings.ReplaceAll(msg, "\n", tc.nl))
			res := e.CheckBytes(context.Background(), nil, raw)
			if !res.IsSpam {
				t.Fatalf("not spam: %v %v", res.Score, res.Rules)
			}
			out := res.Rewrite(raw)
			if tc.nl == "\r\n" && bytes.Count(out, []byte("\n")) != bytes.Count(out, []byte("\r\n")) {
				t.Error("rewritten CRLF message has bare LF line ends")
			}
			hdr, report, orig, origBody := parsedWrap(t, out)
			if !bytes.Equal(origBody, raw) {
				t.Errorf("attached original differs:\n%q\nwant\n%q", origBody, raw)
			}
			if got := orig.Header.Get("Content-Type"); got != tc.typ+"; x-spam-type=original" {
				t.Errorf("original part Content-Type %q", got)
			}
			if got := orig.Header.Get("Content-Disposition"); got != tc.disp {
				t.Errorf("original part Content-Disposition %q, want %q", got, tc.disp)
			}
			if got := hdr.Get("Subject"); got != "[SPAM] Money for you" {
				t.Errorf("Subject %q", got)
			}
			for _, k := range []string{"From", "To", "Date", "Message-Id", "X-Spam-Status", "X-Spam-Flag", "Received"} {
				if hdr.Get(k) == "" {
					t.Errorf("no %s field", k)
				}
			}
			if hdr.Get("X-Other") != "" || hdr.Get("X-Spam-Prev-Subject") != "" || len(hdr["X-Spam-Flag"]) != 1 {
				t.Errorf("fields not expected in the wrapper: %v", hdr)
			}
			report = strings.ReplaceAll(report, "\r\n", "\n")
			if !strings.HasPrefix(report, res.Report()) {
				t.Errorf("report part %q does not start with the report %q", report, res.Report())
			}
			if unsafe := strings.Contains(report, "Not plain text: postmaster@example.org."); unsafe != (tc.disp == "attachment") {
				t.Errorf("unsafe_report text present = %v for %s", unsafe, tc.disp)
			}
		})
	}
}

func TestEncapsulate(t *testing.T) {
	e := loadReportEngine(t, "report_safe 1\nreport_safe_copy_headers X-Other\n")
	raw := []byte(strings.Replace(reportMsg, "Subject: Money for you\n", "Subject: =?UTF-8?Q?Money?=\n for you\n", 1))
	res := e.CheckBytes(context.Background(), nil, raw)
	x := res.Encapsulate(raw)
	if x == nil {
		t.Fatal("spam with report_safe 1 is not encapsulated")
	}
	for name, keep := range map[string]bool{"From": true, "to": true, "Subject": true, "Message-ID": true, "X-Other": true,
		"X-Spam-Flag": false, "Content-Type": false, "MIME-Version": false, "Received": false} {
		if x.Keeps(name) != keep {
			t.Errorf("Keeps(%s) = %v, want %v", name, !keep, keep)
		}
	}
	if x.Subject != "[SPAM] =?UTF-8?Q?Money?=\n for you" {
		t.Errorf("Subject = %q (the raw value, tagged)", x.Subject)
	}
	n := len(x.Headers)
	if n < 3 || x.Headers[n-2].Name != "MIME-Version" || x.Headers[n-1].Name != "Content-Type" ||
		!strings.HasPrefix(x.Headers[n-1].Value, `multipart/mixed; boundary="----------=_`) {
		t.Errorf("headers %v", x.Headers)
	}
	_, params, _ := mime.ParseMediaType(x.Headers[n-1].Value)
	if !bytes.Contains(x.Body, []byte("\n--"+params["boundary"]+"--\n")) || !bytes.Contains(x.Body, raw) {
		t.Error("body lacks the closing boundary or the original")
	}
}

func TestNewBoundaryAvoidsOriginal(t *testing.T) {
	now := time.Unix(0x12345678, 0)
	for i := 0; i < 20; i++ {
		b := newBoundary(nil, now)
		orig := []byte("x\n" + b + "\n")
		if got := newBoundary(orig, now); bytes.Contains(orig, []byte("\n"+got)) {
			t.Fatalf("boundary %q occurs in the original", got)
		}
	}
}

func TestSAWrap(t *testing.T) {
	for _, tc := range []struct {
		s, prefix, first string
		n                int
		overflow         bool
		want             string
	}{
		// The space before a wrapped word stays, after the prefix, as in SA.
		{"aaa bbb ccc", "  ", "", 7, false, "aaa bbb\n   ccc"},
		{"aaa bbb ccc", "  ", "", 5, true, "aaa bbb\n   ccc"},
		{"one", ">", "Start: ", 75, false, "Start: one"},
		{"averyveryverylongword x", " ", "", 5, false, "averyveryverylongword\n  x"},
		{"a b", "0123456789", "", 3, false, "a b"},
		{"aa bb cc", "0123456789", "", 3, false, "aa\n0123456789bb\n0123456789 cc"}, // SA would loop forever
	} {
		if got := saWrap(tc.s, tc.prefix, tc.first, tc.n, tc.overflow); got != tc.want {
			t.Errorf("saWrap(%q, %q, %q, %d, %v) = %q, want %q", tc.s, tc.prefix, tc.first, tc.n, tc.overflow, got, tc.want)
		}
	}
}

// TestReportSafeLikeSpamAssassin runs the real SpamAssassin 4.0.1 on a
// corpus spam message with Debian's configuration (report_safe 1) and
// compares the rewritten messages: the same kept fields, the same
// report text up to the rule table (whose order and extra log lines
// differ), the same rule lines, and the original attached byte for byte.
func TestReportSafeLikeSpamAssassin(t *testing.T) {
	testenv.SkipShort(t, "runs the real spamassassin")
	sa, err := exec.LookPath("spamassassin")
	if err != nil {
		testenv.Missing(t, "spamassassin (Debian package spamassassin): %v", err)
	}
	e := systemEngine(t)
	raw := []byte(corpusMessage(t, "spam-1", "00001.7848dde101aa985090474a91ec93fcf0.eml"))
	raw = raw[bytes.IndexByte(raw, '\n')+1:] // without the mbox line
	home := t.TempDir()
	cmd := exec.Command(sa, "-L", "--cf=use_bayes 0", "--cf=report_hostname "+e.opts.Hostname)
	cmd.Env = append(os.Environ(), "HOME="+home)
	cmd.Stdin = bytes.NewReader(raw)
	want, err := cmd.Output()
	if err != nil {
		t.Fatalf("spamassassin: %v", err)
	}
	res := e.CheckBytes(context.Background(), nil, raw)
	got := res.Rewrite(raw)
	gh, greport, gpart, gorig := parsedWrap(t, got)
	wh, wreport, wpart, worig := parsedWrap(t, want)
	for _, k := range []string{"From", "To", "Cc", "Subject", "Date", "Message-Id", "X-Spam-Flag", "X-Spam-Level", "MIME-Version"} {
		if gh.Get(k) != wh.Get(k) {
			t.Errorf("%s: %q, SpamAssassin %q", k, gh.Get(k), wh.Get(k))
		}
	}
	for _, k := range []string{"Content-Type", "Content-Disposition", "Content-Description", "Content-Transfer-Encoding"} {
		if gpart.Header.Get(k) != wpart.Header.Get(k) {
			t.Errorf("original part %s: %q, SpamAssassin %q", k, gpart.Header.Get(k), wpart.Header.Get(k))
		}
	}
	if !bytes.Equal(gorig, worig) || !bytes.Equal(gorig, raw) {
		t.Error("attached originals differ")
	}
	ghead, grules, _ := strings.Cut(greport, "---- ----------------------")
	whead, wrules, _ := strings.Cut(wreport, "---- ----------------------")
	if ghead != whead {
		t.Errorf("report head:\n%s\nSpamAssassin:\n%s", ghead, whead)
	}
	wantLines := map[string]bool{}
	for _, l := range strings.Split(wrules, "\n") {
		if !strings.HasPrefix(strings.TrimSpace(l), "[") { // SA's per-rule log lines
			wantLines[l] = true
		}
	}
	for _, l := range strings.Split(grules, "\n") {
		if !wantLines[l] {
			t.Errorf("report line %q not in SpamAssassin's report", l)
		}
	}
}

// TestReportHeaderLikeSpamAssassin: with report_safe 0 the X-Spam-Report
// field lists the same rule lines as SpamAssassin 4.0.1's (in another
// order, without SA's per-rule log lines).
func TestReportHeaderLikeSpamAssassin(t *testing.T) {
	testenv.SkipShort(t, "runs the real spamassassin")
	sa, err := exec.LookPath("spamassassin")
	if err != nil {
		testenv.Missing(t, "spamassassin (Debian package spamassassin): %v", err)
	}
	systemEngine(t) // the rules are there
	local := t.TempDir() + "/local.cf"
	if err := os.WriteFile(local, []byte("report_safe 0\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	e, _, err := Load(Options{LocalCF: local})
	if err != nil {
		t.Fatal(err)
	}
	raw := []byte(corpusMessage(t, "spam-1", "00001.7848dde101aa985090474a91ec93fcf0.eml"))
	raw = raw[bytes.IndexByte(raw, '\n')+1:]
	cmd := exec.Command(sa, "-L", "--cf=use_bayes 0", "--cf=report_safe 0")
	cmd.Env = append(os.Environ(), "HOME="+t.TempDir())
	cmd.Stdin = bytes.NewReader(raw)
	want, err := cmd.Output()
	if err != nil {
		t.Fatalf("spamassassin: %v", err)
	}
	got := e.CheckBytes(context.Background(), nil, raw).Rewrite(raw)
	gl, wl := reportFieldLines(got), reportFieldLines(want)
	if len(gl) == 0 || len(wl) == 0 {
		t.Fatalf("X-Spam-Report missing: ours %d lines, SpamAssassin's %d", len(gl), len(wl))
	}
	wantSet := map[string]bool{}
	for _, l := range wl {
		wantSet[l] = true
	}
	for _, l := range gl {
		if !wantSet[l] {
			t.Errorf("X-Spam-Report line %q not in SpamAssassin's", l)
		}
	}
	if len(gl) < len(wl)*2/3 {
		t.Errorf("X-Spam-Report has %d lines, SpamAssassin's %d", len(gl), len(wl))
	}
}

// reportFieldLines returns the continuation lines of the X-Spam-Report
// field, without SA's bracketed per-rule log lines.
func reportFieldLines(msg []byte) []string {
	hdr, _, _ := strings.Cut(string(msg), "\n\n")
	var out []string
	in := false
	for _, l := range strings.Split(hdr, "\n") {
		switch {
		case strings.HasPrefix(l, "X-Spam-Report:"):
			in = true
		case in && (strings.HasPrefix(l, "\t") || strings.HasPrefix(l, " ")):
			if !strings.HasPrefix(strings.TrimLeft(l, "\t *"), "[") {
				out = append(out, l)
			}
		default:
			in = false
		}
	}
	return out
}
