package bayes

import (
	"context"
	"fmt"
	"math"
	"net/mail"
	"slices"
	"testing"
	"time"

	"github.com/gomilter/gomilter/internal/mailmsg"
)

func TestTokenizeLine(t *testing.T) {
	tests := []struct {
		name, in string
		region   int
		want     []string
		not      []string
	}{
		{"short words dropped", "a an cat", regionBody, []string{"cat"}, []string{"a", "an"}},
		{"title case lowered", "Hello there", regionBody, []string{"hello", "there"}, []string{"Hello"}},
		{"upper decomposed", "FREE!!", regionBody, []string{"FREE!!", "FREE", "free!!", "free"}, nil},
		{"trim punctuation", `"quoted", 'words'.`, regionBody, []string{"quoted", "words"}, []string{`"quoted"`}},
		{"long token skip", "abcdefghijklmnopqrstuvwxyz", regionBody, []string{"sk:abcdefg"}, []string{"abcdefghijklmnopqrstuvwxyz"}},
		{"long URI token kept", "abcdefghijklmnopqrstuvwxyz", regionURI, []string{"abcdefghijklmnopqrstuvwxyz"}, nil},
		{"mail address", "write to bob@mail.example.com now", regionBody,
			[]string{"U*bob", "D*mail.example.com", "D*example.com", "D*com"}, nil},
		{"host name", "visit www.example.com today", regionBody,
			[]string{"UD:www.example.com", "UD:example.com", "UD:com", "www.example.com", "wwwexamplecom"}, nil},
		{"dots split", "wait...what", regionBody, []string{"wait", "what"}, []string{"wait...what"}},
		{"punctuation splits", "foo/bar:baz", regionBody, []string{"foo", "bar", "baz"}, nil},
		{"utf8 long word", "\u00e9\u00e9\u00e9\u4e2d\u6587\u5b57\u4e2d\u6587\u5b57", regionBody,
			[]string{"u8:\u4e2d", "u8:\u6587", "u8:\u5b57"}, nil},
		{"8-bit latin1 kept", "caf\xe9s", regionBody, []string{"caf\xe9s"}, nil},
		{"control bytes split", "foo\x01bar\x85baz", regionBody, []string{"foo", "bar", "baz"}, nil},
		{"header no title case", "Hello", regionHeader, []string{"Hello"}, []string{"hello"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := tokenizeLine(tc.in, "", tc.region)
			for _, w := range tc.want {
				if !slices.Contains(got, w) {
					t.Errorf("tokenizeLine(%q) = %q, missing %q", tc.in, got, w)
				}
			}
			for _, w := range tc.not {
				if slices.Contains(got, w) {
					t.Errorf("tokenizeLine(%q) = %q, must not contain %q", tc.in, got, w)
				}
			}
		})
	}
}

const sampleMsg = "Received: from mx.example.net (mx.example.net [192.0.2.7])\r\n\tby relay with ESMTP id ABC123DEF; Mon, 1 Jul 2002 10:00:00 +0000\r\n" +
	"From: \"Joe Sender\" <joe@sender.example.org>\r\nTo: you@example.com\r\nSubject: Cheap =?utf-8?q?V=C3=ADagra?= now\r\n" +
	"Date: Mon, 1 Jul 2002 10:00:00 +0000\r\nMessage-ID: <12345.abc@sender.example.org>\r\nMIME-Version: 1.0\r\n" +
	"Content-Type: multipart/alternative; boundary=\"b1\"\r\n\r\npreamble\r\n--b1\r\nContent-Type: text/plain\r\n" +
	"Content-Transfer-Encoding: quoted-printable\r\n\r\nBuy pills at http://pills.example.biz/buy?x=1 tod=\r\nay\r\n" +
	"--b1\r\nContent-Type: text/html\r\nContent-Transfer-Encoding: base64\r\n\r\n" +
	"PGh0bWw+PGJvZHk+PHA+T3JkZXIgPGEgaHJlZj0iaHR0cDovL3Nob3Auc3BhbS5leGFtcGxlL3AiPmhlcmU8L2E+PC9wPjxzY3JpcHQ+aGlkZGVuc2NyaXB0PC9zY3JpcHQ+PC9ib2R5PjwvaHRtbD4=\r\n--b1--\r\n"

func TestTokenizeMessage(t *testing.T) {
	toks := Tokenize(ParseMessage([]byte(sampleMsg)))
	have := map[string]bool{}
	for _, s := range toks {
		have[s] = true
	}
	want := []string{
		"cheap", "V\xc3\xadagra", // Subject, decoded, leads the body text
		"today",                                        // quoted-printable soft break joined
		"UD:pills.example.biz", "UD:shop.spam.example", // URIs from text and HTML href
		"order", "here", // rendered HTML text
		"H*Ad:N*Joe", "H*Ad:D*sender.example.org", // From/To/Cc grouped
		"H*F:U*joe", "H*r:ip*192.0.2.7", "H*r:192.0.2", // Received chewed
		"H*MI:sender", "H*M:abc",
	}
	for _, w := range want {
		if !have[w] {
			t.Errorf("Tokenize: missing %q", w)
		}
	}
	for _, n := range []string{"hiddenscript", "preamble", "H*r:ABC123DEF", "H*Date:2002", "H*r:1"} {
		if have[n] {
			t.Errorf("Tokenize: unexpected %q", n)
		}
	}
	for h, s := range toks {
		if HashToken(s) != h {
			t.Fatalf("hash of %q does not match its key", s)
		}
	}
}

func TestRule(t *testing.T) {
	tests := []struct {
		p    float64
		want string
	}{
		{0, "BAYES_00"}, {0.01, "BAYES_00"}, {0.0100001, "BAYES_05"}, {0.05, "BAYES_05"},
		{0.1, "BAYES_20"}, {0.3, "BAYES_40"}, {0.5, "BAYES_50"}, {0.7, "BAYES_60"},
		{0.9, "BAYES_80"}, {0.95, "BAYES_80"}, {0.97, "BAYES_95"}, {0.995, "BAYES_99"}, {1, "BAYES_99"},
	}
	for _, tc := range tests {
		if got := Rule(tc.p); got != tc.want {
			t.Errorf("Rule(%v) = %q, want %q", tc.p, got, tc.want)
		}
	}
	if got := Rules(0.9995); !slices.Equal(got, []string{"BAYES_99", "BAYES_999"}) {
		t.Errorf("Rules(0.9995) = %v", got)
	}
}

func TestCombine(t *testing.T) {
	if _, ok := combine([]float64{0.5, 0.6, 0.4}, 10, 10); ok {
		t.Error("combine of weak tokens answered")
	}
	spam, _ := combine([]float64{0.99, 0.98, 0.97, 0.2}, 10, 10)
	ham, _ := combine([]float64{0.01, 0.02, 0.03, 0.8}, 10, 10)
	if spam < 0.9 || ham > 0.1 {
		t.Errorf("combine: spammy %v, hammy %v", spam, ham)
	}
	many := make([]float64, 400)
	for i := range many {
		many[i] = 0.999
	}
	if p, ok := combine(many, 1, 1); !ok || p < 0.999 || math.IsNaN(p) {
		t.Errorf("combine of 400 strong tokens = %v, %v (underflow?)", p, ok)
	}
	p, _ := tokenProb(Counts{Spam: 1}, 100, 100, DefaultRobinsonS, DefaultRobinsonX)
	if want := (0.16*0.5 + 1) / 1.16; math.Abs(p-want) > 1e-12 {
		t.Errorf("tokenProb hapax = %v, want %v", p, want)
	}
}

func mkMsg(id, body string) []byte {
	return []byte("Message-ID: <" + id + ">\r\nSubject: test\r\n\r\n" + body + "\r\n")
}

// testLearnSemantics checks the seen-database rules against any Store.
func testLearnSemantics(t *testing.T, st Store) {
	ctx := context.Background()
	c, err := New(Options{Store: st, MinSpam: 1, MinHam: 1})
	if err != nil {
		t.Fatal(err)
	}
	spam := ParseMessage(mkMsg("s1@x", "viagra casino lottery winner"))
	ham := ParseMessage(mkMsg("h1@x", "meeting agenda project review"))
	for i, step := range []struct {
		msg           []byte
		spam, learned bool
		user          string
	}{
		{mkMsg("s1@x", "viagra casino lottery winner"), true, true, ""},
		{mkMsg("s1@x", "viagra casino lottery winner"), true, false, ""}, // same again: no-op
		{mkMsg("h1@x", "meeting agenda project review"), false, true, ""},
		{mkMsg("h1@x", "meeting agenda project review"), true, true, ""},  // moved to spam
		{mkMsg("h1@x", "meeting agenda project review"), false, true, ""}, // and back
		{mkMsg("h1@x", "meeting agenda project review"), true, true, "alice"},
	} {
		got, err := c.Learn(ctx, ParseMessage(step.msg), step.spam, step.user)
		if err != nil || got != step.learned {
			t.Fatalf("step %d: Learn = %v, %v; want %v", i, got, err, step.learned)
		}
	}
	ns, nh, err := st.Totals(ctx, "")
	if err != nil || ns != 1 || nh != 1 {
		t.Fatalf("Totals = %d, %d, %v; want 1, 1", ns, nh, err)
	}
	if ns, nh, _ := st.Totals(ctx, "alice"); ns != 1 || nh != 0 {
		t.Fatalf("alice Totals = %d, %d; want 1, 0", ns, nh)
	}
	counts, _ := st.Tokens(ctx, "", []Hash{HashToken("casino"), HashToken("agenda"), HashToken("nothere")})
	if want := []Counts{{1, 0}, {0, 1}, {0, 0}}; !slices.Equal(counts, want) {
		t.Fatalf("Tokens = %v, want %v", counts, want)
	}
	ps, ok1, _ := c.Score(ctx, ParseMessage(mkMsg("s2@x", "casino lottery")), "")
	ph, ok2, _ := c.Score(ctx, ParseMessage(mkMsg("h2@x", "project agenda")), "")
	if !ok1 || !ok2 || ps < 0.8 || ph > 0.2 {
		t.Errorf("Score spam-like = %v %v, ham-like = %v %v", ps, ok1, ph, ok2)
	}
	if ok, _ := c.Forget(ctx, spam, ""); !ok {
		t.Error("Forget learned message = false")
	}
	if ok, _ := c.Forget(ctx, spam, ""); ok {
		t.Error("Forget twice = true")
	}
	if ns, _, _ := st.Totals(ctx, ""); ns != 0 {
		t.Errorf("after Forget nspam = %d", ns)
	}
	_ = ham
}

func TestMemoryStore(t *testing.T) { testLearnSemantics(t, NewMemoryStore()) }

func TestMessageTime(t *testing.T) {
	now := time.Date(2026, 11, 22, 9, 0, 0, 0, time.UTC)
	msg := func(hdr ...string) *mailmsg.Message {
		m := &mailmsg.Message{}
		for i := 0; i+1 < len(hdr); i += 2 {
			m.Header = append(m.Header, mailmsg.Field{Name: hdr[i], Value: hdr[i+1]})
		}
		return m
	}
	at := func(s string) uint32 { tm, _ := mail.ParseDate(s); return uint32(tm.Unix()) }
	for _, tc := range []struct {
		name string
		m    *mailmsg.Message
		want uint32
	}{
		{"topmost Received", msg("Received", " from a by b;\r\n\tThu, 22 Aug 2002 10:00:00 +0100 (BST)",
			"Received", " from c by d; Wed, 21 Aug 2002 09:00:00 +0000", "Date", " Tue, 20 Aug 2002 08:00:00 +0000"),
			at("Thu, 22 Aug 2002 10:00:00 +0100")},
		{"Date when no Received", msg("Date", " Tue, 20 Aug 2002 08:00:00 +0000"), at("Tue, 20 Aug 2002 08:00:00 +0000")},
		{"Received without a date", msg("Received", " from a by b", "Date", " Tue, 20 Aug 2002 08:00:00 +0000"), at("Tue, 20 Aug 2002 08:00:00 +0000")},
		{"future date", msg("Date", " Tue, 20 Aug 2030 08:00:00 +0000"), uint32(now.Unix())},
		{"garbage", msg("Date", " yesterday"), uint32(now.Unix())},
	} {
		if got := messageTime(tc.m, now); got != tc.want {
			t.Errorf("%s: %d, want %d", tc.name, got, tc.want)
		}
	}
}

func TestMinimumLearned(t *testing.T) {
	ctx := context.Background()
	c, _ := New(Options{Store: NewMemoryStore()})
	for i := 0; i < 199; i++ {
		c.Learn(ctx, ParseMessage(mkMsg(fmt.Sprintf("s%d@x", i), "casino lottery")), true, "")
		c.Learn(ctx, ParseMessage(mkMsg(fmt.Sprintf("h%d@x", i), "agenda project")), false, "")
	}
	if _, ok, err := c.Score(ctx, ParseMessage(mkMsg("q@x", "casino")), ""); ok || err != nil {
		t.Fatalf("Score with 199/199 learned answered (ok=%v, err=%v)", ok, err)
	}
	c.Learn(ctx, ParseMessage(mkMsg("s199@x", "casino lottery")), true, "")
	c.Learn(ctx, ParseMessage(mkMsg("h199@x", "agenda project")), false, "")
	if p, ok, _ := c.Score(ctx, ParseMessage(mkMsg("q@x", "casino")), ""); !ok || p < 0.6 {
		t.Fatalf("Score with 200/200 learned = %v, %v", p, ok)
	}
}

func TestAutoLearnDecision(t *testing.T) {
	c, _ := New(Options{Store: NewMemoryStore()})
	tests := []struct {
		score, head, body float64
		learn, spam       bool
	}{
		{-1, 0, 0, true, false}, {0.09, 0, 0, true, false}, {0.1, 0, 0, false, false},
		{11.9, 5, 5, false, false}, {12, 3, 3, true, true}, {15, 2, 10, false, true},
	}
	for _, tc := range tests {
		learn, spam := c.AutoLearnDecision(tc.score, tc.head, tc.body)
		if learn != tc.learn || (learn && spam != tc.spam) {
			t.Errorf("AutoLearnDecision(%v, %v, %v) = %v, %v; want %v, %v", tc.score, tc.head, tc.body, learn, spam, tc.learn, tc.spam)
		}
	}
	if _, err := New(Options{Store: NewMemoryStore(), AutoLearn: AutoLearnThresholds{Ham: 5, Spam: 1}}); err == nil {
		t.Error("New accepted ham threshold above spam threshold")
	}
}

// testExpire checks that expiry keeps the tokens of the most recent
// messages, by the messages' own times and not the learning order, and
// bounds the size, on any Expirer.
func testExpire(t *testing.T, st interface {
	Store
	Expirer
}) {
	ctx := context.Background()
	var fresh []Hash
	for i := 0; i < 9; i++ {
		fresh = append(fresh, HashToken(fmt.Sprint("new", i)))
	}
	// The newer message is learned first, as when a spam folder is
	// learned before an older ham folder.
	if _, err := st.Learn(ctx, "", "m-new", fresh, false, 2_000_000_000); err != nil {
		t.Fatal(err)
	}
	old := []Hash{HashToken("old1"), HashToken("old2"), HashToken("old3")}
	if _, err := st.Learn(ctx, "", "m-old", old, true, 1_000_000_000); err != nil {
		t.Fatal(err)
	}
	if n, _ := st.Expire(ctx, "", 20); n != 0 {
		t.Fatalf("Expire under the limit removed %d", n)
	}
	// 12 tokens, limit 10: keep 7, the newest.
	n, err := st.Expire(ctx, "", 10)
	if err != nil || n != 5 {
		t.Fatalf("Expire = %d, %v; want 5", n, err)
	}
	counts, _ := st.Tokens(ctx, "", append(old, fresh...))
	kept := 0
	for i, c := range counts {
		if c != (Counts{}) {
			kept++
			if i < len(old) {
				t.Errorf("old token %d survived expiry", i)
			}
		}
	}
	if kept != 7 {
		t.Errorf("%d tokens kept, want 7", kept)
	}
}

func TestMemoryExpire(t *testing.T) { testExpire(t, NewMemoryStore()) }

func TestInRange(t *testing.T) {
	tests := []struct {
		p, min, max float64
		want        bool
	}{
		{0, 0, 0.01, true}, {0.01, 0, 0.01, true}, {0.011, 0, 0.01, false},
		{0.01, 0.01, 0.05, false}, {0.05, 0.01, 0.05, true}, {1, 0.99, 1, true}, {0.9995, 0.999, 1, true},
	}
	for _, tc := range tests {
		if got := InRange(tc.p, tc.min, tc.max); got != tc.want {
			t.Errorf("InRange(%v, %v, %v) = %v, want %v", tc.p, tc.min, tc.max, got, tc.want)
		}
	}
	// Rule agrees with InRange over the 23_bayes.cf ranges.
	for p := 0.0; p <= 1; p += 0.0005 {
		r := Rule(p)
		var lo, hi float64
		fmt.Sscanf(map[string]string{"BAYES_00": "0 0.01", "BAYES_05": "0.01 0.05", "BAYES_20": "0.05 0.20",
			"BAYES_40": "0.20 0.40", "BAYES_50": "0.40 0.60", "BAYES_60": "0.60 0.80", "BAYES_80": "0.80 0.95",
			"BAYES_95": "0.95 0.99", "BAYES_99": "0.99 1.00"}[r], "%g %g", &lo, &hi)
		if !InRange(p, lo, hi) {
			t.Fatalf("Rule(%v) = %s but InRange(%v, %v, %v) is false", p, r, p, lo, hi)
		}
	}
}

func TestStopwords(t *testing.T) {
	got := tokenizeLine("The information you need is HERE, from THE web", "", regionBody)
	for _, w := range []string{"The", "the", "information", "you", "need", "from", "THE", "web"} {
		if slices.Contains(got, w) {
			t.Errorf("tokenizeLine kept stopword %q: %q", w, got)
		}
	}
	if !slices.Contains(got, "HERE") {
		t.Errorf("tokenizeLine dropped a non-stopword: %q", got)
	}
}

func TestReceivedFoldedDate(t *testing.T) {
	msg := ParseMessage([]byte("Received: from mail.com (unknown [64.86.155.148]) by\r\n    relay.example.com (Postfix) with SMTP id 1AE6470047 for\r\n    <a@b.example>; Fri,\r\n    23 Aug 2002 08:38:15 +0100 (IST)\r\n\r\nbody\r\n"))
	toks := Tokenize(msg)
	for _, bad := range []string{"H*r:Fri", "H*r:2002", "H*r:1AE6470047"} {
		if _, ok := toks[HashToken(bad)]; ok {
			t.Errorf("Received token %q survived chewing", bad)
		}
	}
	if _, ok := toks[HashToken("H*r:ip*64.86.155.148")]; !ok {
		t.Error("Received ip* token missing")
	}
}

func TestMetadataTokens(t *testing.T) {
	meta := func(*mailmsg.Message) []mailmsg.Field {
		return []mailmsg.Field{{Name: "x-spam-relays-untrusted", Value: "[ ip=192.0.2.9 rdns=mx.example.net helo=mx.example.net by=relay.example ident= envfrom= intl=0 id=ABC auth= msa=0 ]"}}
	}
	c, _ := New(Options{Store: NewMemoryStore(), Metadata: meta})
	toks := c.tokenize(ParseMessage([]byte("Subject: x\r\n\r\nbody\r\n")))
	for _, want := range []string{"H*RU:192.0.2.9", "H*RU:mx.example.net", "H*RU:relay.example"} {
		if _, ok := toks[HashToken(want)]; !ok {
			t.Errorf("metadata token %q missing", want)
		}
	}
	if _, ok := toks[HashToken("H*RU:ip=192.0.2.9")]; ok {
		t.Error("relay keys not removed")
	}
}
