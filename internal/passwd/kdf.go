package passwd

import (
	"crypto/sha1"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"strconv"
	"strings"

	"golang.org/x/crypto/argon2"
	"golang.org/x/crypto/bcrypt"
	"golang.org/x/crypto/pbkdf2"
)

// Defaults Dovecot 2.3 uses when generating.
const (
	BcryptDefaultCost   = 5
	PBKDF2DefaultRounds = 5000
	bcryptMaxPassword   = 72
)

// verifyCrypt checks a crypt(3) string by its prefix, as libxcrypt does for
// Dovecot's {CRYPT}: "$1$", "$5$", "$6$", "$2?$" and 13-character DES.
func verifyCrypt(h Hash, password, _ string) (bool, error) {
	s := h.Data
	switch {
	case strings.HasPrefix(s, "$1$"):
		return verifyMD5Crypt(s, password)
	case strings.HasPrefix(s, "$5$"):
		return sha256Crypt.verify(s, password)
	case strings.HasPrefix(s, "$6$"):
		return sha512Crypt.verify(s, password)
	case strings.HasPrefix(s, "$2"):
		return verifyBcrypt(s, password)
	case len(s) == 13 && !strings.HasPrefix(s, "$"):
		return verifyDESCrypt(s, password)
	}
	return false, fmt.Errorf("%w: unsupported crypt(3) format", ErrUnknownScheme)
}

// verifyBcrypt accepts $2a$, $2b$, $2x$ and $2y$ (the same algorithm for
// passwords without 8-bit bugs), truncating at 72 bytes like libxcrypt.
func verifyBcrypt(stored, password string) (bool, error) {
	if len(stored) < 4 || stored[0] != '$' || stored[1] != '2' {
		return false, fmt.Errorf("%w: not a bcrypt string", ErrMalformed)
	}
	pw := []byte(password)
	if len(pw) > bcryptMaxPassword {
		pw = pw[:bcryptMaxPassword]
	}
	err := bcrypt.CompareHashAndPassword([]byte(stored), pw)
	switch err {
	case nil:
		return true, nil
	case bcrypt.ErrMismatchedHashAndPassword:
		return false, nil
	}
	return false, fmt.Errorf("%w: %v", ErrMalformed, err)
}

func genBcrypt(password, _ string, o GenOptions) (string, error) {
	cost := o.Rounds
	if cost == 0 {
		cost = BcryptDefaultCost
	}
	pw := []byte(password)
	if len(pw) > bcryptMaxPassword {
		pw = pw[:bcryptMaxPassword]
	}
	b, err := bcrypt.GenerateFromPassword(pw, cost)
	if err != nil {
		return "", err
	}
	// Dovecot writes $2y$; the algorithm is the same as x/crypto's $2a$.
	return "$2y$" + string(b[4:]), nil
}

// argon2Params is the parsed PHC string "$argon2id$v=19$m=..,t=..,p=..$salt$hash".
type argon2Params struct {
	variant      string
	m, t, p      uint32
	salt, digest []byte
}

// Bounds on stored Argon2 parameters, so a hostile row cannot exhaust memory.
const (
	argon2MaxMemKiB = 1 << 20
	argon2MaxTime   = 1 << 10
)

func parseArgon2(s string) (argon2Params, error) {
	var a argon2Params
	f := strings.Split(s, "$")
	if len(f) != 6 || f[0] != "" || f[2] != "v=19" {
		return a, fmt.Errorf("%w: argon2 string", ErrMalformed)
	}
	a.variant = f[1]
	var p uint64
	for _, kv := range strings.Split(f[3], ",") {
		k, v, _ := strings.Cut(kv, "=")
		n, err := strconv.ParseUint(v, 10, 32)
		if err != nil {
			return a, fmt.Errorf("%w: argon2 %s", ErrMalformed, k)
		}
		switch k {
		case "m":
			a.m = uint32(n)
		case "t":
			a.t = uint32(n)
		case "p":
			p = n
		}
	}
	if a.m == 0 || a.m > argon2MaxMemKiB || a.t == 0 || a.t > argon2MaxTime || p == 0 || p > 255 {
		return a, fmt.Errorf("%w: argon2 parameters out of range", ErrMalformed)
	}
	a.p = uint32(p)
	var err1, err2 error
	a.salt, err1 = base64.RawStdEncoding.DecodeString(f[4])
	a.digest, err2 = base64.RawStdEncoding.DecodeString(f[5])
	if err1 != nil || err2 != nil || len(a.digest) < 4 {
		return a, fmt.Errorf("%w: argon2 salt/hash", ErrMalformed)
	}
	return a, nil
}

func (a argon2Params) compute(password []byte) []byte {
	n := uint32(len(a.digest))
	if a.variant == "argon2i" {
		return argon2.Key(password, a.salt, a.t, a.m, uint8(a.p), n)
	}
	return argon2.IDKey(password, a.salt, a.t, a.m, uint8(a.p), n)
}

func (a argon2Params) String() string {
	return fmt.Sprintf("$%s$v=19$m=%d,t=%d,p=%d$%s$%s", a.variant, a.m, a.t, a.p,
		base64.RawStdEncoding.EncodeToString(a.salt), base64.RawStdEncoding.EncodeToString(a.digest))
}

func argon2Scheme(variant string, m, t uint32) scheme {
	return scheme{
		verify: func(h Hash, password, _ string) (bool, error) {
			a, err := parseArgon2(h.Data)
			if err != nil {
				return false, err
			}
			if a.variant != variant {
				return false, fmt.Errorf("%w: %s data under %s", ErrMalformed, a.variant, variant)
			}
			return ctEqual(a.compute([]byte(password)), a.digest), nil
		},
		gen: func(password, _ string, o GenOptions) (string, error) {
			salt, err := randomBytes(16)
			if err != nil {
				return "", err
			}
			a := argon2Params{variant: variant, m: m, t: t, p: 1, salt: salt, digest: make([]byte, 32)}
			if o.Rounds > 0 {
				a.t = uint32(o.Rounds)
			}
			a.digest = a.compute([]byte(password))
			return a.String(), nil
		},
	}
}

// verifyPBKDF2 checks Dovecot's "$1$<salt>$<rounds>$<hex>" (PBKDF2-HMAC-SHA1;
// the salt is used as literal ASCII, not decoded).
func verifyPBKDF2(h Hash, password, _ string) (bool, error) {
	f := strings.Split(h.Data, "$")
	if len(f) != 5 || f[0] != "" || f[1] != "1" {
		return false, fmt.Errorf("%w: PBKDF2 string", ErrMalformed)
	}
	rounds, err := strconv.Atoi(f[3])
	if err != nil || rounds < 1 || rounds > 1<<24 {
		return false, fmt.Errorf("%w: PBKDF2 rounds", ErrMalformed)
	}
	want, err := hex.DecodeString(f[4])
	if err != nil || len(want) == 0 || len(want) > 64 {
		return false, fmt.Errorf("%w: PBKDF2 key", ErrMalformed)
	}
	got := pbkdf2.Key([]byte(password), []byte(f[2]), rounds, len(want), sha1.New)
	return ctEqual(got, want), nil
}

func genPBKDF2(password, _ string, o GenOptions) (string, error) {
	rounds := o.Rounds
	if rounds == 0 {
		rounds = PBKDF2DefaultRounds
	}
	salt, err := randomCrypt64(16)
	if err != nil {
		return "", err
	}
	key := pbkdf2.Key([]byte(password), []byte(salt), rounds, sha1.Size, sha1.New)
	return fmt.Sprintf("$1$%s$%d$%s", salt, rounds, hex.EncodeToString(key)), nil
}
