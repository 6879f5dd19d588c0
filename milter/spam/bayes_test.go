package spam

import (
	"context"
	"github.com/gomilter/gomilter/internal/testenv"
	"os"
	"path/filepath"
	"strings"
	"testing"
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
		e.bayes.minLearned = uint64(need)
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
