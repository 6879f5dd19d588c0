package lmtp

import (
	"context"
	"errors"
	"path/filepath"
	"testing"

	"github.com/gomilter/gomilter/internal/userdb"
)

func TestUserDBPasswdFile(t *testing.T) {
	dir := t.TempDir()
	pf := filepath.Join(dir, "passwd")
	writeFile(t, pf, "alice@example.org:{PLAIN}x:5000:5000::/var/vmail/alice::userdb_quota_rule=*:bytes=1000000\n"+
		"bob@example.org:{PLAIN}x:5000:5000::/var/vmail/bob::userdb_mail=maildir:~/Mail userdb_quota_rule=*:storage=1M\n"+
		"carol@example.org:{PLAIN}x:5000:5000::::\n")
	db, err := userdb.OpenPasswdFile(pf, "")
	if err != nil {
		t.Fatal(err)
	}
	be := &UserDB{DB: db}
	ctx := context.Background()
	u, err := be.LookupUser(ctx, "alice@example.org")
	if err != nil {
		t.Fatal(err)
	}
	want := User{Name: "alice@example.org", Home: "/var/vmail/alice", MailDir: "/var/vmail/alice/Maildir", UID: 5000, GID: 5000, QuotaBytes: 1000000}
	if u != want {
		t.Errorf("alice = %+v, want %+v", u, want)
	}
	u, _ = be.LookupUser(ctx, "bob@example.org")
	if u.MailDir != "/var/vmail/bob/Mail" || u.QuotaBytes != 1<<20 {
		t.Errorf("bob = %+v", u)
	}
	// No home and the default ~ location: a configuration problem,
	// answered as temporary (never a bounce).
	if _, err := be.LookupUser(ctx, "carol@example.org"); err == nil || isNotFound(err) {
		t.Errorf("carol: %v, want a non-permanent error", err)
	}
	be.MailLocation = "maildir:/var/vmail/%d/%n"
	if u, err := be.LookupUser(ctx, "carol@example.org"); err != nil || u.MailDir != "/var/vmail/example.org/carol" {
		t.Errorf("carol with mail_location = %+v, %v", u, err)
	}
	if _, err := be.LookupUser(ctx, "nobody@example.org"); !isNotFound(err) {
		t.Errorf("unknown user: %v, want not found", err)
	}
}

// PostfixAdmin's user_query answers home, uid, gid and quota_rule.
func TestUserFromPostfixAdminFields(t *testing.T) {
	f := map[string]string{"home": "/var/mail/vmail/example.org/john/", "uid": "1001", "gid": "1001", "quota_rule": "*:bytes=0"}
	u, err := UserFromFields("john@example.org", f, "maildir:~/")
	if err != nil || u.MailDir != "/var/mail/vmail/example.org/john" || u.QuotaBytes != 0 || u.UID != 1001 {
		t.Errorf("got %+v, %v", u, err)
	}
	if u, err := UserFromFields("x@y", map[string]string{"home": "/h", "mail": "maildir:~/Mail:LAYOUT=fs:INDEX=/idx/%u"}, ""); err != nil || !u.LayoutFS || u.MailDir != "/h/Mail" {
		t.Errorf("LAYOUT=fs: %+v, %v", u, err)
	}
	for _, bad := range []map[string]string{{"home": "/h", "uid": "vmail"}, {"home": "/h", "mail": "mbox:~/mail"}, {"mail": "maildir:relative/x"},
		{"home": "/h", "mail": "maildir:~/M:LAYOUT=index"}} {
		if u, err := UserFromFields("x", bad, ""); err == nil {
			t.Errorf("UserFromFields(%v) = %+v, want an error", bad, u)
		}
	}
	mem := userdb.NewMemory()
	mem.SetFailure(&userdb.TempError{Err: errors.New("down")})
	if _, err := (&UserDB{DB: mem}).LookupUser(context.Background(), "x@y"); err == nil || isNotFound(err) {
		t.Errorf("temp failure: %v", err)
	}
}
