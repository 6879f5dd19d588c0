package spam

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// ruleHits loads conf (rules named without "__" so that they show in
// Result.Rules) and returns the rules msg hits.
func ruleHits(t *testing.T, conf, msg string) map[string]bool {
	t.Helper()
	e, warns, err := LoadConf("t.cf", conf, Options{})
	if err != nil {
		t.Fatalf("LoadConf: %v (%v)", err, warns)
	}
	if len(e.NotImpl) > 0 {
		t.Fatalf("not implemented: %v", e.NotImpl)
	}
	res := e.CheckBytes(context.Background(), nil, []byte(msg))
	if res.Err != nil {
		t.Fatal(res.Err)
	}
	hits := map[string]bool{}
	for _, r := range res.Rules {
		hits[r] = true
	}
	return hits
}

// corpusMessage reads one message of the shared training corpus.
func corpusMessage(t *testing.T, group, file string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(corpusDir(t), "train", group, file))
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

const forgedCF = `
header EUDORA eval:check_for_forged_eudoramail_received_headers()
header JUNO   eval:check_for_forged_juno_received_headers()
header GMAIL  eval:check_for_forged_gmail_received_headers()
header TRAIL  eval:check_for_forged_received_trail()
`

func TestForgedWebmailReceived(t *testing.T) {
	rcvd := "Received: from mx.example.net (mx.example.net [192.0.2.1]) by mail.example.org (Postfix) with ESMTP id 1; Mon, 1 Jul 2024 10:00:00 +0000\n"
	long := strings.Repeat("x", gmailHeaderMin)
	tests := []struct {
		name, hdrs string
		want       []string
	}{
		{"eudora without whowhere", "From: a@eudoramail.com\n" + rcvd, []string{"EUDORA"}},
		{"eudora genuine", "From: a@eudoramail.com\nX-Sender-Ip: 192.0.2.7\n" +
			"Received: from Unknown/Local ([?.?.?.?]) by shared1-mail.whowhere.com; Thu Nov 29 13:44:25 2001\n" + rcvd, nil},
		{"eudora relay but no sender ip", "From: a@eudoramail.com\n" +
			"Received: from Unknown/Local ([?.?.?.?]) by shared1-mail.whowhere.com; Thu Nov 29 13:44:25 2001\n" + rcvd, []string{"EUDORA"}},
		{"no received lines at all (gated)", "From: a@eudoramail.com\n", nil},
		{"juno without X-Originating-IP", "From: a@juno.com\n" + rcvd, []string{"JUNO"}},
		{"juno genuine", "From: a@juno.com\nX-Originating-IP: 192.0.2.9\nX-Mailer: Juno 5.0\n" +
			"Received: from cookie.juno.com by cookie.juno.com for <b@example.org>; Mon, 1 Jul 2024 09:00:00 +0000\n" + rcvd, nil},
		{"juno wrong mailer", "From: a@juno.com\nX-Originating-IP: 192.0.2.9\nX-Mailer: Outlook\n" +
			"Received: from m1.untd.com ([192.0.2.9]) by mx.untd.com with SMTP\n" + rcvd, []string{"JUNO"}},
		{"gmail no google headers", "From: a@gmail.com\n" + rcvd, []string{"GMAIL"}},
		{"gmail X-Received", "From: a@gmail.com\nX-Received: by 10.1.2.3 with SMTP id abc; Mon, 1 Jul 2024\n" + rcvd, nil},
		{"gmail X-Received v6", "From: a@gmail.com\nX-Received: by 2002:a17:90a:1:: with SMTP id abc\n" + rcvd, nil},
		{"gmail ESMTPSA", "From: a@gmail.com\nReceived: from h by smtp.googlemail.com with ESMTPSA id xyz\n" + rcvd, nil},
		{"gmail both state headers", "From: a@gmail.com\nX-Gm-Message-State: " + long + "\nX-Google-Smtp-Source: " + long + "\n" + rcvd, nil},
		{"gmail one state header short", "From: a@gmail.com\nX-Gm-Message-State: " + long + "\nX-Google-Smtp-Source: short\n" + rcvd, []string{"GMAIL"}},
		{"other domain", "From: a@example.com\n" + rcvd, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			hits := ruleHits(t, forgedCF, tc.hdrs+"Subject: hi\n\nbody\n")
			for _, r := range []string{"EUDORA", "JUNO", "GMAIL"} {
				want := false
				for _, w := range tc.want {
					want = want || w == r
				}
				if hits[r] != want {
					t.Errorf("%s = %v, want %v", r, hits[r], want)
				}
			}
		})
	}
}

func TestForgedReceivedTrail(t *testing.T) {
	// Hops newest first, all untrusted (public addresses): each hop's
	// "by" host should be in the domain the newer hop saw as its sender.
	chain := func(hops ...[2]string) string {
		var b strings.Builder
		for i, h := range hops {
			ip := fmt.Sprintf("%d.%d.%d.%d", 11+i, 22+i, 33+i, 44+i)
			b.WriteString("Received: from " + h[0] + " (" + h[0] + " [" + ip + "]) by " + h[1] +
				" (Postfix) with ESMTP id ABC; Mon, 1 Jul 2024 10:00:00 +0000\n")
		}
		return b.String()
	}
	for _, tc := range []struct {
		name, rcvd string
		want       int
	}{
		{"consistent chain", chain([2]string{"relay.alpha.example", "mx.bravo.example"},
			[2]string{"relay.charlie.example", "out.alpha.example"},
			[2]string{"host.delta.example", "in.charlie.example"}), 0},
		{"one break", chain([2]string{"relay.alpha.example", "mx.bravo.example"},
			[2]string{"relay.charlie.example", "out.xray.example"},
			[2]string{"host.delta.example", "in.charlie.example"}), 1},
		{"two breaks", chain([2]string{"relay.alpha.example", "mx.bravo.example"},
			[2]string{"relay.charlie.example", "out.xray.example"},
			[2]string{"host.delta.example", "in.yankee.example"}), 2},
		{"a bare localhost sender names no domain", chain([2]string{"relay.alpha.example", "mx.bravo.example"},
			[2]string{"localhost", "out.xray.example"},
			[2]string{"host.delta.example", "in.yankee.example"}), 1},
		{"msn helo from hotmail", chain([2]string{"mail.hotmail.com", "mx.bravo.example"},
			[2]string{"relay.charlie.example", "mx.msn.com"}), 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			msg := tc.rcvd + "From: a@example.com\n\nbody\n"
			e, _, err := LoadConf("t.cf", forgedCF, Options{})
			if err != nil {
				t.Fatal(err)
			}
			m := newMsgState(e, nil, []byte(msg))
			if got := m.forgedTrailMismatches(); got != tc.want {
				t.Errorf("mismatches = %d, want %d (untrusted: %s)", got, tc.want, m.relayString("untrusted"))
			}
			if hit := ruleHits(t, forgedCF, msg)["TRAIL"]; hit != (tc.want > 1) {
				t.Errorf("TRAIL = %v, want %v", hit, tc.want > 1)
			}
		})
	}
}

func TestHostToDomain(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"mail.example.com", "example.com"},
		{"a.b.example.co.uk", "example.co.uk"}, // "uk": under three letters, not ie/fr/de
		{"mx.mail.ie", "mail.ie"},
		{"x.y.z", "x.y.z"},
		{"host.example.org.", "example.org"},
		{"192.0.2.1", "192.0.2.1"},
		{"localhost", "localhost"},
		{"", ""},
	} {
		if got := hostToDomain(tc.in); got != tc.want {
			t.Errorf("hostToDomain(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

// TestForgedCorpus checks messages of the training corpus against
// SpamAssassin 4.0.1's own subrule hits (spamassassin -D rules).
func TestForgedCorpus(t *testing.T) {
	e := systemEngine(t)
	for _, tc := range []struct {
		group, file  string
		juno, eudora bool
	}{
		{"spam-1", "00425.1434e0ab4e5235b64825b4c2a0999d76.eml", true, false},
		{"spam-1", "00065.6203de135559b319326445aafd68dbca.eml", false, true},
	} {
		m := newMsgState(e, nil, []byte(corpusMessage(t, tc.group, tc.file)))
		if got := evalForgedJuno(m, nil); got != tc.juno {
			t.Errorf("%s: __FORGED_JUNO_RCVD = %v, want %v", tc.file, got, tc.juno)
		}
		if got := evalForgedEudoramail(m, nil); got != tc.eudora {
			t.Errorf("%s: __FORGED_EUDORAMAIL_RCVD = %v, want %v", tc.file, got, tc.eudora)
		}
	}
}
