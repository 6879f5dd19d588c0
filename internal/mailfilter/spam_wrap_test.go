package mailfilter

import (
	"bytes"
	"context"
	"fmt"
	"net/netip"
	"strings"
	"testing"

	"github.com/gomilter/gomilter/internal/mailmsg"
	"github.com/gomilter/gomilter/internal/milterclient"
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

// TestSpamWrapMilterSession replays spam through the milter protocol as
// Postfix sends it: with SMFIF_CHGBODY offered, the reply replaces the
// body and deletes each unkept field once (two forged X-Spam-Flag fields:
// indexes 2 and 1, once); without it, only the headers change.
func TestSpamWrapMilterSession(t *testing.T) {
	f, err := New(Options{AuthservID: "mx.test.example", Checks: []Check{&Spam{Engine: wrapTestEngine(t, "report_safe 1\n")}}})
	if err != nil {
		t.Fatal(err)
	}
	sock := startMilter(t, f)
	msg := "Received: from x (x [192.0.2.1]) by mx\r\nFrom: a@example.net\r\nTo: b@example.org\r\nSubject: hi\r\n" +
		"X-Spam-Flag: YES\r\nX-Spam-Flag: NO\r\nContent-Type: text/plain\r\n\r\ncheap viagra\r\n"
	for _, tc := range []struct {
		name    string
		actions milter.OptAction
		wrapped bool
	}{
		{"body change offered", 0x1FF, true},
		{"no body change", 0x1FF &^ milter.ActChangeBody, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ctx := context.Background()
			c, err := milterclient.Dial(ctx, "unix", sock, milterclient.Options{Actions: tc.actions})
			if err != nil {
				t.Fatal(err)
			}
			defer c.Close()
			if _, err := c.Connect(ctx, "client.example", netip.MustParseAddr("192.0.2.1"), 40000); err != nil {
				t.Fatal(err)
			}
			res, err := c.Transaction(ctx, milterclient.Tx{From: "a@example.net", Rcpts: []string{"b@example.org"}, QueueID: "Q1", Message: []byte(msg)})
			if err != nil {
				t.Fatal(err)
			}
			var body []byte
			deleted := map[string][]uint32{}
			for _, m := range res.Mods {
				switch m.Code {
				case milter.RespReplBody:
					body = append(body, m.Body...)
				case milter.RespChgHeader:
					if m.Value == "" {
						deleted[m.Name] = append(deleted[m.Name], m.Index)
					}
				}
			}
			if got := fmt.Sprint(deleted["X-Spam-Flag"]); got != "[2 1]" {
				t.Errorf("X-Spam-Flag deletions %s, want [2 1]", got)
			}
			if !tc.wrapped {
				if body != nil || len(deleted) != 1 {
					t.Errorf("without SMFIF_CHGBODY: body %q, deletions %v", body, deleted)
				}
				return
			}
			if !bytes.Contains(body, []byte("Content-Type: message/rfc822; x-spam-type=original\r\n")) || !bytes.HasSuffix(body[:bytes.LastIndex(body, []byte("\r\n--"))], []byte(msg)) {
				t.Errorf("replaced body does not attach the message:\n%s", body)
			}
			if len(deleted["Received"]) != 1 || len(deleted["Content-Type"]) != 1 || deleted["Subject"] != nil || deleted["From"] != nil {
				t.Errorf("deletions %v", deleted)
			}
		})
	}
}
