package bayes

import (
	"os"
	"path/filepath"
	"runtime"
	"sort"
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
