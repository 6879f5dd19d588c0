package passwd

import (
	"crypto/hmac"
	"crypto/sha1"
	"crypto/sha256"
	"encoding/base64"
	"fmt"
	"hash"
	"strconv"
	"strings"

	"golang.org/x/crypto/pbkdf2"
)

// SCRAM iteration bounds (Dovecot requires >= 4096; the upper bound keeps a
// hostile row from pinning a CPU).
const (
	SCRAMDefaultIter = 4096
	scramMinIter     = 4096
	scramMaxIter     = 1 << 24
)

// SCRAMKeys is the server-side SCRAM credential (RFC 5802 §3).
type SCRAMKeys struct {
	Iter      int
	Salt      []byte
	StoredKey []byte
	ServerKey []byte
}

// SCRAMHash returns the hash constructor for "SCRAM-SHA-1"/"SCRAM-SHA-256".
func SCRAMHash(scheme string) func() hash.Hash {
	switch strings.ToUpper(scheme) {
	case "SCRAM-SHA-1":
		return sha1.New
	case "SCRAM-SHA-256":
		return sha256.New
	}
	return nil
}

// NewSCRAMKeys derives SCRAM keys from a password.
func NewSCRAMKeys(h func() hash.Hash, password string, salt []byte, iter int) SCRAMKeys {
	salted := pbkdf2.Key([]byte(password), salt, iter, h().Size(), h)
	clientKey := hmacSum(h, salted, []byte("Client Key"))
	stored := h()
	stored.Write(clientKey)
	return SCRAMKeys{
		Iter: iter, Salt: salt,
		StoredKey: stored.Sum(nil),
		ServerKey: hmacSum(h, salted, []byte("Server Key")),
	}
}

func hmacSum(h func() hash.Hash, key, msg []byte) []byte {
	m := hmac.New(h, key)
	m.Write(msg)
	return m.Sum(nil)
}

// String is Dovecot's stored form "iter,salt,StoredKey,ServerKey".
func (k SCRAMKeys) String() string {
	e := base64.StdEncoding.EncodeToString
	return strconv.Itoa(k.Iter) + "," + e(k.Salt) + "," + e(k.StoredKey) + "," + e(k.ServerKey)
}

func parseSCRAM(s string, size int) (SCRAMKeys, error) {
	var k SCRAMKeys
	f := strings.Split(s, ",")
	if len(f) != 4 {
		return k, fmt.Errorf("%w: SCRAM data needs 4 fields", ErrMalformed)
	}
	iter, err := strconv.Atoi(f[0])
	if err != nil || iter < scramMinIter || iter > scramMaxIter {
		return k, fmt.Errorf("%w: SCRAM iteration count", ErrMalformed)
	}
	k.Iter = iter
	var e1, e2, e3 error
	k.Salt, e1 = base64.StdEncoding.DecodeString(f[1])
	k.StoredKey, e2 = base64.StdEncoding.DecodeString(f[2])
	k.ServerKey, e3 = base64.StdEncoding.DecodeString(f[3])
	if e1 != nil || e2 != nil || e3 != nil || len(k.StoredKey) != size || len(k.ServerKey) != size {
		return k, fmt.Errorf("%w: SCRAM keys", ErrMalformed)
	}
	return k, nil
}

// SCRAMKeys returns SCRAM credentials for mechanism mech ("SCRAM-SHA-1" or
// "SCRAM-SHA-256") when the stored scheme allows it: PLAIN (keys derived
// with a fresh salt) or the matching {SCRAM-*} scheme.
func (h Hash) SCRAMKeys(mech string) (SCRAMKeys, bool) {
	hf := SCRAMHash(mech)
	if hf == nil {
		return SCRAMKeys{}, false
	}
	switch {
	case h.Scheme == "PLAIN":
		salt, err := randomBytes(16)
		if err != nil {
			return SCRAMKeys{}, false
		}
		return NewSCRAMKeys(hf, h.Data, salt, SCRAMDefaultIter), true
	case h.Scheme == strings.ToUpper(mech):
		k, err := parseSCRAM(h.Data, hf().Size())
		return k, err == nil
	}
	return SCRAMKeys{}, false
}

func scramScheme(mech string) scheme {
	hf := SCRAMHash(mech)
	return scheme{
		verify: func(h Hash, password, _ string) (bool, error) {
			k, err := parseSCRAM(h.Data, hf().Size())
			if err != nil {
				return false, err
			}
			got := NewSCRAMKeys(hf, password, k.Salt, k.Iter)
			return ctEqual(got.StoredKey, k.StoredKey) && ctEqual(got.ServerKey, k.ServerKey), nil
		},
		gen: func(password, _ string, o GenOptions) (string, error) {
			salt, err := randomBytes(16)
			if err != nil {
				return "", err
			}
			iter := SCRAMDefaultIter
			if o.Rounds > 0 {
				iter = o.Rounds
			}
			return NewSCRAMKeys(hf, password, salt, iter).String(), nil
		},
	}
}
