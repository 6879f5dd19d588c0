package mailfilter

import (
	"crypto/ed25519"
	"crypto/rand"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/gomilter/gomilter/internal/dnstest"
	"github.com/gomilter/gomilter/internal/mailmsg"
	"github.com/gomilter/gomilter/internal/postfixtest"
	"github.com/gomilter/gomilter/internal/spf"
	"github.com/gomilter/gomilter/internal/testenv"
	"github.com/gomilter/gomilter/milter/dkim"
	"github.com/gomilter/gomilter/milter/spam"
)

// TestRealPostfixSpamUsesMilterAuth: through a real Postfix, with network
// tests on, SpamAssassin's DKIM and SPF rules answer from the milter's own
// DKIM and SPF verdicts. The spam engine's resolver points at an empty
// DNS server, so the keys and SPF records are visible to the milter's
// checks only: a DKIM_VALID_AU or SPF_PASS can only come from them.
func TestRealPostfixSpamUsesMilterAuth(t *testing.T) {
	if _, err := os.Stat("/usr/share/spamassassin/50_scores.cf"); err != nil {
		testenv.Missing(t, "Debian's spamassassin rules: %v", err)
	}
	w := &authWorld{dns: dnstest.New(t)}
	_, key, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	w.bankKey = key
	rec, _ := dkim.KeyRecordText(w.bankKey.Public())
	w.dns.AddTXT("sel._domainkey.bank.example", rec)
	w.dns.AddTXT("bank.example", "v=spf1 ip4:127.0.0.1 -all")
	r := dnsResolver(t, w.dns.Addr())
	checker, err := spf.New(spf.Options{Resolver: r, Receiver: "mx.test.example"})
	if err != nil {
		t.Fatal(err)
	}
	// Debian's init.pre and v312.pre load these two plugins; without
	// them the rules of 25_dkim.cf and 25_spf.cf are skipped.
	site := t.TempDir()
	pre := "loadplugin Mail::SpamAssassin::Plugin::DKIM\nloadplugin Mail::SpamAssassin::Plugin::SPF\n"
	if err := os.WriteFile(filepath.Join(site, "auth.pre"), []byte(pre), 0o644); err != nil {
		t.Fatal(err)
	}
	eng, _, err := spam.Load(spam.Options{RuleDirs: []string{"/usr/share/spamassassin"}, SiteDir: site,
		Resolver: dnsResolver(t, dnstest.New(t).Addr())})
	if err != nil {
		t.Fatal(err)
	}
	vopts := dkim.DefaultOptions()
	vopts.Mode = dkim.ModeVerify
	checks := []Check{
		&DKIM{Opts: vopts, Verifier: dkim.NewVerifier(r, dkim.VerifyOptions{})},
		&SPF{Checker: checker},
		&Spam{Engine: eng},
	}
	f, err := New(Options{AuthservID: "mx.test.example", Checks: checks})
	if err != nil {
		t.Fatal(err)
	}
	w.pf = postfixtest.Start(t, postfixtest.Options{MainCF: map[string]string{
		"smtpd_milters":         "unix:" + startMilter(t, f),
		"milter_default_action": "reject",
	}})
	signed := w.dkimSign(t, bankMessage("quarterly report"))
	for _, tc := range []struct {
		name, msg string
		want, not []string
	}{
		{"valid", signed, []string{"DKIM_SIGNED", "DKIM_VALID", "DKIM_VALID_AU", "DKIM_VALID_EF", "SPF_PASS"}, []string{"DKIM_INVALID"}},
		{"body changed", strings.Replace(signed, "Wire the money.", "Wire the money now.", 1),
			[]string{"DKIM_SIGNED", "DKIM_INVALID", "SPF_PASS"}, []string{"DKIM_VALID", "DKIM_VALID_AU"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			n := w.pf.Sink().Len()
			if err := w.pf.Send(t, "billing@bank.example", []string{"rcpt@example.org"}, []byte(tc.msg)); err != nil {
				t.Fatal(err)
			}
			got := w.pf.Sink().WaitMessages(t, n+1, 60*time.Second)
			hdr, _, _ := strings.Cut(string(got[n].Data), "\r\n\r\n")
			status := spamStatusTests(hdr)
			t.Logf("X-Spam-Status tests: %v", status)
			for _, r := range tc.want {
				if !status[r] {
					t.Errorf("tests= lacks %s", r)
				}
			}
			for _, r := range tc.not {
				if status[r] {
					t.Errorf("tests= has %s", r)
				}
			}
		})
	}
}

// spamStatusTests returns the rule names of X-Spam-Status's tests=.
func spamStatusTests(hdr string) map[string]bool {
	out := map[string]bool{}
	for _, f := range strings.Split(strings.ReplaceAll(hdr, "\r\n\t", " "), "\r\n") {
		name, value, ok := strings.Cut(f, ":")
		if !ok || !strings.EqualFold(name, "X-Spam-Status") {
			continue
		}
		_, tests, ok := strings.Cut(mailmsg.Unfold(value), "tests=")
		if !ok {
			continue
		}
		// SpamAssassin folds the list after a comma; autolearn= follows it.
		tests, _, _ = strings.Cut(tests, "autolearn=")
		for _, r := range strings.Split(tests, ",") {
			out[strings.TrimSpace(r)] = true
		}
	}
	return out
}
