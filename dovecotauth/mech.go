package dovecotauth

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"log/slog"
	"math/big"
	"strings"
	"time"

	"github.com/gomilter/gomilter/internal/passwd"
	"github.com/gomilter/gomilter/internal/userdb"
)

// mechState is one mechanism's exchange. next gets the client's data (has
// is false for an AUTH without resp=) and returns either a challenge to send
// as CONT, a result, or an error (*failure, or anything else = temporary).
type mechState interface {
	next(ctx context.Context, data []byte, has bool) ([]byte, *result, error)
}

// mechanism describes one offered SASL mechanism.
type mechanism struct {
	name  string
	flags []string // MECH flags as Dovecot 2.3 announces them
	start func(r *request) mechState
	// canServe reports whether a stored scheme can feed this mechanism;
	// nil for plaintext mechanisms (every scheme works).
	canServe func(scheme string) bool
}

var allMechanisms = []mechanism{
	{name: "PLAIN", flags: []string{"plaintext"}, start: func(r *request) mechState { return &plainState{r: r} }},
	{name: "LOGIN", flags: []string{"plaintext"}, start: func(r *request) mechState { return &loginState{r: r} }},
	{name: "CRAM-MD5", flags: []string{"dictionary", "active"},
		start:    func(r *request) mechState { return &cramState{r: r} },
		canServe: func(s string) bool { return s == "PLAIN" || s == "CRAM-MD5" }},
	{name: "SCRAM-SHA-1", flags: []string{"mutual-auth"},
		start:    func(r *request) mechState { return &scramState{r: r, mech: "SCRAM-SHA-1"} },
		canServe: func(s string) bool { return s == "PLAIN" || s == "SCRAM-SHA-1" }},
	{name: "SCRAM-SHA-256", flags: []string{"mutual-auth"},
		start:    func(r *request) mechState { return &scramState{r: r, mech: "SCRAM-SHA-256"} },
		canServe: func(s string) bool { return s == "PLAIN" || s == "SCRAM-SHA-256" }},
}

// selectMechanisms resolves the configured names; challenge mechanisms the
// store cannot serve are dropped with a warning.
func selectMechanisms(auth Authenticator, names []string, log *slog.Logger) ([]mechanism, error) {
	var out []mechanism
	for _, n := range names {
		var m *mechanism
		for i := range allMechanisms {
			if strings.EqualFold(allMechanisms[i].name, n) {
				m = &allMechanisms[i]
			}
		}
		if m == nil {
			return nil, fmt.Errorf("dovecotauth: unsupported mechanism %q", n)
		}
		if m.canServe != nil && !storeServes(auth, m.canServe) {
			log.Warn("mechanism not offered: the credential store cannot serve it", "mech", m.name)
			continue
		}
		out = append(out, *m)
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("dovecotauth: no usable mechanism")
	}
	return out, nil
}

func storeServes(auth Authenticator, ok func(string) bool) bool {
	sl, isLister := auth.(userdb.SchemeLister)
	if !isLister {
		return false
	}
	schemes := sl.Schemes()
	for _, s := range schemes {
		if !ok(s) {
			return false
		}
	}
	return len(schemes) > 0
}

func (s *Server) findMech(name string) *mechanism {
	for i := range s.mechs {
		if s.mechs[i].name == name {
			return &s.mechs[i]
		}
	}
	return nil
}

// plainState: RFC 4616, "authzid NUL authcid NUL password".
type plainState struct{ r *request }

func (p *plainState) next(ctx context.Context, data []byte, has bool) ([]byte, *result, error) {
	if !has {
		return []byte{}, nil, nil
	}
	parts := bytes.Split(data, []byte{0})
	if len(parts) != 3 || len(parts[1]) == 0 {
		return nil, nil, failInput
	}
	authz, user, pw := string(parts[0]), string(parts[1]), string(parts[2])
	if authz != "" && authz != user {
		// Master-user logins are not supported.
		return nil, nil, failAuthz
	}
	res, err := p.r.verifyPlain(ctx, user, pw)
	return nil, res, err
}

// loginState: the LOGIN draft (draft-murchison-sasl-login).
type loginState struct {
	r    *request
	user string
	step int
}

func (l *loginState) next(ctx context.Context, data []byte, has bool) ([]byte, *result, error) {
	switch {
	case !has && l.step == 0:
		l.step = 1
		return []byte("Username:"), nil, nil
	case l.step <= 1 && l.user == "":
		if len(data) == 0 {
			return nil, nil, failInput
		}
		l.user, l.step = string(data), 2
		return []byte("Password:"), nil, nil
	}
	res, err := l.r.verifyPlain(ctx, l.user, string(data))
	return nil, res, err
}

// cramState: RFC 2195.
type cramState struct {
	r         *request
	challenge []byte
}

func (c *cramState) next(ctx context.Context, data []byte, _ bool) ([]byte, *result, error) {
	if c.challenge == nil {
		n, err := rand.Int(rand.Reader, big.NewInt(1e16))
		if err != nil {
			return nil, nil, err
		}
		c.challenge = fmt.Appendf(nil, "<%016d.%d@%s>", n, time.Now().Unix(), c.r.c.s.opts.Hostname)
		return c.challenge, nil, nil
	}
	i := bytes.LastIndexByte(data, ' ')
	if i <= 0 {
		return nil, nil, failInput
	}
	typed, digest := string(data[:i]), data[i+1:]
	cred, err := c.r.lookup(ctx, typed)
	if err != nil {
		return nil, nil, err
	}
	h, ok := storedHash(cred)
	secret, ok2 := h.CRAMMD5Secret()
	if !ok || !ok2 {
		return nil, nil, failCredentials
	}
	want, err := passwd.CRAMMD5Digest(secret, c.challenge)
	if err != nil || !ctEqualHex(digest, want) {
		return nil, nil, failCredentials
	}
	return nil, c.r.finish(cred, typed), nil
}

func ctEqualHex(got []byte, want []byte) bool {
	w := []byte(hex.EncodeToString(want))
	return len(got) == len(w) && subtleEq(bytes.ToLower(got), w)
}
