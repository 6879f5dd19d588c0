package dovecotauth

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/gomilter/gomilter/internal/passwd"
)

// normalise applies auth_username_format %Lu and auth_username_chars.
func (s *Server) normalise(user string) (string, bool) {
	if user == "" || len(user) > 255 {
		return "", false
	}
	for i := 0; i < len(user); i++ {
		if !s.chars[user[i]] {
			return "", false
		}
	}
	if !s.opts.KeepUsernameCase {
		user = strings.ToLower(user)
	}
	return user, true
}

// lookup normalises the name, applies the per-user penalty, and asks the
// Authenticator (bounded by LookupTimeout).
func (r *request) lookup(ctx context.Context, typed string) (Credentials, error) {
	s := r.c.s
	user, ok := s.normalise(typed)
	if !ok {
		return Credentials{}, failCredentials
	}
	r.user = user
	r.wait(ctx, s.penalty.delay(r.cmd.info.RemoteIP, user)-r.delayed, "user")
	lctx, cancel := context.WithTimeout(ctx, s.opts.LookupTimeout)
	defer cancel()
	cred, err := s.auth.Lookup(lctx, user, r.cmd.info)
	if err != nil {
		if errors.Is(err, ErrUnknownUser) {
			return Credentials{}, failCredentials
		}
		return Credentials{}, &TempError{Err: err}
	}
	if _, nodelay := cred.Fields["nodelay"]; nodelay {
		r.noDelay = true
	}
	if _, nologin := cred.Fields["nologin"]; nologin {
		return Credentials{}, failCredentials
	}
	return cred, nil
}

// finish builds the success result from the looked-up credentials.
func (r *request) finish(cred Credentials, typed string) *result {
	res := &result{user: r.user}
	if cred.User != "" {
		res.user = cred.User
	}
	if typed != res.user {
		res.original = typed
	}
	return res
}

// verifyPlain is the common end of PLAIN and LOGIN.
func (r *request) verifyPlain(ctx context.Context, typed, password string) (*result, error) {
	r.cmd.info.Password = password
	cred, err := r.lookup(ctx, typed)
	if err != nil {
		return nil, err
	}
	if cred.NoPassword {
		return r.finish(cred, typed), nil
	}
	ok, err := r.c.s.checkPassword(cred, r.user, password)
	if err != nil {
		// Like Dovecot, an unusable stored hash (unknown scheme, bad data)
		// is an internal failure, not a wrong password.
		return nil, &TempError{Err: err}
	}
	if !ok {
		return nil, failCredentials
	}
	return r.finish(cred, typed), nil
}

// checkPassword verifies password against the stored hash, consulting the
// verified-credential cache first. An error means the stored value is
// unusable.
func (s *Server) checkPassword(cred Credentials, user, password string) (bool, error) {
	if cred.Password == "" {
		return false, nil
	}
	var key cacheKey
	if s.cache != nil {
		key = s.cache.key(user, password, cred.Password)
		if s.cache.hit(key) {
			s.metrics.cacheHits.Inc()
			return true, nil
		}
	}
	ok, err := passwd.Verify(cred.Password, cred.DefaultScheme, password, user)
	if err != nil {
		return false, fmt.Errorf("stored password of %s: %w", user, err)
	}
	if ok && s.cache != nil {
		s.cache.add(key)
	}
	return ok, nil
}

// storedHash parses the stored password for challenge mechanisms.
func storedHash(cred Credentials) (passwd.Hash, bool) {
	if cred.Password == "" {
		return passwd.Hash{}, false
	}
	h, err := passwd.Parse(cred.Password, cred.DefaultScheme)
	return h, err == nil
}
