package mailfilter

import (
	"bytes"
	"context"
	"net/netip"
	"strings"
	"testing"

	"github.com/gomilter/gomilter/internal/mailmsg"
	"github.com/gomilter/gomilter/milter"
	"github.com/gomilter/gomilter/milter/spam"
)

func wrapTestTx() *Tx {
	h := []mailmsg.Field{
		milter.HeaderField("Received", "from x (x [192.0.2.1]) by mx"),
		milter.HeaderField("From", "a@example.net"),
		milter.HeaderField("To", "b@example.org"),
		milter.HeaderField("Subject", "buy viagra"),
		milter.HeaderField("Authentication-Results", "other.example; spf=pass"),
		milter.HeaderField("Content-Type", "text/plain"),
		milter.HeaderField("X-Spam-Flag", "NO"),
		milter.HeaderField("X-Mailer", "m1"),
		milter.HeaderField("X-Mailer", "m2"),
	}
	return &Tx{Env: mailmsg.Envelope{ClientAddr: netip.MustParseAddr("192.0.2.1")},
		Msg: &mailmsg.Message{Header: h, Body: []byte("cheap viagra\r\n")}}
}

func wrapTestEngine(t *testing.T, conf string) *spam.Engine {
	t.Helper()
	eng, warns, err := spam.LoadConf("t.cf", "body V /viagra/\nscore V 6\n"+conf, spam.Options{})
	if err != nil {
		t.Fatal(err, warns)
	}
	return eng
}

// TestSpamWrap: with report_safe 1, spam's fields other than From, To,
// Cc, Subject, Date and Message-Id go (ours, Authentication-Results, are
// the pipeline's business), the new ones come on top, and the body is
// replaced by the report with the original attached.
func TestSpamWrap(t *testing.T) {
	tx := wrapTestTx()
	eng := wrapTestEngine(t, "report_safe 1\nrewrite_header Subject [SPAM]\n")
	res := eng.Check(context.Background(), &tx.Env, tx.Msg)
	x := res.Encapsulate(rawMessage(tx.Msg))
	if x == nil {
		t.Fatal("no encapsulation for spam with report_safe 1")
	}
	wrap(tx, x)
	if got := strings.Join(tx.RemoveFields, ","); got != "Received,Content-Type,X-Spam-Flag,X-Mailer" {
		t.Errorf("RemoveFields = %s", got)
	}
	n := len(tx.Prepend)
	if n < 3 || tx.Prepend[0].Name != "X-Spam-Flag" || tx.Prepend[n-2].Name != "MIME-Version" ||
		!strings.HasPrefix(tx.Prepend[n-1].Value, ` multipart/mixed; boundary="`) {
		t.Errorf("Prepend = %v", tx.Prepend)
	}
	if tx.NewSubject != "[SPAM] buy viagra" {
		t.Errorf("NewSubject = %q", tx.NewSubject)
	}
	if !bytes.Contains(tx.NewBody, rawMessage(wrapTestTx().Msg)) || !bytes.Contains(tx.NewBody, []byte("message/rfc822")) {
		t.Errorf("NewBody does not attach the original:\n%s", tx.NewBody)
	}
	final := finalMessage(tx, tx.Prepend, "mx.test.example")
	if !bytes.Equal(final.Body, tx.NewBody) {
		t.Error("the message signers see keeps the old body")
	}
	for _, f := range final.Header {
		if f.Name == "Received" || f.Name == "X-Mailer" || f.Name == "Content-Type" && !strings.Contains(f.Value, "multipart") {
			t.Errorf("final message keeps %s:%s", f.Name, f.Value)
		}
	}
}

// TestSpamWrapNeedsBodyChange: when the MTA did not grant SMFIF_CHGBODY
// (here: no milter session at all), spam is only tagged in its headers.
func TestSpamWrapNeedsBodyChange(t *testing.T) {
	tx := wrapTestTx()
	s := &Spam{Engine: wrapTestEngine(t, "report_safe 1\n")}
	if err := s.Check(context.Background(), tx); err != nil {
		t.Fatal(err)
	}
	if tx.NewBody != nil {
		t.Error("body replaced without SMFIF_CHGBODY")
	}
	var flag bool
	for _, f := range tx.Prepend {
		flag = flag || f.Name == "X-Spam-Flag" && f.Value == " YES"
	}
	if !flag || strings.Join(tx.RemoveFields, ",") != "X-Spam-Flag" {
		t.Errorf("headers only: Prepend %v, RemoveFields %v", tx.Prepend, tx.RemoveFields)
	}
}

// TestSpamNoWrapForReportSafeZeroOrHam: report_safe 0 and ham keep the
// body whatever the MTA allows.
func TestSpamNoWrapForReportSafeZeroOrHam(t *testing.T) {
	tx := wrapTestTx()
	res := wrapTestEngine(t, "report_safe 0\n").Check(context.Background(), &tx.Env, tx.Msg)
	if res.Encapsulates() || res.Encapsulate(rawMessage(tx.Msg)) != nil {
		t.Error("report_safe 0 encapsulates")
	}
	tx.Msg.Header[3] = milter.HeaderField("Subject", "lunch")
	tx.Msg.Body = []byte("hello\r\n")
	if res := wrapTestEngine(t, "report_safe 1\n").Check(context.Background(), &tx.Env, tx.Msg); res.Encapsulates() {
		t.Error("ham encapsulated")
	}
}
