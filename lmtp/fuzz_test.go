package lmtp

import (
	"context"
	"io"
	"net"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"
)

// pipeListener hands out net.Pipe server ends.
type pipeListener struct {
	ch   chan net.Conn
	once sync.Once
	done chan struct{}
}

func newPipeListener() *pipeListener {
	return &pipeListener{ch: make(chan net.Conn), done: make(chan struct{})}
}

func (l *pipeListener) Accept() (net.Conn, error) {
	select {
	case c := <-l.ch:
		return c, nil
	case <-l.done:
		return nil, net.ErrClosed
	}
}

func (l *pipeListener) Close() error   { l.once.Do(func() { close(l.done) }); return nil }
func (l *pipeListener) Addr() net.Addr { return &net.UnixAddr{Name: "pipe", Net: "unix"} }

func (l *pipeListener) dial() net.Conn {
	a, b := net.Pipe()
	l.ch <- a
	return b
}

var fuzzSeeds = []string{
	"LHLO mx\r\nMAIL FROM:<a@example.net>\r\nRCPT TO:<alice@example.org>\r\nDATA\r\nSubject: x\r\n\r\nhi\r\n.\r\nQUIT\r\n",
	"LHLO mx\r\nMAIL FROM:<> SIZE=100 BODY=8BITMIME\r\nRCPT TO:<alice+x@example.org>\r\nRCPT TO:<nobody@example.org>\r\nRCPT TO:<alice@example.org>\r\nDATA\r\n..dot\r\n.\r\nRSET\r\nQUIT\r\n",
	"EHLO x\r\nHELO x\r\nLHLO\r\nMAIL FROM:<a>\r\nDATA\r\nBDAT 3 LAST\r\nabc",
	"LHLO mx\r\nMAIL FROM:<a@b> SMTPUTF8\r\nRCPT TO:<bob@example.org>\r\nBDAT 10\r\n0123456789BDAT 0 LAST\r\n",
	"LHLO mx\r\nMAIL FROM:<\"q u\"@b>\r\nRCPT TO:<alice@example.org> ORCPT=rfc822;x@y\r\nDATA\r\nX-Spam-Flag: YES\r\n\r\n.\r\n",
}

// FuzzSession feeds arbitrary client input to a whole session (with Sieve
// scripts active) and checks the server neither panics nor hangs.
func FuzzSession(f *testing.F) {
	for _, s := range fuzzSeeds {
		f.Add(s)
	}
	dir := f.TempDir()
	users := map[string]User{}
	for _, n := range []string{"alice", "bob"} {
		home := filepath.Join(dir, n)
		users[n+"@example.org"] = User{Name: n, Home: home, MailDir: filepath.Join(home, "Maildir"), UID: -1, GID: -1, QuotaBytes: 1 << 20}
	}
	writeFile(f, filepath.Join(dir, "alice", ".dovecot.sieve"),
		`require ["fileinto","reject","vacation","imap4flags","mailbox"];
if header :contains "X-Spam-Flag" "YES" { fileinto :create :flags "\\Seen" "Junk"; }
elsif header :contains "Subject" "r" { reject "no"; }
else { vacation "away"; }`)
	be := BackendFunc(func(_ context.Context, addr string) (User, error) {
		if u, ok := users[addr]; ok {
			return u, nil
		}
		return User{}, ErrUserNotFound
	})
	srv, err := NewServer(be, Options{Hostname: "mda.test", MaxMessageBytes: 4096, ReadTimeout: 300 * time.Millisecond,
		WriteTimeout: 300 * time.Millisecond, Sieve: &SieveOptions{}, Relay: &fakeRelay{}})
	if err != nil {
		f.Fatal(err)
	}
	l := newPipeListener()
	go srv.Serve(l)
	defer srv.Close()
	f.Fuzz(func(t *testing.T, input string) {
		c := l.dial()
		defer c.Close()
		c.SetDeadline(time.Now().Add(5 * time.Second))
		go func() {
			io.Copy(c, strings.NewReader(input+"\r\nQUIT\r\n"))
		}()
		io.Copy(io.Discard, c)
		if n := testutil.ToFloat64(srv.metrics.panics); n != 0 {
			t.Fatalf("panic recovered on %q", input)
		}
	})
}

// FuzzUserFromFields: userdb fields come from SQL rows and passwd-files.
func FuzzUserFromFields(f *testing.F) {
	f.Add("john@example.org", "/var/vmail/example.org/john", "1001", "maildir:~/Maildir", "*:bytes=1000")
	f.Add("a", "", "x", "maildir:/var/vmail/%d/%n:LAYOUT=fs", "*:storage=1G")
	f.Add("a@b", "/h", "", "mbox:~/mail", "")
	f.Fuzz(func(t *testing.T, user, home, uid, mail, quota string) {
		u, err := UserFromFields(user, map[string]string{"home": home, "uid": uid, "gid": uid, "mail": mail, "quota_rule": quota}, "")
		if err != nil {
			return
		}
		if !filepath.IsAbs(u.MailDir) || strings.Contains(u.MailDir, "/../") || strings.HasSuffix(u.MailDir, "/..") {
			t.Errorf("MailDir %q from %q/%q", u.MailDir, home, mail)
		}
	})
}
