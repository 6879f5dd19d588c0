package mailfilter

import (
	"bytes"
	"crypto"
	"crypto/ed25519"
	"crypto/rand"
	"strings"
	"testing"
	"time"

	msgdkim "github.com/emersion/go-msgauth/dkim"

	"github.com/gomilter/gomilter/internal/dnstest"
	"github.com/gomilter/gomilter/internal/mailmsg"
	"github.com/gomilter/gomilter/internal/postfixtest"
	"github.com/gomilter/gomilter/internal/spf"
	"github.com/gomilter/gomilter/milter/arc"
	"github.com/gomilter/gomilter/milter/dkim"
	"github.com/gomilter/gomilter/milter/dmarc"
)

// authWorld is a local DNS with SPF, DMARC and DKIM records for the
// domains of the tests, and a real Postfix whose only milter is gomilter
// running DKIM verify, SPF, ARC and DMARC like the default config.
type authWorld struct {
	dns       *dnstest.Server
	pf        *postfixtest.Instance
	bankKey   crypto.Signer
	sealerKey crypto.Signer
}

func newAuthWorld(t *testing.T) *authWorld {
	t.Helper()
	w := &authWorld{dns: dnstest.New(t)}
	_, bk, _ := ed25519.GenerateKey(rand.Reader)
	_, sk, _ := ed25519.GenerateKey(rand.Reader)
	w.bankKey, w.sealerKey = bk, sk
	for _, k := range []struct {
		name string
		key  crypto.Signer
	}{{"sel._domainkey.bank.example", bk}, {"arc._domainkey.list.example", sk}} {
		rec, _ := dkim.KeyRecordText(k.key.Public())
		w.dns.AddTXT(k.name, rec)
	}
	w.dns.AddTXT("pass.example", "v=spf1 ip4:127.0.0.1 -all")
	w.dns.AddTXT("fail.example", "v=spf1 -all")
	w.dns.AddTXT("soft.example", "v=spf1 ~all")
	w.dns.AddTXT("attacker.example", "v=spf1 ip4:127.0.0.0/8 -all")
	w.dns.AddTXT("list.example", "v=spf1 ip4:127.0.0.1 -all")
	w.dns.AddTXT("fwd.example", "v=spf1 -all")
	w.dns.AddTXT("_dmarc.bank.example", "v=DMARC1; p=reject")

	r := dnsResolver(t, w.dns.Addr())
	checker, err := spf.New(spf.Options{Resolver: r, Receiver: "mx.test.example"})
	if err != nil {
		t.Fatal(err)
	}
	vopts := dkim.DefaultOptions()
	vopts.Mode = dkim.ModeVerify
	vopts.OnDNSError = dkim.ActionAccept
	checks := []Check{
		&DKIM{Opts: vopts, Verifier: dkim.NewVerifier(r, dkim.VerifyOptions{})},
		&SPF{Checker: checker}, // no internal networks: 127.0.0.1 is a stranger here
		&ARC{Resolver: r},
		&DMARC{Checker: &dmarc.Checker{Resolver: r, Options: dmarc.Options{TrustedSealers: []string{"list.example"}}}},
	}
	f, err := New(Options{AuthservID: "mx.test.example", Checks: checks})
	if err != nil {
		t.Fatal(err)
	}
	w.pf = postfixtest.Start(t, postfixtest.Options{MainCF: map[string]string{
		"smtpd_milters":         "unix:" + startMilter(t, f),
		"milter_default_action": "reject",
	}})
	return w
}

func (w *authWorld) deliver(t *testing.T, from, msg string) (string, error) {
	t.Helper()
	n := w.pf.Sink().Len()
	if err := w.pf.Send(t, from, []string{"rcpt@example.org"}, []byte(msg)); err != nil {
		return "", err
	}
	got := w.pf.Sink().WaitMessages(t, n+1, 30*time.Second)
	return arField(string(got[n].Data), "mx.test.example"), nil
}

func bankMessage(subject string) string {
	return "From: CEO <ceo@bank.example>\r\nTo: rcpt@example.org\r\nSubject: " + subject +
		"\r\nDate: Sun, 22 Nov 2026 10:00:00 +0000\r\nMessage-ID: <" + strings.ReplaceAll(subject, " ", ".") + "@bank.example>\r\n\r\nWire the money.\r\n"
}

func (w *authWorld) dkimSign(t *testing.T, msg string) string {
	t.Helper()
	var out bytes.Buffer
	err := msgdkim.Sign(&out, strings.NewReader(msg), &msgdkim.SignOptions{Domain: "bank.example", Selector: "sel",
		Signer: w.bankKey, HeaderCanonicalization: msgdkim.CanonicalizationRelaxed, BodyCanonicalization: msgdkim.CanonicalizationRelaxed})
	if err != nil {
		t.Fatal(err)
	}
	return out.String()
}

// listForward is what a mailing list does: it rewrites the Subject (which
// breaks the author's DKIM signature) and seals the result with ARC,
// recording that the signature passed when the list received it.
func (w *authWorld) listForward(t *testing.T, signed string) string {
	t.Helper()
	modified := strings.Replace(signed, "Subject: ", "Subject: [list] ", 1)
	m, err := dkim.ReadMessage([]byte(modified))
	if err != nil {
		t.Fatal(err)
	}
	s := &arc.Sealer{Domain: "list.example", Selector: "arc", Key: w.sealerKey}
	set, err := s.Seal(m, arc.Result{Status: arc.StatusNone}, "lists.list.example",
		[]string{"dkim=pass header.d=bank.example header.s=sel", "spf=pass smtp.mailfrom=bank.example"})
	if err != nil {
		t.Fatal(err)
	}
	return render(&mailmsg.Message{Header: append(set, m.Header...), Body: m.Body})
}

func render(m *mailmsg.Message) string {
	var b strings.Builder
	for _, f := range m.Header {
		b.WriteString(f.Raw())
	}
	b.WriteString("\r\n")
	b.Write(m.Body)
	return b.String()
}

// TestRealPostfixSPFDMARCARC drives the milter's sender checks through a
// real Postfix with a local DNS server.
func TestRealPostfixSPFDMARCARC(t *testing.T) {
	w := newAuthWorld(t)
	plain := func(from string) string {
		return "From: <" + from + ">\r\nTo: rcpt@example.org\r\nSubject: spf\r\n\r\nhi\r\n"
	}
	for _, tc := range []struct{ from, want string }{
		{"a@pass.example", "spf=pass smtp.mailfrom=a@pass.example"},
		{"a@fail.example", "spf=fail smtp.mailfrom=a@fail.example"},
		{"a@soft.example", "spf=softfail smtp.mailfrom=a@soft.example"},
	} {
		ar, err := w.deliver(t, tc.from, plain(tc.from))
		if err != nil {
			t.Fatalf("%s: %v", tc.from, err)
		}
		if !strings.Contains(ar, tc.want) {
			t.Errorf("%s: Authentication-Results lacks %q: %s", tc.from, tc.want, ar)
		}
	}

	// A spoofed From: bank.example (p=reject) from a host SPF-authorised
	// only for attacker.example: rejected at end of message.
	_, err := w.deliver(t, "x@attacker.example", bankMessage("spoof"))
	if code := postfixtest.Code(err); code != 550 || !strings.Contains(err.Error(), "5.7.1") {
		t.Errorf("spoofed From: got %v (code %d), want 550 5.7.1", err, code)
	}
	if w.pf.WaitLog(t, "milter-reject: END-OF-MESSAGE", 10*time.Second) == "" {
		t.Error("Postfix did not log the milter reject")
	}

	// Forwarded mail: SPF fails for the forwarder, but the author's DKIM
	// signature survives and aligns, so DMARC passes and it is delivered.
	ar, err := w.deliver(t, "bounce@fwd.example", w.dkimSign(t, bankMessage("forwarded")))
	if err != nil {
		t.Fatalf("forwarded DKIM-signed mail refused: %v", err)
	}
	for _, want := range []string{"dkim=pass header.d=bank.example", "spf=fail", "dmarc=pass"} {
		if !strings.Contains(ar, want) {
			t.Errorf("forwarded: A-R lacks %q: %s", want, ar)
		}
	}

	// Mailing list: DKIM broken by the Subject tag, ARC sealed by a
	// trusted list: DMARC fails but is overridden, and it is delivered.
	ar, err = w.deliver(t, "bounce@list.example", w.listForward(t, w.dkimSign(t, bankMessage("list post"))))
	if err != nil {
		t.Fatalf("ARC-sealed list mail refused: %v", err)
	}
	for _, want := range []string{"arc=pass", "dkim=fail", "dmarc=fail"} {
		if !strings.Contains(ar, want) {
			t.Errorf("list: A-R lacks %q: %s", want, ar)
		}
	}
}
