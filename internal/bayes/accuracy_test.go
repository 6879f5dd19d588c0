package bayes

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"sort"
	"strings"
	"sync"
	"testing"

	"github.com/gomilter/gomilter/internal/mailmsg"
	"github.com/gomilter/gomilter/internal/testenv"
)

// corpusDir finds the shared training corpus from the repository root (the
// directory holding go.mod), read in place.
func corpusDir(t testing.TB) string {
	t.Helper()
	dir, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			break
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			t.Fatal("go.mod not found")
		}
		dir = parent
	}
	c := filepath.Join(dir, "..", "shared", "testsuites", "corpus")
	if _, err := os.Stat(filepath.Join(c, "train")); err != nil {
		testenv.Missing(t, "training corpus %s: %v", c, err)
	}
	return c
}

type corpusMsg struct {
	name, group string
	spam        bool
	msg         *mailmsg.Message
	toks        []Hash
	id, path    string
}

func loadCorpus(t testing.TB) []corpusMsg {
	t.Helper()
	root := filepath.Join(corpusDir(t), "train")
	// SpamAssassin's bayes_ignore_header list, when its rules are installed.
	names, err := ReadIgnoreHeaders("/usr/share/spamassassin")
	if err != nil {
		t.Fatal(err)
	}
	ignore := map[string]bool{}
	for _, n := range names {
		ignore[n] = true
	}
	var out []corpusMsg
	for _, group := range []string{"spam-1", "easy-ham-1", "hard-ham-1"} {
		files, err := filepath.Glob(filepath.Join(root, group, "*.eml"))
		if err != nil || len(files) == 0 {
			t.Fatalf("no messages in %s: %v", group, err)
		}
		sort.Strings(files)
		for _, f := range files {
			out = append(out, corpusMsg{name: filepath.Base(f), group: group, spam: group == "spam-1", path: f})
		}
	}
	// Tokenizing dominates the test (and -race slows it most): use every CPU.
	errs := parallel(len(out), func(i int) error {
		raw, err := os.ReadFile(out[i].path)
		if err != nil {
			return err
		}
		m := ParseMessage(raw)
		out[i].msg, out[i].toks, out[i].id = m, hashes(tokenize(m, ignore, nil)), MessageID(m)
		return nil
	})
	if errs != nil {
		t.Fatal(errs)
	}
	return out
}

// parallel runs f(0..n-1) on GOMAXPROCS goroutines and returns the first
// error.
func parallel(n int, f func(i int) error) error {
	var wg sync.WaitGroup
	var mu sync.Mutex
	var first error
	next := make(chan int)
	for w := 0; w < runtime.GOMAXPROCS(0); w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range next {
				if err := f(i); err != nil {
					mu.Lock()
					if first == nil {
						first = err
					}
					mu.Unlock()
				}
			}
		}()
	}
	for i := 0; i < n; i++ {
		next <- i
	}
	close(next)
	wg.Wait()
	return first
}

// cvStats counts cross-validation outcomes.
type cvStats struct {
	spam, ham, spam95, ham95, spam99, ham99, spamUnsure, noScore int
}

// crossValidate trains on k-1 folds and scores the held-out fold, so no
// message is ever scored by a database that learned it. Messages are
// tokenized once (in loadCorpus) to keep the test fast; Learn and Score
// themselves are covered by the unit tests.
func crossValidate(t *testing.T, msgs []corpusMsg, k int) (cvStats, map[string]float64) {
	probs := make([]float64, len(msgs))
	oks := make([]bool, len(msgs))
	err := parallel(k, func(fold int) error { return runFold(msgs, k, fold, probs, oks) })
	if err != nil {
		t.Fatal(err)
	}
	var st cvStats
	byName := map[string]float64{}
	for i, m := range msgs {
		st.add(m.spam, probs[i], oks[i])
		byName[m.name] = probs[i]
	}
	return st, byName
}

// runFold learns every message outside fold into a fresh store and scores
// the fold's messages into probs and oks (each fold writes its own indexes).
func runFold(msgs []corpusMsg, k, fold int, probs []float64, oks []bool) error {
	ctx := context.Background()
	db := NewMemoryStore()
	c, err := New(Options{Store: db})
	if err != nil {
		return err
	}
	for i, m := range msgs {
		if i%k != fold {
			if _, err := db.Learn(ctx, "", m.id, m.toks, m.spam); err != nil {
				return err
			}
		}
	}
	nspam, nham, _ := db.Totals(ctx, "")
	for i, m := range msgs {
		if i%k == fold {
			if probs[i], oks[i], err = c.scoreTokens(ctx, "", m.toks, nspam, nham); err != nil {
				return err
			}
		}
	}
	return nil
}

func (s *cvStats) add(spam bool, p float64, ok bool) {
	if !ok {
		s.noScore++
	}
	if spam {
		s.spam++
		if ok && p > 0.95 {
			s.spam95++
		}
		if ok && p > 0.99 {
			s.spam99++
		}
		if !ok || (p > 0.2 && p <= 0.8) {
			s.spamUnsure++
		}
		return
	}
	s.ham++
	if ok && p > 0.95 {
		s.ham95++
	}
	if ok && p > 0.99 {
		s.ham99++
	}
}

// saBayes counts how often SpamAssassin 4.0.1 (trained on the same folder,
// a self-test) fired BAYES_95 or above on spam and on ham.
func saBayes(t *testing.T) (spam, spam95, ham, ham95 int) {
	f, err := os.Open(filepath.Join(corpusDir(t), "sa-results-bayes-train.tsv"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		cols := strings.Split(sc.Text(), "\t")
		if len(cols) < 5 || cols[0] == "file" {
			continue
		}
		high := false
		for _, r := range strings.Split(cols[4], ",") {
			high = high || r == "BAYES_95" || r == "BAYES_99" || r == "BAYES_999"
		}
		if cols[1] == "spam-1" {
			spam++
			if high {
				spam95++
			}
		} else {
			ham++
			if high {
				ham95++
			}
		}
	}
	return spam, spam95, ham, ham95
}

func pct(a, b int) float64 { return 100 * float64(a) / float64(max(b, 1)) }

// TestCrossValidation measures accuracy by 5-fold cross-validation on the
// shared corpus and fails if it falls below the floors measured when this
// test was written.
func TestCrossValidation(t *testing.T) {
	testenv.SkipShort(t, "corpus cross-validation skipped in -short mode")
	msgs := loadCorpus(t)
	st, _ := crossValidate(t, msgs, 5)
	saSpam, saSpam95, saHam, saHam95 := saBayes(t)
	report := fmt.Sprintf("5-fold CV on %d spam / %d ham: BAYES_95+ spam recall %.1f%% (%d), ham FP %.2f%% (%d); "+
		"BAYES_99 spam recall %.1f%%, ham FP %.2f%%; spam unsure %d; unscored %d. "+
		"SpamAssassin 4.0.1 self-test (trained on all): BAYES_95+ on spam %.1f%% (%d/%d), on ham %.2f%% (%d/%d); "+
		"SpamAssassin 4.0.1 under this same 5-fold split (testdata/sa-cv.pl, measured once): %s",
		st.spam, st.ham, pct(st.spam95, st.spam), st.spam95, pct(st.ham95, st.ham), st.ham95,
		pct(st.spam99, st.spam), pct(st.ham99, st.ham), st.spamUnsure, st.noScore,
		pct(saSpam95, saSpam), saSpam95, saSpam, pct(saHam95, saHam), saHam95, saHam, saCV)
	t.Log(report)
	fmt.Println("bayes:", report)
	if r := pct(st.spam95, st.spam); r < recallFloor95 {
		t.Errorf("BAYES_95+ spam recall %.1f%% < floor %.1f%%", r, recallFloor95)
	}
	if r := pct(st.spam99, st.spam); r < recallFloor99 {
		t.Errorf("BAYES_99 spam recall %.1f%% < floor %.1f%%", r, recallFloor99)
	}
	if r := pct(st.ham95, st.ham); r > hamFPCeiling95 {
		t.Errorf("BAYES_95+ ham false positives %.2f%% > ceiling %.2f%%", r, hamFPCeiling95)
	}
}

// saCV is what testdata/sa-cv.pl measured for SpamAssassin 4.0.1's own
// Bayes (its tokenizer and s=0.030, x=0.538) on the same folds.
const saCV = "BAYES_95+ spam recall 77.4% (387/500), BAYES_99 75.6%, ham FP 0.00% (0/2625)"

// Floors measured with this tokenizer (see the test log); a change that
// loses accuracy fails here.
const (
	recallFloor95  = 79.0 // measured 81.6
	recallFloor99  = 76.0 // measured 79.2
	hamFPCeiling95 = 0.2  // measured 0.00
)
