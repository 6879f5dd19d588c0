package sieve

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/gomilter/gomilter/internal/testenv"
)

// corpusDir returns <repo>/../shared/testsuites/corpus/train.
func corpusDir(t testing.TB) string {
	t.Helper()
	dir, _ := os.Getwd()
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			break
		}
		if filepath.Dir(dir) == dir {
			t.Fatal("go.mod not found")
		}
		dir = filepath.Dir(dir)
	}
	p := filepath.Join(dir, "..", "shared", "testsuites", "corpus", "train")
	if _, err := os.Stat(p); err != nil {
		testenv.Missing(t, "corpus at "+p)
	}
	return p
}

// corpusSample picks n messages from each corpus group.
func corpusSample(t testing.TB, n int) []string {
	root := corpusDir(t)
	groups, _ := os.ReadDir(root)
	var out []string
	for _, g := range groups {
		files, _ := filepath.Glob(filepath.Join(root, g.Name(), "*.eml"))
		sort.Strings(files)
		if len(files) > n {
			files = files[:n]
		}
		out = append(out, files...)
	}
	if len(out) == 0 {
		t.Fatal("no corpus messages")
	}
	return out
}

// pigeonholeActions runs sieve-test and reduces its report to action keys.
func pigeonholeActions(t *testing.T, bin, conf, script, msg, from, to, exts string) []string {
	t.Helper()
	args := []string{"-c", conf, "-f", from, "-r", to}
	if exts != "" {
		args = append(args, "-x", exts)
	}
	out, err := exec.Command(bin, append(args, script, msg)...).CombinedOutput()
	if err != nil && !strings.Contains(string(out), "Performed actions") {
		return []string{"error"}
	}
	var keys []string
	for _, line := range strings.Split(string(out), "\n") {
		switch {
		case strings.HasPrefix(line, " * store message in folder: "):
			keys = append(keys, "store:"+strings.TrimPrefix(line, " * store message in folder: "))
		case strings.HasPrefix(line, " * redirect message to: "):
			keys = append(keys, "redirect:"+strings.Trim(strings.TrimPrefix(line, " * redirect message to: "), "<>"))
		case strings.HasPrefix(line, " * reject message"):
			keys = append(keys, "reject")
		case strings.HasPrefix(line, " * discard"):
			keys = append(keys, "discard")
		case strings.HasPrefix(line, " * send vacation message"):
			keys = append(keys, "vacation")
		case strings.HasPrefix(line, " * send notification"):
			keys = append(keys, "notify")
		case strings.HasPrefix(line, "        + add IMAP flags: ") && len(keys) > 0:
			fl := strings.Fields(strings.ToLower(strings.TrimPrefix(line, "        + add IMAP flags: ")))
			sort.Strings(fl)
			keys[len(keys)-1] += " flags=" + strings.Join(fl, ",")
		}
	}
	if strings.Contains(string(out), "final result: failed") || strings.Contains(string(out), "runtime error") {
		keys = append(keys, "error")
	}
	sort.Strings(keys)
	return keys
}

func ourActions(t *testing.T, script, msg, from, to, exts string) []string {
	t.Helper()
	src, _ := os.ReadFile(script)
	raw, _ := os.ReadFile(msg)
	o := Options{}
	if exts != "" {
		o.SetExtensions(exts)
	}
	s, err := Compile(src, o)
	if err != nil {
		return []string{"error"}
	}
	res, err := s.Run(context.Background(), &Input{Message: ParseMessage(raw),
		Envelope: Envelope{From: from, To: to, OrigTo: to}})
	var keys []string
	for _, a := range res.Actions {
		k := ""
		switch a.Kind {
		case ActKeep:
			k = "store:INBOX"
		case ActFileinto:
			k = "store:" + a.Mailbox
		case ActRedirect:
			k = "redirect:" + a.Address
		case ActReject, ActEreject:
			k = "reject"
		default:
			k = string(a.Kind)
		}
		if len(a.Flags) > 0 {
			fl := lowerAll(a.Flags)
			sort.Strings(fl)
			k += " flags=" + strings.Join(fl, ",")
		}
		keys = append(keys, k)
	}
	if err != nil {
		keys = append(keys, "error")
	}
	sort.Strings(keys)
	return keys
}

// TestDifferentialPigeonhole runs our scripts on corpus messages with both
// implementations and compares the actions.
func TestDifferentialPigeonhole(t *testing.T) {
	testenv.SkipShort(t, "differential test runs sieve-test many times")
	bin := testenv.LookPath(t, "sieve-test")
	// sieve-test drops to nobody: the directory must be reachable by it,
	// which t.TempDir's 0700 parent is not.
	dir, err := os.MkdirTemp("", "sievediff")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	if err := os.Chmod(dir, 0o777); err != nil {
		t.Fatal(err)
	}
	conf := filepath.Join(dir, "dovecot.conf")
	confText := "mail_uid = nobody\nmail_gid = nogroup\nmail_location = maildir:" + filepath.Join(dir, "mail") + "\nlog_path = /dev/null\n"
	if err := os.WriteFile(conf, []byte(confText), 0o644); err != nil {
		t.Fatal(err)
	}
	scripts, _ := filepath.Glob("testdata/diff/*.sieve")
	msgs := corpusSample(t, 5)
	same, total, nontrivial := 0, 0, 0
	for _, sc := range scripts {
		// sieve-test writes a compiled binary next to the script.
		src, _ := os.ReadFile(sc)
		local := filepath.Join(dir, filepath.Base(sc))
		if err := os.WriteFile(local, src, 0o644); err != nil {
			t.Fatal(err)
		}
		exts := ""
		if strings.Contains(string(src), "editheader") {
			exts = "+editheader"
		}
		for _, m := range msgs {
			from, to := "sender@example.org", "zzz+lists@example.com"
			want := pigeonholeActions(t, bin, conf, local, m, from, to, exts)
			got := ourActions(t, local, m, from, to, exts)
			total++
			if strings.Join(want, "|") != "store:INBOX" {
				nontrivial++
			}
			if strings.Join(got, "|") == strings.Join(want, "|") {
				same++
				continue
			}
			t.Errorf("%s on %s:\n got  %v\n want %v", filepath.Base(sc), filepath.Base(m), got, want)
		}
	}
	t.Logf("differential: %d/%d runs agree with Pigeonhole (%d with more than the implicit keep)", same, total, nontrivial)
	if nontrivial < total/3 {
		t.Errorf("only %d of %d runs did more than keep: the scripts test too little", nontrivial, total)
	}
}
