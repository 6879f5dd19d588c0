package lmtp

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/gomilter/gomilter/internal/userdb"
	"github.com/gomilter/gomilter/lmtp/maildir"
)

// User is what delivery needs to know about a recipient.
type User struct {
	// Name is the canonical user name (Sieve's user, log lines).
	Name string
	// Home holds the user's Sieve scripts (~/.dovecot.sieve, ~/sieve/).
	Home string
	// MailDir is the Maildir root (INBOX's tmp/new/cur).
	MailDir string
	// LayoutFS: folders are MailDir/Name/Sub (mail_location ...:LAYOUT=fs)
	// instead of Maildir++ MailDir/.Name.Sub.
	LayoutFS bool
	// UID and GID own delivered files when the server runs as root;
	// -1 means "as the server runs".
	UID, GID int
	// QuotaBytes is the storage limit; 0 = none.
	QuotaBytes int64
}

// Backend finds recipients. LookupUser gets the address without its
// detail (user+detail@dom -> user@dom). It returns ErrUserNotFound (or
// userdb.ErrNotFound) for unknown users; any other error is temporary.
type Backend interface {
	LookupUser(ctx context.Context, addr string) (User, error)
}

// BackendFunc adapts a function to Backend.
type BackendFunc func(ctx context.Context, addr string) (User, error)

// LookupUser calls f.
func (f BackendFunc) LookupUser(ctx context.Context, addr string) (User, error) { return f(ctx, addr) }

var _ Backend = BackendFunc(nil)

// UserDB is the Backend over a Dovecot userdb (passwd-file or SQL
// user_query), so the same users serve SMTP AUTH and delivery.
type UserDB struct {
	DB userdb.UserDB
	// MailLocation is Dovecot's mail_location, used when the userdb has
	// no "mail" field: "maildir:~/Maildir" (default), or e.g.
	// "maildir:/var/vmail/%d/%n". Only the maildir: format is supported.
	MailLocation string
}

// LookupUser implements Backend.
func (u *UserDB) LookupUser(ctx context.Context, addr string) (User, error) {
	r, err := u.DB.LookupUser(ctx, addr, userdb.RequestInfo{Service: "lmtp"})
	if err != nil {
		return User{}, err
	}
	name := r.User
	if name == "" {
		name = addr
	}
	return UserFromFields(name, r.Fields, u.MailLocation)
}

// UserFromFields interprets Dovecot userdb fields: home, uid, gid, mail
// and quota_rule (quota_rule=*:bytes=N as PostfixAdmin's user_query
// returns it). An unusable entry is a permanent error, as in Dovecot.
func UserFromFields(name string, f map[string]string, location string) (User, error) {
	u := User{Name: name, Home: f["home"], UID: -1, GID: -1}
	var err error
	if u.UID, err = numericID(f["uid"]); err != nil {
		return User{}, err
	}
	if u.GID, err = numericID(f["gid"]); err != nil {
		return User{}, err
	}
	loc := f["mail"]
	if loc == "" {
		loc = location
	}
	if loc == "" {
		loc = "maildir:~/Maildir"
	}
	if u.MailDir, u.LayoutFS, err = expandLocation(loc, name, u.Home); err != nil {
		return User{}, err
	}
	if u.Home == "" {
		u.Home = u.MailDir
	}
	if rule, ok := f["quota_rule"]; ok {
		if u.QuotaBytes, err = maildir.ParseQuotaRule(rule); err != nil {
			return User{}, err
		}
	}
	return u, nil
}

func numericID(s string) (int, error) {
	if s == "" {
		return -1, nil
	}
	n, err := strconv.Atoi(s)
	if err != nil || n < 0 {
		return 0, fmt.Errorf("lmtp: uid/gid %q is not numeric", s)
	}
	return n, nil
}

// expandLocation turns "maildir:~/Maildir[:LAYOUT=fs]" into a directory,
// expanding ~ (home) and %u %n %d %h (Dovecot mail_location variables).
// INDEX=, CONTROL= and the like only move Dovecot's own files and are
// ignored; an unknown LAYOUT is an error.
func expandLocation(loc, user, home string) (string, bool, error) {
	format, rest, ok := strings.Cut(loc, ":")
	if !ok || format != "maildir" {
		return "", false, fmt.Errorf("lmtp: mail location %q: only maildir: is supported", loc)
	}
	parts := strings.Split(rest, ":")
	layoutFS := false
	for _, p := range parts[1:] {
		if v, ok := strings.CutPrefix(p, "LAYOUT="); ok {
			switch v {
			case "fs":
				layoutFS = true
			case "maildir++":
			default:
				return "", false, fmt.Errorf("lmtp: mail location %q: unsupported layout", loc)
			}
		}
	}
	local, domain, _ := strings.Cut(user, "@")
	r := strings.NewReplacer("%u", user, "%n", local, "%d", domain, "%h", home, "%Lu", strings.ToLower(user),
		"%Ln", strings.ToLower(local), "%Ld", strings.ToLower(domain), "%%", "%")
	path := r.Replace(parts[0])
	if strings.HasPrefix(path, "~") {
		if home == "" {
			return "", false, fmt.Errorf("lmtp: mail location %q needs a home", loc)
		}
		path = home + path[1:]
	}
	if !filepath.IsAbs(path) || strings.Contains(path, "/../") || strings.HasSuffix(path, "/..") {
		return "", false, fmt.Errorf("lmtp: mail location %q is not an absolute path", path)
	}
	return filepath.Clean(path), layoutFS, nil
}

// isNotFound reports a permanent "no such user".
func isNotFound(err error) bool {
	return errors.Is(err, ErrUserNotFound) || errors.Is(err, userdb.ErrNotFound)
}
