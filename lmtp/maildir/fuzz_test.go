package maildir

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// FuzzParseQuotaRule: quota_rule values come from SQL or passwd-files.
func FuzzParseQuotaRule(f *testing.F) {
	for _, s := range []string{"*:bytes=1024000", "*:storage=1G", "*:storage=100M:messages=10", "Trash:storage=+100M", "*:storage=10%", "*:bytes=", "*"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, rule string) {
		n, err := ParseQuotaRule(rule)
		if err == nil && n < 0 && !strings.Contains(rule, "-") {
			t.Errorf("ParseQuotaRule(%q) = %d", rule, n)
		}
	})
}

// FuzzMaildirsize: the file lives in the user's Maildir, which the user
// (or their IMAP client) controls.
func FuzzMaildirsize(f *testing.F) {
	for _, s := range []string{"0S\n", "1000S,10C\n500 3\n-20 -1\n", "1000S\nx y\n", "\n\n\n", "10S\n99999999999999999999 1\n"} {
		f.Add(s)
	}
	dir := f.TempDir()
	f.Fuzz(func(t *testing.T, content string) {
		p := filepath.Join(dir, "maildirsize")
		os.WriteFile(p, []byte(content), 0o600)
		readMaildirsize(p)
	})
}

// FuzzFolderPath: folder names come from Sieve scripts.
func FuzzFolderPath(f *testing.F) {
	for _, s := range []string{"INBOX", "Junk", "a/b", "Entwürfe", "../x", "a..b", "&", ".hidden"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, name string) {
		p, err := FolderPath("/r", name)
		if err != nil {
			return
		}
		if p != "/r" && (filepath.Dir(p) != "/r" || !strings.HasPrefix(filepath.Base(p), ".")) {
			t.Errorf("FolderPath(%q) = %q escapes the Maildir", name, p)
		}
	})
}
