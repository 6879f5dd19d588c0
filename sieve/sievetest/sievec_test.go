package sievetest

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/gomilter/gomilter/internal/testenv"
)

// sievecDiffers are scripts sievec cannot judge like the suite does.
var sievecDiffers = map[string]string{
	"extensions/include/execute/namespace.sieve": "a sub-test: requires vnd.dovecot.testsuite, which sievec lacks",
	// sievec treats the script as a personal one named after the file,
	// so including itself by name is circular at once; test_script_compile
	// gives it no location, as package sieve does.
	"extensions/include/included/circular-one.sieve": "main script location (see above)",
	"extensions/include/included/once-4.sieve":       "main script location (see above)",
}

// TestErrorCountsMatchSievec compiles every in-scope script of the suite
// with package sieve and with Pigeonhole's sievec, and compares the
// number of errors: none for the scripts the tests run, and the count
// for the broken ones under errors/ and recover/ (the suite's test_error
// :count checks depend on it). It covers scripts the .svtest files only
// count, and scripts they do not check at all.
func TestErrorCountsMatchSievec(t *testing.T) {
	sievec := testenv.LookPath(t, "sievec")
	root := suiteDir(t)
	var files []string
	broken := 0
	err := filepath.Walk(root, func(p string, info os.FileInfo, err error) error {
		rel, _ := filepath.Rel(root, p)
		rel = filepath.ToSlash(rel)
		if err != nil || !strings.HasSuffix(p, ".sieve") || !inScope(rel) || sievecDiffers[rel] != "" {
			return err
		}
		files = append(files, p)
		if dir := filepath.Base(filepath.Dir(p)); dir == "errors" || dir == "recover" {
			broken++
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if broken < 50 {
		t.Fatalf("found only %d error scripts under %s", broken, root)
	}
	tmp := t.TempDir()
	total, same := 0, 0
	for _, f := range files {
		rel, _ := filepath.Rel(root, f)
		ours := ourErrors(f)
		theirs := sievecErrors(t, sievec, tmp, f)
		total += len(theirs)
		if len(ours) != len(theirs) {
			t.Errorf("%s: %d errors, sievec reports %d\nours:\n  %s\nsievec:\n  %s", rel, len(ours), len(theirs),
				strings.Join(ours, "\n  "), strings.Join(theirs, "\n  "))
			continue
		}
		for i := range ours {
			if sievecMessage(theirs[i]) == ours[i] {
				same++
			}
		}
	}
	if total < 2*broken {
		t.Fatalf("sievec reported only %d errors for %d broken scripts; is it working?", total, broken)
	}
	// Wording matters where tests match on text; most messages are
	// Pigeonhole's own words (the rest differ in regex library details,
	// locations sievec cannot reach, deprecated extensions).
	t.Logf("%d scripts compared, %d errors, %d worded like sievec", len(files), total, same)
	if same*100 < total*95 {
		t.Errorf("only %d of %d error messages are worded like sievec's", same, total)
	}
}

var sievecPrefix = regexp.MustCompile(`^.*?: (line \d+: )?error: `)

// sievecMessage strips the script name, line and final dot of a sievec
// error line.
func sievecMessage(l string) string {
	return strings.TrimSuffix(sievecPrefix.ReplaceAllString(l, ""), ".")
}

// ourErrors compiles a script the way test_script_compile does, with the
// test file's directory as the base for includes.
func ourErrors(path string) []string {
	s := &suite{dir: filepath.Dir(filepath.Dir(path)), settings: map[string]string{}}
	rel, _ := filepath.Rel(s.dir, path)
	s.compile(rel)
	var out []string
	for _, e := range s.errs {
		out = append(out, e.Msg)
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
