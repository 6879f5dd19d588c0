package postfixtest

import (
	"errors"
	"fmt"
	"net/smtp"
	"strings"
)

// authFor returns a net/smtp Auth for mech. net/smtp refuses PLAIN over
// clear text except to localhost; our servers are on 127.0.0.1, which it
// accepts.
func authFor(mech, user, pass string) (smtp.Auth, error) {
	switch strings.ToUpper(mech) {
	case "PLAIN":
		return smtp.PlainAuth("", user, pass, "127.0.0.1"), nil
	case "LOGIN":
		return &loginAuth{user: user, pass: pass}, nil
	case "CRAM-MD5":
		return smtp.CRAMMD5Auth(user, pass), nil
	}
	return nil, fmt.Errorf("postfixtest: unsupported AUTH mechanism %q", mech)
}

// loginAuth is the obsolete but still common LOGIN mechanism
// (draft-murchison-sasl-login): the server prompts "Username:" and
// "Password:" and the client answers each.
type loginAuth struct {
	user, pass string
	step       int
}

func (a *loginAuth) Start(*smtp.ServerInfo) (string, []byte, error) {
	a.step = 0
	return "LOGIN", nil, nil
}

func (a *loginAuth) Next(fromServer []byte, more bool) ([]byte, error) {
	if !more {
		return nil, nil
	}
	a.step++
	switch {
	case a.step == 1:
		return []byte(a.user), nil
	case a.step == 2:
		return []byte(a.pass), nil
	}
	return nil, errors.New("postfixtest: unexpected LOGIN challenge " + string(fromServer))
}
