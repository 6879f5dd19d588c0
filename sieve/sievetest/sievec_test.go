package sievetest

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/gomilter/gomilter/internal/testenv"
)

// TestErrorCountsMatchSievec compiles every script of the in-scope
// errors/ and recover/ directories of the suite with package sieve and
// with Pigeonhole's sievec, and compares the number of errors (the
// suite's test_error :count checks depend on it). It covers scripts the
// .svtest files only count, and scripts they do not check at all.
func TestErrorCountsMatchSievec(t *testing.T) {
	sievec := testenv.LookPath(t, "sievec")
	root := suiteDir(t)
	var files []string
	err := filepath.Walk(root, func(p string, info os.FileInfo, err error) error {
		rel, _ := filepath.Rel(root, p)
		dir := filepath.Base(filepath.Dir(p))
		if err == nil && strings.HasSuffix(p, ".sieve") && (dir == "errors" || dir == "recover") && inScope(rel) {
			files = append(files, p)
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(files) < 50 {
		t.Fatalf("found only %d error scripts under %s", len(files), root)
	}
	tmp := t.TempDir()
	total := 0
	for _, f := range files {
		rel, _ := filepath.Rel(root, f)
		ours := ourErrors(f)
		theirs := sievecErrors(t, sievec, tmp, f)
		total += len(theirs)
		if len(ours) != len(theirs) {
			t.Errorf("%s: %d errors, sievec reports %d\nours:\n  %s\nsievec:\n  %s", rel, len(ours), len(theirs),
				strings.Join(ours, "\n  "), strings.Join(theirs, "\n  "))
		}
	}
	if total < 2*len(files) {
		t.Fatalf("sievec reported only %d errors for %d broken scripts; is it working?", total, len(files))
	}
	t.Logf("%d scripts compared, %d errors", len(files), total)
}

// ourErrors compiles a script the way test_script_compile does, with the
// test file's directory as the base for includes.
func ourErrors(path string) []string {
	s := &suite{dir: filepath.Dir(filepath.Dir(path)), settings: map[string]string{}}
	rel, _ := filepath.Rel(s.dir, path)
	s.compile(rel)
	var out []string
	for _, e := range s.errs {
		out = append(out, e.Error())
	}
	return out
}

// sievecErrors runs sievec with every extension the suite enables and
// include directories next to the test file, and returns its error lines.
func sievecErrors(t *testing.T, sievec, tmp, path string) []string {
	base := filepath.Dir(filepath.Dir(path))
	conf := filepath.Join(tmp, "sievec.conf")
	cfg := fmt.Sprintf("plugin {\n  sieve_dir = %s\n  sieve_global_dir = %s\n}\n",
		filepath.Join(base, "included"), filepath.Join(base, "included-global"))
	if err := os.WriteFile(conf, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(sievec, "-c", conf, "-x",
		"+editheader +vacation-seconds +spamtest +spamtestplus +virustest +vnd.dovecot.duplicate",
		path, filepath.Join(tmp, "out.svbin"))
	out, _ := cmd.CombinedOutput() // a failed compile exits non-zero
	var errs []string
	for _, l := range strings.Split(string(out), "\n") {
		if strings.Contains(l, " error: ") || strings.HasPrefix(l, "error: ") {
			errs = append(errs, l)
		}
	}
	return errs
}
