package maildir

import (
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
)

var nameRE = regexp.MustCompile(`^(\d+)\.M(\d+)P(\d+)Q(\d+)\.[^,:/]+,S=(\d+),W=(\d+)(:2,[A-Z]*)?$`)

func TestDeliverINBOX(t *testing.T) {
	root := filepath.Join(t.TempDir(), "Maildir")
	m := &Maildir{Root: root}
	msg := []byte("Subject: hi\r\n\r\nline one\r\nline two\r\n")
	res, err := m.Deliver(Delivery{Message: msg})
	if err != nil {
		t.Fatal(err)
	}
	if filepath.Dir(res.Path) != filepath.Join(root, "new") {
		t.Errorf("stored in %s, want new/", res.Path)
	}
	got, _ := os.ReadFile(res.Path)
	want := strings.ReplaceAll(string(msg), "\r\n", "\n")
	if string(got) != want {
		t.Errorf("stored %q, want %q (LF line ends)", got, want)
	}
	sm := nameRE.FindStringSubmatch(filepath.Base(res.Path))
	if sm == nil {
		t.Fatalf("name %q does not match Dovecot's format", filepath.Base(res.Path))
	}
	if s, _ := strconv.Atoi(sm[5]); s != len(got) {
		t.Errorf("S=%d, file has %d bytes", s, len(got))
	}
	if w, _ := strconv.Atoi(sm[6]); w != len(msg) {
		t.Errorf("W=%d, CRLF size is %d", w, len(msg))
	}
	st, _ := os.Stat(res.Path)
	if st.Mode().Perm() != 0o600 {
		t.Errorf("mode %v, want 0600", st.Mode().Perm())
	}
	for _, d := range []string{"tmp", "new", "cur"} {
		st, err := os.Stat(filepath.Join(root, d))
		if err != nil || st.Mode().Perm() != 0o700 {
			t.Errorf("%s: %v %v, want a 0700 dir", d, st, err)
		}
	}
	if tmp, _ := os.ReadDir(filepath.Join(root, "tmp")); len(tmp) != 0 {
		t.Errorf("tmp/ not empty after delivery: %v", tmp)
	}
}

func TestDeliverFolderAndFlags(t *testing.T) {
	root := t.TempDir()
	m := &Maildir{Root: root}
	_, err := m.Deliver(Delivery{Folder: "Junk", Message: []byte("a\r\n")})
	if err == nil {
		t.Fatal("delivery to a missing folder without Create succeeded")
	}
	res, err := m.Deliver(Delivery{Folder: "Archive/2024", Create: true, Flags: []string{`\Seen`, `\Flagged`, "$Junk"}, Message: []byte("a\r\n")})
	if err != nil {
		t.Fatal(err)
	}
	if want := filepath.Join(root, ".Archive.2024", "cur"); filepath.Dir(res.Path) != want {
		t.Errorf("stored in %s, want %s", res.Path, want)
	}
	if !strings.HasSuffix(res.Path, ":2,FS") {
		t.Errorf("flags not in info: %s", res.Path)
	}
	if len(res.Ignored) != 1 || res.Ignored[0] != "$Junk" {
		t.Errorf("ignored = %v, want the keyword", res.Ignored)
	}
	if _, err := os.Stat(filepath.Join(root, ".Archive.2024", "maildirfolder")); err != nil {
		t.Error("maildirfolder missing:", err)
	}
	if !m.Exists("Archive.2024") || m.Exists("Nope") || !m.Exists("INBOX") {
		t.Error("Exists answers wrong")
	}
}

func TestFolderPath(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"INBOX", "/r"}, {"inbox", "/r"}, {"Junk", "/r/.Junk"}, {"a/b", "/r/.a.b"},
		{"INBOX.Sent", "/r/.Sent"}, {"Entwürfe", "/r/.Entw&APw-rfe"}, {"A&B", "/r/.A&-B"},
		{"日本語", "/r/.&ZeVnLIqe-"},
	} {
		got, err := FolderPath("/r", tc.in)
		if err != nil || got != tc.want {
			t.Errorf("FolderPath(%q) = %q, %v, want %q", tc.in, got, err, tc.want)
		}
	}
	for _, bad := range []string{"../x", "a//b", "a/../b", ".", "x\x00"} {
		if got, err := FolderPath("/r", bad); err == nil {
			t.Errorf("FolderPath(%q) = %q, want an error", bad, got)
		}
	}
}

// Concurrent deliveries never reuse a name (Dovecot would treat a reused
// name as an unexpunge).
func TestUniqueNames(t *testing.T) {
	m := &Maildir{Root: t.TempDir()}
	var wg sync.WaitGroup
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range 50 {
				if _, err := m.Deliver(Delivery{Message: []byte("x\r\n")}); err != nil {
					t.Error(err)
				}
			}
		}()
	}
	wg.Wait()
	files, _ := os.ReadDir(filepath.Join(m.Root, "new"))
	if len(files) != 400 {
		t.Errorf("%d files, want 400", len(files))
	}
}

func TestParseQuotaRule(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want int64
	}{
		{"*:bytes=1024000", 1024000}, {"*:storage=1G", 1 << 30}, {"*:storage=100", 102400},
		{"*:bytes=0", 0}, {"*:storage=10M:messages=5", 10 << 20}, {"Trash:storage=+100M", 0},
		{"*:messages=10", 0}, {"*:storage=10%", 0},
	} {
		got, err := ParseQuotaRule(tc.in)
		if err != nil || got != tc.want {
			t.Errorf("ParseQuotaRule(%q) = %d, %v, want %d", tc.in, got, err, tc.want)
		}
	}
	if _, err := ParseQuotaRule("*:bytes=12Q"); err == nil {
		t.Error("bad unit accepted")
	}
}

func TestQuotaUsage(t *testing.T) {
	m := &Maildir{Root: t.TempDir()}
	q := &QuotaCache{}
	for _, f := range []string{"", "Junk"} {
		if _, err := m.Deliver(Delivery{Folder: f, Create: true, Message: []byte("12345\r\n")}); err != nil {
			t.Fatal(err)
		}
	}
	b, c, err := q.Usage(m.Root)
	if err != nil || b != 12 || c != 2 {
		t.Fatalf("walk usage = %d bytes %d msgs, %v; want 12, 2", b, c, err)
	}
	q.Added(m, 100)
	if b, c, _ := q.Usage(m.Root); b != 112 || c != 3 {
		t.Errorf("after Added: %d %d, want 112 3", b, c)
	}
	os.WriteFile(filepath.Join(m.Root, "maildirsize"), []byte("1000S\n500 3\n-20 -1\n"), 0o600)
	if b, c, _ := q.Usage(m.Root); b != 480 || c != 2 {
		t.Errorf("maildirsize usage = %d %d, want 480 2", b, c)
	}
	q.Added(m, 20)
	if b, _, _ := q.Usage(m.Root); b != 500 {
		t.Errorf("maildirsize not appended: %d", b)
	}
}

func TestOverQuota(t *testing.T) {
	for _, tc := range []struct {
		used, size, limit int64
		want              bool
	}{
		{0, 10, 0, false}, {50, 50, 100, false}, {95, 10, 100, false}, {95, 20, 100, true},
		{100, 1, 100, true}, {0, 200, 100, true},
	} {
		if got := OverQuota(tc.used, tc.size, tc.limit); got != tc.want {
			t.Errorf("OverQuota(%d, %d, %d) = %v, want %v", tc.used, tc.size, tc.limit, got, tc.want)
		}
	}
}

// A reader scanning new/ while deliveries run never sees a partial file:
// every name it finds already has its full S= size.
func TestDeliveryIsAtomic(t *testing.T) {
	m := &Maildir{Root: t.TempDir()}
	if _, err := m.Deliver(Delivery{Message: []byte("x\r\n")}); err != nil {
		t.Fatal(err)
	}
	body := []byte("Subject: big\r\n\r\n" + strings.Repeat("0123456789abcdefghij\r\n", 20000))
	done := make(chan struct{})
	go func() {
		defer close(done)
		for range 40 {
			if _, err := m.Deliver(Delivery{Message: body}); err != nil {
				t.Error(err)
				return
			}
		}
	}()
	checked := 0
	for running := true; running; {
		select {
		case <-done:
			running = false
		default:
		}
		entries, _ := os.ReadDir(filepath.Join(m.Root, "new"))
		for _, e := range entries {
			sm := nameRE.FindStringSubmatch(e.Name())
			st, err := os.Stat(filepath.Join(m.Root, "new", e.Name()))
			if sm == nil || err != nil {
				t.Fatalf("%s: %v", e.Name(), err)
			}
			if want, _ := strconv.ParseInt(sm[5], 10, 64); st.Size() != want {
				t.Fatalf("%s seen with %d bytes", e.Name(), st.Size())
			}
			checked++
		}
	}
	if checked == 0 {
		t.Error("nothing checked")
	}
}

// A failed rename leaves nothing behind in tmp/ and reports the error.
func TestFailedDeliveryLeavesNoTemp(t *testing.T) {
	m := &Maildir{Root: t.TempDir()}
	for _, d := range []string{"tmp", "cur"} {
		os.MkdirAll(filepath.Join(m.Root, d), 0o700)
	}
	os.WriteFile(filepath.Join(m.Root, "new"), nil, 0o600) // not a directory
	if _, err := m.Deliver(Delivery{Message: []byte("x\r\n")}); err == nil {
		t.Fatal("delivery into a broken Maildir succeeded")
	}
	if tmp, _ := os.ReadDir(filepath.Join(m.Root, "tmp")); len(tmp) != 0 {
		t.Errorf("tmp/ keeps %d files", len(tmp))
	}
}

func TestLayoutFS(t *testing.T) {
	m := &Maildir{Root: t.TempDir(), LayoutFS: true}
	res, err := m.Deliver(Delivery{Folder: "Archive/2024", Create: true, Message: []byte("x\r\n")})
	if err != nil {
		t.Fatal(err)
	}
	if want := filepath.Join(m.Root, "Archive", "2024", "new"); filepath.Dir(res.Path) != want {
		t.Errorf("stored in %s, want %s", res.Path, want)
	}
	if _, err := os.Stat(filepath.Join(m.Root, "Archive", "2024", "maildirfolder")); err == nil {
		t.Error("maildirfolder written in LAYOUT=fs")
	}
	if !m.Exists("Archive/2024") || m.Exists("Archive.2024") {
		t.Error("Exists wrong for LAYOUT=fs")
	}
	m.Deliver(Delivery{Message: []byte("12345\r\n")})
	if b, c, err := (&QuotaCache{}).Usage(m.Root); err != nil || b != 8 || c != 2 {
		t.Errorf("usage %d %d %v, want 8 bytes in 2 messages", b, c, err)
	}
}
