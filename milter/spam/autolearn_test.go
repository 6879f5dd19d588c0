package spam

import (
	"context"
	"path/filepath"
	"strings"
	"testing"
)

const autoLearnCF = `
required_score 5
bayes_auto_learn_threshold_spam 6
header   AL_HEAD   Subject =~ /winner/
score    AL_HEAD   4
body     AL_BODY   /claim your prize/
score    AL_BODY   4
header   AL_HEAD2  From =~ /lottery/
score    AL_HEAD2  4
header   AL_NOAL   X-Mailer =~ /bulk/
score    AL_NOAL   3
tflags   AL_NOAL   noautolearn
`

func TestAutoLearn(t *testing.T) {
	e, _, err := LoadConf("t.cf", autoLearnCF, Options{BayesPath: filepath.Join(t.TempDir(), "bayes.db")})
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close()
	msg := func(from, subject, mailer, body string) []byte {
		return []byte("From: " + from + "\r\nTo: you@example.com\r\nSubject: " + subject +
			"\r\nX-Mailer: " + mailer + "\r\nMessage-ID: <" + strings.ReplaceAll(subject+from, " ", ".") + "@x>\r\n\r\n" + body + "\r\n")
	}
	for _, tc := range []struct {
		name string
		raw  []byte
		want string
	}{
		{"header and body evidence", msg("lottery@x.example", "winner", "mutt", "claim your prize today"), "spam"},
		{"same message again", msg("lottery@x.example", "winner", "mutt", "claim your prize today"), "no"},
		{"header evidence only", msg("lottery@y.example", "winner", "mutt", "hello"), "no"},
		{"noautolearn rule does not count", msg("a@z.example", "hi", "bulk", "hello"), "ham"},
		{"clean ham", msg("friend@example.org", "lunch", "mutt", "see you at noon"), "ham"},
		{"between the thresholds", msg("b@example.org", "winner", "mutt", "hello"), "no"},
	} {
		res := e.CheckBytes(context.Background(), nil, tc.raw)
		if res.AutoLearn != tc.want {
			t.Errorf("%s: autolearn=%s, want %s (rules %v, score %.1f)", tc.name, res.AutoLearn, tc.want, res.Rules, res.Score)
		}
		if st := statusOf(res); !strings.Contains(st, "autolearn="+tc.want+" ") {
			t.Errorf("%s: X-Spam-Status %q lacks autolearn=%s", tc.name, st, tc.want)
		}
	}
	if s, h := e.BayesCounts(); s != 1 || h != 2 {
		t.Errorf("learned spam=%d ham=%d, want 1 and 2", s, h)
	}

	off, _, err := LoadConf("t.cf", autoLearnCF+"bayes_auto_learn 0\n", Options{BayesPath: filepath.Join(t.TempDir(), "b2.db")})
	if err != nil {
		t.Fatal(err)
	}
	defer off.Close()
	if res := off.CheckBytes(context.Background(), nil, msg("f@example.org", "lunch", "mutt", "noon")); res.AutoLearn != "disabled" {
		t.Errorf("bayes_auto_learn 0: autolearn=%s, want disabled", res.AutoLearn)
	}
}

func statusOf(res *Result) string {
	for _, h := range res.Headers {
		if h.Name == "X-Spam-Status" {
			return strings.ReplaceAll(h.Value, "\n\t", " ")
		}
	}
	return ""
}
