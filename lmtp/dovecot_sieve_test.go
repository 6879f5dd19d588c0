package lmtp

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"

	"github.com/gomilter/gomilter/internal/postfixtest"
	"github.com/gomilter/gomilter/internal/testenv"
	"github.com/gomilter/gomilter/internal/userdb"
)

const diffScript = `require ["fileinto", "mailbox", "imap4flags", "envelope"];
if header :contains "subject" ["free", "money", "$", "!!"] {
	fileinto :create :flags "\\Flagged" "Money";
	stop;
}
if address :domain :is "from" ["yahoo.com", "hotmail.com", "aol.com"] {
	fileinto :create :flags ["\\Seen"] "Freemail";
}
if size :over 6K { addflag "\\Answered"; fileinto :create "Big"; }
if header :matches "X-Mailer" "*Outlook*" { discard; }
`

// TestSieveLikePigeonhole runs one filing script under Dovecot's LMTP
// with Pigeonhole and under ours, over 40 corpus spam messages, and
// compares where each message went and with which flags.
func TestSieveLikePigeonhole(t *testing.T) {
	testenv.SkipShort(t, "starts Dovecot")
	dovecot := testenv.LookPath(t, "dovecot")
	dir := postfixtest.SocketDir(t)
	msgs := loadCorpus(t, corpusDir(t, "spam-1"), 40)
	var maildirs [2]string
	for i, who := range []string{"ours", "dovecot"} {
		home := filepath.Join(dir, who, "alice")
		writeFile(t, filepath.Join(home, ".dovecot.sieve"), diffScript)
		os.Chown(home, vmailID, vmailID)
		os.Chown(filepath.Join(home, ".dovecot.sieve"), vmailID, vmailID)
		writeFile(t, filepath.Join(dir, who+".passwd"), fmt.Sprintf("alice@example.org:{PLAIN}x:%d:%d::%s::\n", vmailID, vmailID, home))
		maildirs[i] = filepath.Join(home, "Maildir")
	}
	db, err := userdb.OpenPasswdFile(filepath.Join(dir, "ours.passwd"), "")
	if err != nil {
		t.Fatal(err)
	}
	socks := []string{serveUnix(t, dir, &UserDB{DB: db}, &SieveOptions{}),
		startDovecotLMTP(t, dovecot, dir, "protocol lmtp {\n  mail_plugins = $mail_plugins sieve\n}\nplugin {\n  sieve = file:~/sieve;active=~/.dovecot.sieve\n}\n")}
	for _, sock := range socks {
		for _, m := range msgs {
			if reply := lmtpSend(t, sock, m); !strings.HasPrefix(reply, "250 ") {
				t.Fatalf("%s: %q", sock, reply)
			}
		}
	}
	ours, theirs := placement(t, maildirs[0]), placement(t, maildirs[1])
	if len(theirs) < 30 {
		t.Fatalf("Dovecot stored only %d messages", len(theirs))
	}
	for id, want := range theirs {
		if got := ours[id]; got != want {
			t.Errorf("%s: ours %q, Pigeonhole %q", id, got, want)
		}
	}
	for id, got := range ours {
		if _, ok := theirs[id]; !ok {
			t.Errorf("%s: ours %q, Pigeonhole discarded it", id, got)
		}
	}
	t.Logf("%d messages placed identically (%v)", len(theirs), summary(theirs))
}

var msgIDRE = regexp.MustCompile(`(?im)^Message-ID:\s*(<[^>]+>)`)

// placement maps Message-ID to the sorted "folder:flags" of its copies.
func placement(t *testing.T, maildir string) map[string]string {
	t.Helper()
	out := map[string][]string{}
	dirs, _ := filepath.Glob(filepath.Join(maildir, ".*"))
	for _, d := range append([]string{maildir}, dirs...) {
		folder := strings.TrimPrefix(filepath.Base(d), ".")
		if d == maildir {
			folder = "INBOX"
		}
		for _, f := range files(t, d) {
			m := msgIDRE.FindStringSubmatch(readFile(t, f))
			if m == nil {
				continue
			}
			_, info, _ := strings.Cut(filepath.Base(f), ":2,")
			out[m[1]] = append(out[m[1]], folder+":"+info)
		}
	}
	res := map[string]string{}
	for id, l := range out {
		sort.Strings(l)
		res[id] = strings.Join(l, " ")
	}
	return res
}

func summary(p map[string]string) map[string]int {
	n := map[string]int{}
	for _, v := range p {
		n[v]++
	}
	return n
}
