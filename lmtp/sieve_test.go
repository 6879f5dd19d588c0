package lmtp

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
)

// fakeRelay records what Sieve sends.
type fakeRelay struct {
	mu   sync.Mutex
	sent []sentMsg
}

type sentMsg struct {
	from string
	to   []string
	msg  string
}

func (f *fakeRelay) Send(_ context.Context, from string, to []string, msg []byte) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.sent = append(f.sent, sentMsg{from, to, string(msg)})
	return nil
}

func (f *fakeRelay) all() []sentMsg {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]sentMsg(nil), f.sent...)
}

// deliverOne runs one single-recipient transaction and returns the reply.
func (e *testEnv) deliverOne(from, rcpt, msg string, want string) {
	e.t.Helper()
	c := e.dial()
	c.send("LHLO mx", "MAIL FROM:<"+from+">", "RCPT TO:<"+rcpt+">", "DATA")
	c.expect("250 *")
	c.expect("250 *")
	c.expect("250 *")
	c.expect("354 *")
	c.data(msg)
	c.expect(want)
	c.send("QUIT")
	c.expect("221 *")
}

func (e *testEnv) activeScript(user, src string) {
	e.t.Helper()
	home := e.users[user].Home
	writeFile(e.t, filepath.Join(home, "sieve", "main.sieve"), src)
	os.Remove(filepath.Join(home, ".dovecot.sieve"))
	if err := os.Symlink("sieve/main.sieve", filepath.Join(home, ".dovecot.sieve")); err != nil {
		e.t.Fatal(err)
	}
}

const spamMsg = "From: spammer@example.net\r\nTo: alice@example.org\r\nSubject: buy\r\nX-Spam-Flag: YES\r\n\r\ncheap\r\n"

func TestSieveFileintoWithFlags(t *testing.T) {
	e := newTestEnv(t, nil)
	e.activeScript("alice@example.org", `require ["fileinto", "imap4flags", "mailbox"];
if header :contains "X-Spam-Flag" "YES" { fileinto :create :flags "\\Seen" "Junk"; stop; }
if header :contains "Subject" "nofolder" { fileinto "Missing"; }`)
	e.deliverOne("spammer@example.net", "alice@example.org", spamMsg, "250 2.0.0 <alice@example.org> * Saved")
	md := e.users["alice@example.org"].MailDir
	junk := files(t, filepath.Join(md, ".Junk"))
	if len(junk) != 1 || !strings.HasSuffix(junk[0], ":2,S") || filepath.Base(filepath.Dir(junk[0])) != "cur" {
		t.Fatalf("Junk holds %v, want one seen message in cur/", junk)
	}
	if n := len(files(t, md)); n != 0 {
		t.Errorf("INBOX has %d messages, want 0 (fileinto cancels keep)", n)
	}
	// A fileinto to a missing folder without :create lands in INBOX.
	e.deliverOne("a@example.net", "alice@example.org", "Subject: nofolder\r\n\r\nx\r\n", "250 2.0.0 *")
	if n := len(files(t, md)); n != 1 {
		t.Errorf("INBOX has %d messages, want the fallback copy", n)
	}
	if _, err := os.Stat(filepath.Join(md, ".Missing")); err == nil {
		t.Error("folder created without :create")
	}
	// The script is recompiled when it changes (cache by mtime/size).
	e.activeScript("alice@example.org", `require "fileinto"; fileinto "Junk";`)
	e.deliverOne("a@example.net", "alice@example.org", "Subject: hi\r\n\r\nx\r\n", "250 2.0.0 *")
	if n := len(files(t, filepath.Join(md, ".Junk"))); n != 2 {
		t.Errorf("Junk has %d, want 2 after the script changed", n)
	}
}

func TestSieveDiscardAndReject(t *testing.T) {
	e := newTestEnv(t, nil)
	e.activeScript("alice@example.org", `require "reject";
if header :is "Subject" "drop" { discard; stop; }
if header :is "Subject" "refuse" { reject "I do not want this.
Really."; }`)
	md := e.users["alice@example.org"].MailDir
	e.deliverOne("a@example.net", "alice@example.org", "Subject: drop\r\n\r\nx\r\n", "250 2.0.0 *")
	e.deliverOne("a@example.net", "alice@example.org", "Subject: refuse\r\n\r\nx\r\n",
		"550 5.7.1 <alice@example.org> I do not want this. Really.")
	if n := len(files(t, md)); n != 0 {
		t.Errorf("%d messages stored, want none", n)
	}
	e.deliverOne("a@example.net", "alice@example.org", "Subject: other\r\n\r\nx\r\n", "250 2.0.0 *")
	if n := len(files(t, md)); n != 1 {
		t.Errorf("%d messages stored, want the implicit keep", n)
	}
}

// A runtime error performs the implicit keep of the message as received.
func TestSieveRuntimeErrorKeeps(t *testing.T) {
	e := newTestEnv(t, func(o *Options) { o.Sieve.Options.MaxActions = 1 })
	e.activeScript("alice@example.org", `require "fileinto"; fileinto :create "A"; fileinto :create "B";`)
	e.deliverOne("a@example.net", "alice@example.org", "Subject: x\r\n\r\nx\r\n", "250 2.0.0 *")
	md := e.users["alice@example.org"].MailDir
	if n := len(files(t, md)); n != 1 {
		t.Errorf("INBOX has %d, want the implicit keep", n)
	}
	if _, err := os.Stat(filepath.Join(md, ".A")); err == nil {
		t.Error("actions of the failed script were performed")
	}
	// A script that does not compile is skipped: implicit keep too.
	e.activeScript("alice@example.org", `this is not sieve`)
	e.deliverOne("a@example.net", "alice@example.org", "Subject: y\r\n\r\nx\r\n", "250 2.0.0 *")
	if n := len(files(t, md)); n != 2 {
		t.Errorf("INBOX has %d, want 2", n)
	}
}

func TestSieveRedirectAndVacation(t *testing.T) {
	relay := &fakeRelay{}
	e := newTestEnv(t, func(o *Options) { o.Relay = relay })
	e.activeScript("alice@example.org", `require ["vacation", "copy"];
redirect :copy "archive@example.com";
vacation :days 3 :subject "Away" "I am away.";`)
	msg := "From: Sender <sender@example.net>\r\nTo: alice@example.org\r\nSubject: hi\r\nMessage-ID: <x1@example.net>\r\n\r\nhello\r\n"
	e.deliverOne("sender@example.net", "alice@example.org", msg, "250 2.0.0 *")
	e.deliverOne("sender@example.net", "alice@example.org", strings.Replace(msg, "x1@", "x2@", 1), "250 2.0.0 *")
	sent := relay.all()
	var redirects, replies int
	for _, s := range sent {
		switch {
		case len(s.to) == 1 && s.to[0] == "archive@example.com":
			redirects++
			if s.from != "sender@example.net" || !strings.Contains(s.msg, "X-Sieve-Redirected-From: alice@example.org") {
				t.Errorf("redirect envelope/headers wrong: %+v", s)
			}
		case len(s.to) == 1 && s.to[0] == "sender@example.net":
			replies++
			if s.from != "" || !strings.Contains(s.msg, "Subject: Away") || !strings.Contains(s.msg, "Auto-Submitted: auto-replied") {
				t.Errorf("vacation reply wrong: %+v", s)
			}
		default:
			t.Errorf("unexpected message %+v", s)
		}
	}
	if redirects != 2 || replies != 1 {
		t.Errorf("redirects %d (want 2), vacation replies %d (want 1: once per period)", redirects, replies)
	}
	if n := len(files(t, e.users["alice@example.org"].MailDir)); n != 2 {
		t.Errorf("INBOX has %d, want 2 (redirect :copy keeps)", n)
	}
}

// Without a relay, redirect keeps the message instead of losing it.
func TestSieveRedirectWithoutRelayKeeps(t *testing.T) {
	e := newTestEnv(t, nil)
	e.activeScript("alice@example.org", `redirect "elsewhere@example.com";`)
	e.deliverOne("a@example.net", "alice@example.org", "Subject: x\r\n\r\nx\r\n", "250 2.0.0 *")
	if n := len(files(t, e.users["alice@example.org"].MailDir)); n != 1 {
		t.Errorf("INBOX has %d, want 1", n)
	}
}

func TestSieveBeforeAndDefault(t *testing.T) {
	dir := t.TempDir()
	writeFile(t, filepath.Join(dir, "before", "10-spam.sieve"), `require ["fileinto","mailbox"]; if header :contains "X-Spam-Flag" "YES" { fileinto :create "Spam"; stop; }`)
	writeFile(t, filepath.Join(dir, "default.sieve"), `require ["fileinto","mailbox"]; fileinto :create "Default";`)
	e := newTestEnv(t, func(o *Options) {
		o.Sieve.Before = []string{filepath.Join(dir, "before")}
		o.Sieve.Default = filepath.Join(dir, "default.sieve")
	})
	md := e.users["bob@example.org"].MailDir
	e.deliverOne("a@example.net", "bob@example.org", strings.Replace(spamMsg, "alice", "bob", 1), "250 2.0.0 *")
	e.deliverOne("a@example.net", "bob@example.org", "Subject: ham\r\n\r\nx\r\n", "250 2.0.0 *")
	if n := len(files(t, filepath.Join(md, ".Spam"))); n != 1 {
		t.Errorf("Spam has %d, want 1 (sieve_before)", n)
	}
	if n := len(files(t, filepath.Join(md, ".Default"))); n != 1 {
		t.Errorf("Default has %d, want 1 (sieve_default for a user without script)", n)
	}
}

// imap4flags on the implicit keep become Maildir info flags in cur/.
func TestSieveImplicitKeepFlags(t *testing.T) {
	e := newTestEnv(t, nil)
	e.activeScript("alice@example.org", `require "imap4flags"; addflag ["\\Flagged", "\\Seen", "$Label1"];`)
	e.deliverOne("a@example.net", "alice@example.org", "Subject: x\r\n\r\nx\r\n", "250 2.0.0 *")
	got := files(t, e.users["alice@example.org"].MailDir)
	if len(got) != 1 || !strings.HasSuffix(got[0], ":2,FS") || !strings.Contains(got[0], "/cur/") {
		t.Errorf("stored as %v, want cur/...:2,FS", got)
	}
}

func TestSaveToDetailMailbox(t *testing.T) {
	e := newTestEnv(t, func(o *Options) { o.SaveToDetailMailbox = true })
	md := e.users["alice@example.org"].MailDir
	os.MkdirAll(filepath.Join(md, ".Lists", "cur"), 0o700)
	e.deliverOne("a@example.net", "alice+Lists@example.org", "Subject: x\r\n\r\nx\r\n", "250 2.0.0 *")
	e.deliverOne("a@example.net", "alice+Nope@example.org", "Subject: x\r\n\r\nx\r\n", "250 2.0.0 *")
	if n := len(files(t, filepath.Join(md, ".Lists"))); n != 1 {
		t.Errorf("Lists has %d, want 1", n)
	}
	if n := len(files(t, md)); n != 1 {
		t.Errorf("INBOX has %d, want 1 (missing detail folder)", n)
	}
}

// Over quota, a message Sieve discards is still accepted (nothing stored).
func TestQuotaAfterSieve(t *testing.T) {
	e := newTestEnv(t, nil)
	u := e.users["alice@example.org"]
	u.QuotaBytes = 100
	e.users["alice@example.org"] = u
	writeFile(t, filepath.Join(u.MailDir, "maildirsize"), "100S\n100 1\n")
	e.activeScript("alice@example.org", `if header :is "Subject" "drop" { discard; }`)
	e.deliverOne("a@example.net", "alice@example.org", "Subject: drop\r\n\r\nx\r\n", "250 2.0.0 *")
	e.deliverOne("a@example.net", "alice@example.org", "Subject: keep\r\n\r\nx\r\n", "552 5.2.2 *")
}

// A reject after an earlier script already answered the sender (here a
// sieve_before vacation) is silent: the message is dropped, not refused.
func TestSieveSilentRejectAfterResponse(t *testing.T) {
	before := filepath.Join(t.TempDir(), "before.sieve")
	writeFile(t, before, `require "vacation"; vacation :days 1 "I am away.";`)
	e := newTestEnv(t, func(o *Options) { o.Sieve.Before = []string{before} })
	e.activeScript("alice@example.org", `require "reject"; reject "no thanks";`)
	e.deliverOne("a@example.net", "alice@example.org", "Subject: x\r\n\r\nx\r\n", "250 2.0.0 *")
	if n := len(files(t, e.users["alice@example.org"].MailDir)); n != 0 {
		t.Errorf("%d messages stored, want the silent reject to drop it", n)
	}
}
