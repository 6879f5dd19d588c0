package spam

import (
	"context"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/gomilter/gomilter/internal/bayes"
	"github.com/gomilter/gomilter/internal/mailmsg"
	"github.com/gomilter/gomilter/internal/testenv"
)

// TestBayesCorpus learns half of the corpus and scores the other half:
// BAYES_99/999 should mark most held-out spam, BAYES_00 most ham.
func TestBayesCorpus(t *testing.T) {
	testenv.SkipShort(t, "corpus run skipped in -short mode")
	dir := corpusDir(t)
	e, err := systemEngine(t).withBayes(filepath.Join(t.TempDir(), "bayes.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close()
	spam, _ := filepath.Glob(filepath.Join(dir, "train", "spam-1", "*.eml"))
	ham, _ := filepath.Glob(filepath.Join(dir, "train", "easy-ham-1", "*.eml"))
	ham = ham[:min(len(ham), 800)]
	need := 200
	if raceEnabled {
		need = 20 // the race run checks concurrency, not accuracy
		e.bayes.minSpam, e.bayes.minHam = uint64(need), uint64(need)
	}
	learn := func(files []string, isSpam bool) {
		step := 2
		if raceEnabled {
			files = files[:2*need+4]
		}
		for i := 0; i < len(files); i += step {
			raw, err := os.ReadFile(files[i])
			if err != nil {
				t.Fatal(err)
			}
			if _, err := e.Learn(context.Background(), raw, isSpam); err != nil {
				t.Fatal(err)
			}
		}
	}
	learn(spam, true)
	learn(ham, false)
	if s, h := e.BayesCounts(); s < need || h < need {
		t.Fatalf("learned %d spam, %d ham", s, h)
	}
	// Learning the same message again changes nothing.
	raw, _ := os.ReadFile(spam[0])
	if changed, _ := e.Learn(context.Background(), raw, true); changed {
		t.Error("re-learning a message changed the database")
	}
	score := func(files []string, want string) float64 {
		hit, n := 0, 0
		limit := 80
		if raceEnabled {
			limit = 10
		}
		for i := 1; i < len(files) && n < limit; i += 2 {
			raw, _ := os.ReadFile(files[i])
			res := e.CheckBytes(context.Background(), nil, raw)
			n++
			for _, r := range res.Rules {
				if strings.HasPrefix(r, want) {
					hit++
					break
				}
			}
		}
		return float64(hit) / float64(n)
	}
	spamRate := score(spam, "BAYES_9") // BAYES_95, _99, _999
	hamRate := score(ham, "BAYES_00")
	t.Logf("held-out: BAYES_95+ on %.1f%% of spam, BAYES_00 on %.1f%% of ham", 100*spamRate, 100*hamRate)
	if !raceEnabled && (spamRate < 0.65 || hamRate < 0.85) {
		t.Errorf("Bayes too weak: spam %.2f, ham %.2f", spamRate, hamRate)
	}
}

func TestLearnWithoutBayes(t *testing.T) {
	e, _, err := LoadConf("x.cf", "body A /a/\n", Options{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.Learn(context.Background(), []byte("Subject: a\n\nb\n"), true); err != ErrNoBayes {
		t.Errorf("Learn without Bayes = %v, want ErrNoBayes", err)
	}
}

// The configuration's bayes_* settings reach the classifier: ignored
// header names (lower case), minimum counts, auto-learn thresholds and the
// bayes_ignore_from/to lists as Skip.
func TestBayesOptionsFromConf(t *testing.T) {
	e, warns, err := LoadConf("t.cf", "bayes_ignore_header X-Upstream-Verdict X-Other\nbayes_ignore_from *@lists.example\n"+
		"bayes_ignore_to robot@example.org\nbayes_min_ham_num 10\nbayes_min_spam_num 20\nbayes_auto_learn_threshold_spam 9\n", Options{})
	if err != nil || len(warns) > 0 {
		t.Fatalf("LoadConf: %v %q", err, warns)
	}
	o := e.BayesOptions()
	if !slices.Equal(o.IgnoreHeaders, []string{"x-upstream-verdict", "x-other"}) {
		t.Errorf("IgnoreHeaders = %q", o.IgnoreHeaders)
	}
	if o.MinHam != 10 || o.MinSpam != 20 || o.AutoLearn.Spam != 9 || o.AutoLearn.Ham != 0.1 || o.AutoLearn.Disabled {
		t.Errorf("counts/thresholds = %d %d %+v", o.MinHam, o.MinSpam, o.AutoLearn)
	}
	if o.Skip == nil || o.Metadata == nil {
		t.Fatal("Skip or Metadata not set")
	}
	for raw, want := range map[string]bool{
		"From: a@lists.example\r\nTo: me@example.org\r\n\r\nx\r\n":   true,
		"From: a@else.example\r\nCc: robot@example.org\r\n\r\nx\r\n": true,
		"From: a@else.example\r\nTo: me@example.org\r\n\r\nx\r\n":    false,
	} {
		if got := o.Skip(bayes.ParseMessage([]byte(raw))); got != want {
			t.Errorf("Skip(%q) = %v, want %v", raw, got, want)
		}
	}
	if o := mustLoadConf(t, "").BayesOptions(); o.Skip != nil || o.MinHam != 200 || o.MinSpam != 200 || len(o.IgnoreHeaders) != 0 {
		t.Errorf("defaults: Skip set %v, min %d/%d, ignore %q", o.Skip != nil, o.MinHam, o.MinSpam, o.IgnoreHeaders)
	}
}

func mustLoadConf(t *testing.T, text string) *Engine {
	t.Helper()
	e, _, err := LoadConf("t.cf", text, Options{})
	if err != nil {
		t.Fatal(err)
	}
	return e
}

const relayMsg = "Received: from mx.example.org (mx.example.org [192.0.2.10]) by mail.example.net (Postfix) with ESMTP id 4AB12C; Mon, 1 Jul 2002 10:00:00 +0000\r\n" +
	"Received: from [10.9.8.7] (helo=laptop) by mx.example.org with esmtp (Exim 4.96) (envelope-from <joe@sender.example>) id 1qXyZ-000abc-0Q; Mon, 1 Jul 2002 09:59:00 +0000\r\n" +
	"From: Joe <joe@Sender.Example>\r\nTo: me@example.net\r\nSubject: hello\r\n\r\nbody text\r\n"

// The engine's relay analysis becomes SpamAssassin's metadata fields, and
// the classifier turns them into H*RU/H*RT tokens.
func TestBayesRelayMetadata(t *testing.T) {
	e := mustLoadConf(t, "trusted_networks 192.0.2.0/24\n")
	meta := e.bayesMetadata(bayes.ParseMessage([]byte(relayMsg)))
	got := map[string]string{}
	var names []string
	for _, f := range meta {
		got[f.Name] = f.Value
		names = append(names, f.Name)
	}
	if !slices.IsSorted(names) || got["x-authordomain"] != "sender.example" || got["x-senderdomain"] != "sender.example" {
		t.Errorf("metadata = %q", meta)
	}
	if !strings.Contains(got["x-spam-relays-trusted"], "ip=192.0.2.10 rdns=mx.example.org") ||
		!strings.Contains(got["x-spam-relays-untrusted"], "ip=10.9.8.7") || strings.Contains(got["x-spam-relays-untrusted"], "192.0.2.10") {
		t.Errorf("relays: trusted %q, untrusted %q", got["x-spam-relays-trusted"], got["x-spam-relays-untrusted"])
	}
	opts := e.BayesOptions()
	st := bayes.NewMemoryStore()
	opts.Store = st
	c, err := bayes.New(opts)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	if _, err := c.Learn(ctx, bayes.ParseMessage([]byte(relayMsg)), true, ""); err != nil {
		t.Fatal(err)
	}
	for _, tok := range []string{"H*RT:192.0.2.10", "H*RT:mx.example.org", "H*RU:10.9.8.7", "H*RU:laptop", "Hx-authordomain:sender.example"} {
		cnt, err := st.Tokens(ctx, "", []bayes.Hash{bayes.HashToken(tok)})
		if err != nil || len(cnt) != 1 || cnt[0].Spam != 1 {
			t.Errorf("token %q not learned: %v %v", tok, cnt, err)
		}
	}
}

// FuzzBayesMetadata runs arbitrary header blocks through the metadata and
// ignore-list paths the classifier calls: no panic, and the metadata is
// always the six lower-case, sorted pseudo-fields at most.
func FuzzBayesMetadata(f *testing.F) {
	f.Add([]byte(relayMsg))
	f.Add([]byte("Received: from [1.2.3.4] by x\nFrom: =?utf-8?q?=C3=A9?= <a@\xc3\xa9.example>\nTo: robot@example.org\n\nx"))
	e, _, err := LoadConf("t.cf", "trusted_networks 192.0.2.0/24\nbayes_ignore_from *@lists.example\nbayes_ignore_to robot@example.org\n", Options{})
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, raw []byte) {
		msg := bayes.ParseMessage(raw)
		meta := e.bayesMetadata(msg)
		if len(meta) > 6 || !slices.IsSortedFunc(meta, func(a, b mailmsg.Field) int { return strings.Compare(a.Name, b.Name) }) {
			t.Fatalf("metadata %q", meta)
		}
		for _, m := range meta {
			if m.Name != strings.ToLower(m.Name) {
				t.Fatalf("metadata name %q not lower case", m.Name)
			}
		}
		e.bayesIgnored(msg)
	})
}

// TestBayesTokensFromRuleState checks that a checked message, tokenized
// with the metadata of the relays its rules analysed, gives the tokens
// that learning it from a file (header alone, no SMTP envelope) gives, so
// that auto-learning and sa-learn train the same tokens.
func TestBayesTokensFromRuleState(t *testing.T) {
	e, err := systemEngine(t).withBayes(filepath.Join(t.TempDir(), "bayes.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close()
	files, _ := filepath.Glob(filepath.Join(corpusDir(t), "train", "*", "*.eml"))
	step := 5
	if testing.Short() || raceEnabled {
		step = 50
	}
	// An envelope sender that differs from every header's: the tokens
	// must not see it.
	env := &mailmsg.Envelope{MailFrom: "bounce@envelope.invalid"}
	n := 0
	for i := 0; i < len(files); i += step {
		raw, err := os.ReadFile(files[i])
		if err != nil {
			t.Fatal(err)
		}
		m := newMsgState(e, env, raw)
		m.set = e.sets[0]
		e.runRules(m)
		got := e.bayes.c.Tokenize(bayes.ParseMessage(raw), m.bayesMetadata())
		want := e.bayes.c.Tokenize(bayes.ParseMessage(raw), e.bayesMetadata(bayes.ParseMessage(raw)))
		if !slices.Equal(got.Hashes(), want.Hashes()) {
			t.Errorf("%s: tokens differ from the file's", files[i])
		}
		n++
	}
	if n == 0 {
		t.Fatal("no corpus messages")
	}
}
