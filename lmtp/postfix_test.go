package lmtp

import (
	"bytes"
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/gomilter/gomilter/internal/postfixtest"
	"github.com/gomilter/gomilter/internal/testenv"
	"github.com/gomilter/gomilter/internal/userdb"
)

// The mail user owning the Maildirs: no /etc/passwd entry needed.
const vmailID = 5000

// TestPostfixToMaildirReadByDovecot: a private Postfix hands mail for
// example.org to our LMTP server (virtual_transport = lmtp:unix:...),
// which stores it per the passwd-file userdb and alice's Sieve script;
// then a private Dovecot, configured with the same passwd-file, reads
// INBOX and the Sieve-filed Junk folder with doveadm. An unknown user
// bounces with Dovecot's 550 5.1.1 text.
func TestPostfixToMaildirReadByDovecot(t *testing.T) {
	testenv.SkipShort(t, "starts Postfix and Dovecot")
	doveadm := testenv.LookPath(t, "doveadm")
	dovecot := testenv.LookPath(t, "dovecot")
	dir := postfixtest.SocketDir(t)
	home := filepath.Join(dir, "vmail", "alice")
	pwfile := filepath.Join(dir, "passwd")
	writeFile(t, pwfile, fmt.Sprintf("alice@example.org:{PLAIN}secret:%d:%d::%s::\ncarol@example.org:{PLAIN}secret:%d:%d::%s::\n",
		vmailID, vmailID, home, vmailID, vmailID, filepath.Join(dir, "vmail", "carol")))
	writeFile(t, filepath.Join(home, ".dovecot.sieve"), `require ["fileinto", "mailbox", "copy", "vacation"];
if header :contains "X-Spam-Flag" "YES" { fileinto :create "Junk"; stop; }
redirect :copy "archive@remote.example";
vacation :days 1 :subject "Out of office" "Back on Monday.";`)
	relay := &lateRelay{}
	sock := startOnSocket(t, dir, pwfile, relay)

	inst := postfixtest.Start(t, postfixtest.Options{
		VirtualDomains: []string{"example.org"},
		MainCF:         map[string]string{"virtual_transport": "lmtp:unix:" + sock},
	})
	// Sieve's outgoing mail goes back into the same Postfix, which relays
	// it to its sink.
	relay.set(&SMTPRelay{Addr: inst.SMTPAddr(), Helo: "mda.test"})
	ham := "From: Bob <bob@example.net>\r\nTo: alice@example.org\r\nSubject: lunch tomorrow\r\nMessage-ID: <ham1@example.net>\r\n\r\nSee you at noon.\r\n"
	spam := "From: x@example.net\r\nTo: alice@example.org\r\nSubject: cheap pills\r\nX-Spam-Flag: YES\r\nMessage-ID: <spam1@example.net>\r\n\r\nBuy now.\r\n"
	for _, m := range []string{ham, spam} {
		if err := inst.Send(t, "bob@example.net", []string{"alice@example.org"}, []byte(m)); err != nil {
			t.Fatal(err)
		}
	}
	// Postfix carries several recipients of one domain in one LMTP
	// transaction: per-recipient replies, no Delivered-To.
	team := "From: Bob <bob@example.net>\r\nTo: team@example.org\r\nSubject: team meeting\r\nMessage-ID: <team1@example.net>\r\n\r\nAt 3.\r\n"
	if err := inst.Send(t, "bob@example.net", []string{"alice@example.org", "carol@example.org", "nobody@example.org"}, []byte(team)); err != nil {
		t.Fatal(err)
	}
	for _, l := range inst.WaitLogCount(t, "Saved)", 4, 30*time.Second) {
		if !strings.Contains(l, "postfix/lmtp") || !strings.Contains(l, "status=sent (250 2.0.0 <") {
			t.Errorf("Postfix log line for our reply: %s", l)
		}
	}
	bounced := inst.WaitLog(t, "status=bounced", 30*time.Second)
	if !strings.Contains(bounced, "550 5.1.1 <nobody@example.org> User doesn't exist: nobody@example.org") {
		t.Errorf("bounce reason: %s", bounced)
	}
	checkOwnership(t, filepath.Join(home, "Maildir"))

	conf := startDovecot(t, dovecot, dir, pwfile)
	inbox := doveadmFetch(t, doveadm, conf, "INBOX")
	if !strings.Contains(inbox, "Subject: lunch tomorrow") || !strings.Contains(inbox, "Subject: team meeting") || strings.Contains(inbox, "cheap pills") {
		t.Errorf("Dovecot's INBOX:\n%s", inbox)
	}
	carol := doveadmFetchUser(t, doveadm, conf, "carol@example.org", "INBOX")
	if !strings.Contains(carol, "Subject: team meeting") || strings.Contains(carol, "Delivered-To:") {
		t.Errorf("carol's INBOX (multi-recipient transaction):\n%s", carol)
	}
	if !strings.Contains(inbox, "Delivered-To: alice@example.org") || !strings.Contains(inbox, "Return-Path: <bob@example.net>") {
		t.Errorf("INBOX message lacks Dovecot's LMTP headers:\n%s", inbox)
	}
	if junk := doveadmFetch(t, doveadm, conf, "Junk"); !strings.Contains(junk, "Subject: cheap pills") {
		t.Errorf("Dovecot's Junk:\n%s", junk)
	}
	checkSieveMail(t, inst)
}

// checkSieveMail: the redirect copy keeps the original sender and gets
// X-Sieve-Redirected-From; the vacation reply comes from <> to the sender.
func checkSieveMail(t *testing.T, inst *postfixtest.Instance) {
	t.Helper()
	var redirect, vacation *postfixtest.SinkMessage
	deadline := time.Now().Add(30 * time.Second)
	for (redirect == nil || vacation == nil) && time.Now().Before(deadline) {
		for _, m := range inst.Sink().Messages() {
			switch {
			case len(m.To) == 1 && m.To[0] == "archive@remote.example" && strings.Contains(string(m.Data), "lunch tomorrow"):
				redirect = &m
			case len(m.To) == 1 && m.To[0] == "bob@example.net" && strings.Contains(string(m.Data), "Subject: Out of office"):
				vacation = &m
			}
		}
		time.Sleep(20 * time.Millisecond)
	}
	if redirect == nil || redirect.From != "bob@example.net" || !strings.Contains(string(redirect.Data), "X-Sieve-Redirected-From: alice@example.org") {
		t.Errorf("redirect copy missing or wrong (sink has %d messages)", inst.Sink().Len())
	}
	if vacation == nil || vacation.From != "" || !strings.Contains(string(vacation.Data), "Auto-Submitted: auto-replied (vacation)") {
		t.Errorf("vacation reply missing or wrong (sink has %d messages)", inst.Sink().Len())
	}
}

// lateRelay is a Relay whose target is known only once Postfix runs.
type lateRelay struct{ r atomic.Pointer[SMTPRelay] }

func (l *lateRelay) set(r *SMTPRelay) { l.r.Store(r) }

func (l *lateRelay) Send(ctx context.Context, from string, to []string, msg []byte) error {
	r := l.r.Load()
	if r == nil {
		return fmt.Errorf("relay not ready")
	}
	return r.Send(ctx, from, to, msg)
}

// startOnSocket serves our LMTP on a unix socket Postfix can reach.
func startOnSocket(t *testing.T, dir, pwfile string, relay Relay) string {
	t.Helper()
	db, err := userdb.OpenPasswdFile(pwfile, "")
	if err != nil {
		t.Fatal(err)
	}
	srv, err := NewServer(&UserDB{DB: db}, Options{Hostname: "mda.test", Sieve: &SieveOptions{}, Relay: relay})
	if err != nil {
		t.Fatal(err)
	}
	sock := filepath.Join(dir, "lmtp.sock")
	l, err := net.Listen("unix", sock)
	if err != nil {
		t.Fatal(err)
	}
	os.Chmod(sock, 0o666)
	go srv.Serve(l)
	t.Cleanup(func() { srv.Close() })
	return sock
}

// checkOwnership: delivered files belong to the mail user, mode 0600.
func checkOwnership(t *testing.T, root string) {
	t.Helper()
	n := 0
	filepath.Walk(root, func(p string, fi os.FileInfo, err error) error {
		if err != nil {
			return err
		}
		st := fi.Sys().(*syscall.Stat_t)
		if st.Uid != vmailID || st.Gid != vmailID {
			t.Errorf("%s owned by %d:%d, want %d", p, st.Uid, st.Gid, vmailID)
		}
		if fi.Mode().IsRegular() {
			n++
			if strings.Contains(p, "/new/") && fi.Mode().Perm() != 0o600 {
				t.Errorf("%s mode %v", p, fi.Mode().Perm())
			}
		}
		return nil
	})
	if n < 2 {
		t.Errorf("only %d files under %s", n, root)
	}
}

// startDovecot runs a private IMAP-only Dovecot on the same passwd-file
// and returns its config path (for doveadm -c).
func startDovecot(t *testing.T, dovecot, dir, pwfile string) string {
	t.Helper()
	port := freePort(t)
	conf := filepath.Join(dir, "dovecot.conf")
	writeFile(t, conf, fmt.Sprintf(`instance_name = gomilter-lmtp-test-%[3]d
base_dir = %[1]s/dovecot-run
state_dir = %[1]s/dovecot-state
log_path = %[1]s/dovecot.log
protocols = imap
listen = 127.0.0.1
ssl = no
mail_location = maildir:~/Maildir
first_valid_uid = 1000
passdb {
  driver = passwd-file
  args = %[2]s
}
userdb {
  driver = passwd-file
  args = %[2]s
}
service imap-login {
  inet_listener imap {
    address = 127.0.0.1
    port = %[3]d
  }
}
`, dir, pwfile, port))
	cmd := exec.Command(dovecot, "-F", "-c", conf)
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		cmd.Process.Signal(syscall.SIGTERM)
		done := make(chan struct{})
		go func() { cmd.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			cmd.Process.Kill()
			<-done
		}
	})
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	for {
		c, err := net.DialTimeout("tcp", fmt.Sprintf("127.0.0.1:%d", port), time.Second)
		if err == nil {
			c.Close()
			return conf
		}
		select {
		case <-ctx.Done():
			log, _ := os.ReadFile(filepath.Join(dir, "dovecot.log"))
			t.Fatalf("dovecot did not start: %v\n%s", err, log)
		case <-time.After(50 * time.Millisecond):
		}
	}
}

func doveadmFetch(t *testing.T, doveadm, conf, mailbox string) string {
	t.Helper()
	return doveadmFetchUser(t, doveadm, conf, "alice@example.org", mailbox)
}

func doveadmFetchUser(t *testing.T, doveadm, conf, user, mailbox string) string {
	t.Helper()
	var out bytes.Buffer
	cmd := exec.Command(doveadm, "-c", conf, "fetch", "-u", user, "text", "mailbox", mailbox, "all")
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Run(); err != nil {
		t.Fatalf("doveadm fetch %s: %v\n%s", mailbox, err, out.String())
	}
	if strings.Contains(out.String(), "Error:") || strings.Contains(out.String(), "Warning:") {
		t.Errorf("doveadm complained about our Maildir:\n%s", out.String())
	}
	return out.String()
}

func freePort(t *testing.T) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}
