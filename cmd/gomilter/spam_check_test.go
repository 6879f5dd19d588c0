package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestSpamCheckListRules: -list-rules names the rules that run and leaves
// out a zero-scored one, which SpamAssassin does not run either.
func TestSpamCheckListRules(t *testing.T) {
	dir := t.TempDir()
	cf := "header BENCH_SUBJ Subject =~ /lottery/\nscore BENCH_SUBJ 1.5\n" +
		"body BENCH_OFF /winner/\nscore BENCH_OFF 0\n"
	if err := os.WriteFile(filepath.Join(dir, "10_bench.cf"), []byte(cf), 0o644); err != nil {
		t.Fatal(err)
	}
	var out, errb bytes.Buffer
	if code := runSpam([]string{"check", "-rules", dir, "-site", "-", "-list-rules"}, &out, &errb); code != 0 {
		t.Fatalf("exit %d, stderr %q", code, errb.String())
	}
	names := map[string]bool{}
	for _, n := range strings.Fields(out.String()) {
		names[n] = true
	}
	if !names["BENCH_SUBJ"] || names["BENCH_OFF"] {
		t.Errorf("-list-rules = %q, want BENCH_SUBJ and not BENCH_OFF", out.String())
	}
	if code := runSpam([]string{"check", "-rules", dir, "-site", "-"}, &out, &errb); code != 2 {
		t.Errorf("check without files: exit %d, want 2 (usage)", code)
	}
}
