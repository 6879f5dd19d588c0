package spam

import (
	"os"
	"path/filepath"
	"sync"
	"testing"

	"github.com/gomilter/gomilter/internal/testenv"
)

// corpusDir locates the shared corpus relative to the repository root
// (the directory holding go.mod), read in place.
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
	if _, err := os.Stat(c); err != nil {
		testenv.Missing(t, "corpus missing: %v", err) // fails under CI=true
	}
	return c
}

var (
	sysEngineOnce sync.Once
	sysEngine     *Engine
	sysEngineErr  error
)

// systemEngine loads Debian's SpamAssassin rules once per test binary.
func systemEngine(t testing.TB) *Engine {
	t.Helper()
	if _, err := os.Stat("/usr/share/spamassassin/50_scores.cf"); err != nil {
		testenv.Missing(t, "SpamAssassin rules (Debian package spamassassin) missing: %v", err)
	}
	sysEngineOnce.Do(func() {
		sysEngine, _, sysEngineErr = Load(Options{})
	})
	if sysEngineErr != nil {
		t.Fatal(sysEngineErr)
	}
	return sysEngine
}
