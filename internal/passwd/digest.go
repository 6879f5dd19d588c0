package passwd

import (
	"crypto/md5"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/sha512"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"hash"

	"golang.org/x/crypto/md4"
)

// plainDigest is an unsalted digest scheme: stored = enc(H(password)).
type plainDigest struct {
	new    func() hash.Hash
	defEnc Encoding // encoding used when generating
}

func (d plainDigest) size() int { return d.new().Size() }

func (d plainDigest) verify(h Hash, password, _ string) (bool, error) {
	want, err := decodeDigest(h, d.size())
	if err != nil {
		return false, err
	}
	if len(want) != d.size() {
		return false, fmt.Errorf("%w: digest length %d", ErrMalformed, len(want))
	}
	x := d.new()
	x.Write([]byte(password))
	return ctEqual(x.Sum(nil), want), nil
}

func (d plainDigest) gen(password, _ string, o GenOptions) (string, error) {
	x := d.new()
	x.Write([]byte(password))
	return encode(x.Sum(nil), o.encoding(d.defEnc)), nil
}

// saltedDigest is SSHA-style: stored = enc(H(password+salt) + salt).
type saltedDigest struct{ new func() hash.Hash }

func (d saltedDigest) verify(h Hash, password, _ string) (bool, error) {
	n := d.new().Size()
	raw, err := decodeDigest(h, 0)
	if err != nil {
		return false, err
	}
	if len(raw) <= n {
		return false, fmt.Errorf("%w: salted digest too short", ErrMalformed)
	}
	x := d.new()
	x.Write([]byte(password))
	x.Write(raw[n:])
	return ctEqual(x.Sum(nil), raw[:n]), nil
}

func (d saltedDigest) gen(password, _ string, o GenOptions) (string, error) {
	salt, err := randomBytes(4)
	if err != nil {
		return "", err
	}
	x := d.new()
	x.Write([]byte(password))
	x.Write(salt)
	return encode(append(x.Sum(nil), salt...), o.encoding(EncBase64)), nil
}

// digestMD5 is Dovecot's DIGEST-MD5 scheme: hex(MD5(user:realm:password)),
// with the realm taken from user@realm.
func digestMD5(user, password string) []byte {
	name, realm := user, ""
	for i := len(user) - 1; i >= 0; i-- {
		if user[i] == '@' {
			name, realm = user[:i], user[i+1:]
			break
		}
	}
	s := md5.Sum([]byte(name + ":" + realm + ":" + password))
	return s[:]
}

func verifyDigestMD5(h Hash, password, user string) (bool, error) {
	want, err := decodeDigest(h, md5.Size)
	if err != nil {
		return false, err
	}
	return ctEqual(digestMD5(user, password), want), nil
}

func genDigestMD5(password, user string, o GenOptions) (string, error) {
	return encode(digestMD5(user, password), o.encoding(EncHex)), nil
}

func encode(b []byte, e Encoding) string {
	if e == EncHex {
		return hex.EncodeToString(b)
	}
	return base64.StdEncoding.EncodeToString(b)
}

var (
	sha1Digest   = plainDigest{sha1.New, EncBase64}
	sha256Digest = plainDigest{sha256.New, EncBase64}
	sha512Digest = plainDigest{sha512.New, EncBase64}
	plainMD5     = plainDigest{md5.New, EncHex}
	ldapMD5      = plainDigest{md5.New, EncBase64}
	plainMD4     = plainDigest{md4.New, EncHex}
)
