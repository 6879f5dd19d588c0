package spam

import (
	"context"
	"net/netip"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/gomilter/gomilter/internal/mailmsg"
)

func TestMTAReceivedFormat(t *testing.T) {
	env := &mailmsg.Envelope{ClientAddr: netip.MustParseAddr("::ffff:203.0.113.5"), ClientName: "unknown",
		Helo: "evil\r\nX-Injected: 1", QueueID: "4ABC123", Rcpts: []string{"you@example.com"}}
	now := time.Date(2026, 11, 22, 8, 30, 0, 0, time.UTC)
	got := string(mtaReceived(env, "mx.example", now))
	want := "Received: from evil  X-Injected: 1 (unknown [203.0.113.5])\r\n\tby mx.example (Postfix) with ESMTP id 4ABC123\r\n" +
		"\tfor <you@example.com>; Sun, 22 Nov 2026 08:30:00 +0000 (UTC)\r\n"
	if got != want {
		t.Errorf("got\n%q\nwant\n%q", got, want)
	}
	if mtaReceived(&mailmsg.Envelope{Local: true, ClientAddr: env.ClientAddr}, "mx", now) != nil {
		t.Error("local submission got a Received field")
	}
	if mtaReceived(nil, "mx", now) != nil {
		t.Error("nil envelope got a Received field")
	}
}

// The milter path must see the connecting client as SpamAssassin does
// when it scans the delivered message: as the last untrusted relay, and
// as trusted once it authenticated.
func TestCheckSeesConnectingClient(t *testing.T) {
	e := testEngine(t)
	raw := "From: a@example.org\r\nTo: b@example.com\r\nSubject: hi\r\n\r\nhello\r\n"
	for _, tc := range []struct {
		auth      string
		untrusted string
	}{
		{"", "ip=203.0.113.5 rdns= helo=client.example.org"},
		{"alice", ""},
	} {
		env := &mailmsg.Envelope{ClientAddr: netip.MustParseAddr("203.0.113.5"), ClientName: "unknown",
			Helo: "client.example.org", QueueID: "Q1", AuthUser: tc.auth}
		full := mtaReceived(env, e.opts.Hostname, time.Now())
		m := newMsgState(e, env, append(full, raw...))
		if got := m.relayString("untrusted"); !strings.Contains(got, tc.untrusted) || (tc.untrusted == "" && got != "") {
			t.Errorf("auth %q: untrusted relays %q, want %q", tc.auth, got, tc.untrusted)
		}
	}
	e, _, err := LoadConf("t.cf", "header T_RDNS_NONE_TEST X-Spam-Relays-Untrusted =~ /^\\[ ip=203\\.0\\.113\\.5 rdns= /\nscore T_RDNS_NONE_TEST 1\n", Options{Hostname: "mx.example"})
	if err != nil {
		t.Fatal(err)
	}
	msg := &mailmsg.Message{Header: []mailmsg.Field{{Name: "From", Value: " a@example.org"}}, Body: []byte("hello\r\n")}
	res := e.Check(context.Background(), &mailmsg.Envelope{ClientAddr: netip.MustParseAddr("203.0.113.5"), ClientName: "unknown", Helo: "h.example"}, msg)
	if res.Err != nil {
		t.Fatal(res.Err)
	}
	if !slices.Contains(res.Rules, "T_RDNS_NONE_TEST") {
		t.Errorf("the connecting client without rDNS was not seen: %v", res.Rules)
	}
}

// freemail_domains wildcards stay inside one label, as in SA's FreeMail.
func TestFreemailDomainWildcards(t *testing.T) {
	var list []addrGlob
	list = appendGlobs(list, "freemail.*.* hotmail.* gmx.de")
	x := newDomainGlobIndex(list)
	for dom, want := range map[string]bool{
		"freemail.example.net": true, "freemail.nx.cninfo.net": false,
		"hotmail.com": true, "hotmail.co.uk": false, "GMX.de": true, "gmx.net": false,
	} {
		if got := x.match(dom); got != want {
			t.Errorf("%s: %v, want %v", dom, got, want)
		}
	}
}
