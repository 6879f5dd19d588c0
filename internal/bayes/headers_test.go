package bayes

import (
	"context"
	"strings"
	"testing"

	"github.com/gomilter/gomilter/internal/mailmsg"
)

// checkTokens fails for each token of want missing from toks and each of
// not present in it.
func checkTokens(t *testing.T, toks map[Hash]string, want, not []string) {
	t.Helper()
	for _, w := range want {
		if _, ok := toks[HashToken(w)]; !ok {
			t.Errorf("token %q missing", w)
		}
	}
	for _, n := range not {
		if _, ok := toks[HashToken(n)]; ok {
			t.Errorf("token %q must not be there", n)
		}
	}
}

// Other filters' verdicts and list/mailbox bookkeeping never become
// tokens (SpamAssassin's IGNORED_HDRS), nor do relay headers a sender
// wrote himself; an unknown tracking header does.
func TestBuiltinIgnoredHeaders(t *testing.T) {
	msg := ParseMessage([]byte("X-Spam-Status: Yes, score=9.9 required=5.0\r\nX-Spam-Flag: YES\r\nX-Bogosity: Spam, tests=bogofilter\r\n" +
		"X-Spam-Level: *********\r\nX-Virus-Scanned: clamav\r\nList-Id: <lst.example.org>\r\nDate: Mon, 1 Jul 2002 10:00:00 +0000\r\n" +
		"X-Spam-Relays-Untrusted: [ ip=203.0.113.66 rdns=forged.example ]\r\nX-Tracking-Code: zq7trk\r\n\r\nbody\r\n"))
	toks := Tokenize(msg)
	checkTokens(t, toks, []string{"HX-Tracking-Code:zq7trk"},
		[]string{"HX-Spam-Status:Yes", "HX-Spam-Flag:YES", "HX-Bogosity:Spam", "HX-Bogosity:bogofilter", "HX-Virus-Scanned:clamav",
			"HList-Id:lst.example.org", "HDate:2002", "H*RU:203.0.113.66", "HX-Spam-Relays-Untrusted:203.0.113.66",
			"HX-Spam-Relays-Untrusted:ip=203.0.113.66"})
}

// bayes_ignore_header applies to every source of header tokens: real
// fields, the Received lines kept and the metadata pseudo-fields.
func TestIgnoreHeadersCoverReceivedAndMetadata(t *testing.T) {
	meta := func(*mailmsg.Message) []mailmsg.Field {
		return []mailmsg.Field{
			{Name: "x-spam-relays-untrusted", Value: "[ ip=192.0.2.9 rdns=mx.example.net helo=mx.example.net by=relay.example ]"},
			{Name: "x-spam-relays-trusted", Value: "[ ip=127.0.0.1 rdns=localhost helo=localhost by=relay.example ]"},
		}
	}
	raw := []byte("Received: from mx.example.net (mx.example.net [192.0.2.9]) by relay.example\r\nX-Upstream: verdict-ok\r\n\r\nbody\r\n")
	all, _ := New(Options{Store: NewMemoryStore(), Metadata: meta})
	checkTokens(t, all.tokenize(ParseMessage(raw)),
		[]string{"H*r:ip*192.0.2.9", "H*RU:192.0.2.9", "H*RT:127.0.0.1", "HX-Upstream:verdict-ok"}, nil)
	c, _ := New(Options{Store: NewMemoryStore(), Metadata: meta,
		IgnoreHeaders: []string{"Received", "X-SPAM-RELAYS-UNTRUSTED", "x-upstream"}})
	checkTokens(t, c.tokenize(ParseMessage(raw)), []string{"H*RT:127.0.0.1"},
		[]string{"H*r:ip*192.0.2.9", "H*RU:192.0.2.9", "H*RU:mx.example.net", "HX-Upstream:verdict-ok"})
}

// Relay metadata: keys dropped, names lower-cased as SpamAssassin stores
// them (so the *RT/*RU compression applies whatever case the caller
// used), internal/external lists under their own names.
func TestRelayMetadataTokens(t *testing.T) {
	meta := func(*mailmsg.Message) []mailmsg.Field {
		return []mailmsg.Field{
			{Name: "X-Spam-Relays-Trusted", Value: "[ ip=10.0.0.2 rdns=gw.internal helo=gw by=mx.example ident= envfrom= intl=1 id=Q1 auth= msa=0 ]"},
			{Name: "x-spam-relays-external", Value: "[ ip=198.51.100.4 rdns=out.sender.example helo=sender-helo by=gw.internal ident= envfrom= intl=0 id= auth= msa=0 ]"},
			{Name: "x-authordomain", Value: "sender.example"},
		}
	}
	c, _ := New(Options{Store: NewMemoryStore(), Metadata: meta})
	checkTokens(t, c.tokenize(ParseMessage([]byte("Subject: x\r\n\r\nbody\r\n"))),
		[]string{"H*RT:10.0.0.2", "H*RT:gw.internal", "H*RT:mx.example",
			"Hx-spam-relays-external:198.51.100.4",
			"Hx-spam-relays-external:sender-helo", "Hx-spam-relays-external:sk:out.sen", // long words skip as in any header
			"Hx-authordomain:sender.example"},
		[]string{"HX-Spam-Relays-Trusted:10.0.0.2", "H*RT:ip=10.0.0.2", "Hx-spam-relays-external:out.sender.example", "H*RT:rdns=gw.internal", "Hx-spam-relays-external:intl=0"})
}

// Received lines: every IPv4 address becomes its /24 and an ip* token,
// private ranges included (what SpamAssassin's code does, whatever its
// comment says); queue ids and keywords go.
func TestReceivedAddresses(t *testing.T) {
	msg := ParseMessage([]byte("Received: from a (a [10.1.2.3]) by b with ESMTP id 4F2AB19C3D; Mon, 1 Jul 2002 10:00:00 +0000\r\n" +
		"Received: from c (c [192.168.7.9]) by d\r\n\r\nbody\r\n"))
	checkTokens(t, Tokenize(msg),
		[]string{"H*r:10.1.2", "H*r:ip*10.1.2.3", "H*r:192.168.7", "H*r:ip*192.168.7.9"},
		[]string{"H*r:10.1.2.3", "H*r:192.168.7.9", "H*r:4F2AB19C3D", "H*r:ESMTP", "H*r:with"})
}

// Received, Message-ID and References keep encoded words undecoded;
// other fields are decoded.
func TestHeaderDecodingExemptions(t *testing.T) {
	msg := ParseMessage([]byte("Received: from =?us-ascii?q?kept_word?= (x [192.0.2.1]) by y\r\nX-Note: =?us-ascii?q?decoded_word?=\r\n\r\nbody\r\n"))
	checkTokens(t, Tokenize(msg), []string{"H*r:kept_word", "HX-Note:decoded", "HX-Note:word"}, []string{"H*r:kept", "HX-Note:decoded_word"})
}

// The Subject leading the body text is the last Subject field, as
// SpamAssassin's get_header returns it.
func TestSubjectIsLastField(t *testing.T) {
	msg := ParseMessage([]byte("Subject: firstsubject\r\nSubject: lastsubject\r\n\r\nbody\r\n"))
	checkTokens(t, Tokenize(msg), []string{"lastsubject"}, []string{"firstsubject"})
}

// Each text part's rendered text is cut after body_part_scan_size bytes,
// at a newline within 1 KB when there is one.
func TestPartScanSize(t *testing.T) {
	body := strings.Repeat("filler ", partScanSize/7) + "\r\nnearword\r\n" + strings.Repeat("x", 2000) + " farword\r\n"
	msg := ParseMessage([]byte("Subject: s\r\n\r\n" + body))
	checkTokens(t, Tokenize(msg), []string{"filler", "nearword"}, []string{"farword"})
	for _, tc := range []struct{ in, want string }{
		{strings.Repeat("a", partScanSize), strings.Repeat("a", partScanSize)},
		{strings.Repeat("a", partScanSize+10) + "\nb", strings.Repeat("a", partScanSize+10) + "\n"},
		{strings.Repeat("a", partScanSize+5) + " b\nc", strings.Repeat("a", partScanSize+5) + " b\n"},
		{strings.Repeat("a", partScanSize+2000), strings.Repeat("a", partScanSize)},
	} {
		if got := scanPrefix(tc.in); got != tc.want {
			t.Errorf("scanPrefix(%d bytes) = %d bytes, want %d", len(tc.in), len(got), len(tc.want))
		}
	}
}

// Options.Skip keeps a message out of learning and scoring.
func TestSkip(t *testing.T) {
	ctx := context.Background()
	st := NewMemoryStore()
	skip := func(m *mailmsg.Message) bool { v, _ := m.Get("X-List"); return v == "ignored" }
	c, err := New(Options{Store: st, Skip: skip, MinSpam: 1, MinHam: 1})
	if err != nil {
		t.Fatal(err)
	}
	learn := func(raw string, spam bool) bool {
		ok, err := c.Learn(ctx, ParseMessage([]byte(raw)), spam, "")
		if err != nil {
			t.Fatal(err)
		}
		return ok
	}
	if learn("X-List: ignored\r\n\r\nlottery winner\r\n", true) {
		t.Error("skipped message was learned")
	}
	if !learn("Message-ID: <1@x>\r\n\r\nlottery winner\r\n", true) || !learn("Message-ID: <2@x>\r\n\r\nmeeting notes\r\n", false) {
		t.Fatal("ordinary messages not learned")
	}
	if s, h, _ := st.Totals(ctx, ""); s != 1 || h != 1 {
		t.Errorf("totals %d/%d, want 1/1", s, h)
	}
	if _, ok, err := c.Score(ctx, ParseMessage([]byte("X-List: ignored\r\n\r\nlottery winner\r\n")), ""); ok || err != nil {
		t.Errorf("skipped message scored: ok=%v err=%v", ok, err)
	}
	if _, ok, _ := c.Score(ctx, ParseMessage([]byte("\r\nlottery winner\r\n")), ""); !ok {
		t.Error("ordinary message not scored")
	}
}
