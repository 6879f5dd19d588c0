package main

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/gomilter/gomilter/internal/bayes"
)

func writeMaildir(t *testing.T, n int, word string) string {
	t.Helper()
	dir := t.TempDir()
	for _, sub := range []string{"cur", "new", "tmp"} {
		os.MkdirAll(filepath.Join(dir, sub), 0o755)
	}
	for i := 0; i < n; i++ {
		msg := fmt.Sprintf("Message-ID: <%s%d@example.com>\nSubject: %s\n\n%s text number %d\n", word, i, word, word, i)
		os.WriteFile(filepath.Join(dir, "cur", fmt.Sprintf("%d.host:2,S", i)), []byte(msg), 0o644)
	}
	// A message still being delivered is not learned.
	os.WriteFile(filepath.Join(dir, "tmp", "partial"), []byte("Subject: x\n\nhalf"), 0o644)
	return dir
}

func TestSpamLearn(t *testing.T) {
	store := filepath.Join(t.TempDir(), "db", "bayes.db")
	spamDir := writeMaildir(t, 3, "lottery")
	run := func(args ...string) (string, int) {
		var out, errb bytes.Buffer
		code := runSpamLearn(args, &out, &errb)
		if errb.Len() > 0 {
			t.Logf("stderr: %s", errb.String())
		}
		return out.String(), code
	}
	if out, code := run("--spam", "-store", store, spamDir); code != 0 || out != "Learned tokens from 3 message(s) (3 message(s) examined)\n" {
		t.Fatalf("first learn: %q, exit %d", out, code)
	}
	if out, code := run(spamDir, "--spam", "-store", store); code != 0 || out != "Learned tokens from 0 message(s) (3 message(s) examined)\n" {
		t.Fatalf("relearn: %q, exit %d", out, code)
	}
	one := filepath.Join(spamDir, "cur", "0.host:2,S")
	if out, code := run("--ham", "-store", store, "-user", "alice", one); code != 0 || out != "Learned tokens from 1 message(s) (1 message(s) examined)\n" {
		t.Fatalf("per-user ham: %q, exit %d", out, code)
	}
	if out, code := run("--forget", "-store", store, one); code != 0 || out != "Learned tokens from 1 message(s) (1 message(s) examined)\n" {
		t.Fatalf("forget: %q, exit %d", out, code)
	}
	if out, code := run("-stats", "-store", store, "-user", "alice"); code != 0 || out != "nspam 0\nnham 1\n" {
		t.Errorf("-stats: %q, exit %d", out, code)
	}
	st, err := bayes.OpenBolt(store, bayes.BoltOptions{ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	ns, nh, _ := st.Totals(context.Background(), "")
	as, ah, _ := st.Totals(context.Background(), "alice")
	if ns != 2 || nh != 0 || as != 0 || ah != 1 {
		t.Errorf("totals global %d/%d alice %d/%d; want 2/0 and 0/1", ns, nh, as, ah)
	}
	if _, code := run("-store", store, spamDir); code != 2 {
		t.Errorf("no class: exit %d, want 2", code)
	}
	if _, code := run("--spam", "--ham", "-store", store, spamDir); code != 2 {
		t.Errorf("two classes: exit %d, want 2", code)
	}
}

// spam learn reads the same SpamAssassin configuration as the scanner:
// bayes_ignore_from in -local keeps a message out of the database.
func TestSpamLearnHonoursConfig(t *testing.T) {
	dir := t.TempDir()
	local := filepath.Join(dir, "local.cf")
	os.WriteFile(local, []byte("bayes_ignore_from *@lists.example\n"), 0o644)
	os.WriteFile(filepath.Join(dir, "1.eml"), []byte("From: a@lists.example\nMessage-ID: <1@x>\n\nlist mail\n"), 0o644)
	os.WriteFile(filepath.Join(dir, "2.eml"), []byte("From: b@else.example\nMessage-ID: <2@x>\n\nother mail\n"), 0o644)
	var out, errb bytes.Buffer
	code := runSpamLearn([]string{"--ham", "-store", filepath.Join(dir, "b.db"), "-site", "-", "-local", local, filepath.Join(dir, "1.eml"), filepath.Join(dir, "2.eml")}, &out, &errb)
	if code != 0 || out.String() != "Learned tokens from 1 message(s) (2 message(s) examined)\n" {
		t.Errorf("learn: %q (stderr %q), exit %d", out.String(), errb.String(), code)
	}
}
