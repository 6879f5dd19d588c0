package passwd

import (
	"crypto/md5"
	"crypto/rand"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/sha512"
	"fmt"
	"sort"
	"strings"
)

// schemes is the immutable table of implemented schemes (canonical names).
var schemes = map[string]scheme{
	"PLAIN": {verify: verifyPlain, gen: func(p, _ string, _ GenOptions) (string, error) { return p, nil }},
	"CRYPT": {verify: verifyCrypt, gen: genBcrypt},
	"MD5-CRYPT": {verify: func(h Hash, p, _ string) (bool, error) { return verifyMD5Crypt(h.Data, p) },
		gen: genMD5Crypt},
	"DES-CRYPT": {verify: func(h Hash, p, _ string) (bool, error) { return verifyDESCrypt(h.Data, p) },
		gen: genDESCrypt},
	"SHA256-CRYPT": shaCryptScheme(sha256Crypt),
	"SHA512-CRYPT": shaCryptScheme(sha512Crypt),
	"BLF-CRYPT": {verify: func(h Hash, p, _ string) (bool, error) { return verifyBcrypt(h.Data, p) },
		gen: genBcrypt},
	"ARGON2I":       argon2Scheme("argon2i", 32768, 4),
	"ARGON2ID":      argon2Scheme("argon2id", 65536, 3),
	"SHA":           {verify: sha1Digest.verify, gen: sha1Digest.gen},
	"SHA256":        {verify: sha256Digest.verify, gen: sha256Digest.gen},
	"SHA512":        {verify: sha512Digest.verify, gen: sha512Digest.gen},
	"SSHA":          salted(saltedDigest{sha1.New}),
	"SSHA256":       salted(saltedDigest{sha256.New}),
	"SSHA512":       salted(saltedDigest{sha512.New}),
	"SMD5":          salted(saltedDigest{md5.New}),
	"PLAIN-MD5":     {verify: plainMD5.verify, gen: plainMD5.gen},
	"LDAP-MD5":      {verify: ldapMD5.verify, gen: ldapMD5.gen},
	"PLAIN-MD4":     {verify: plainMD4.verify, gen: plainMD4.gen},
	"DIGEST-MD5":    {verify: verifyDigestMD5, gen: genDigestMD5},
	"PBKDF2":        {verify: verifyPBKDF2, gen: genPBKDF2},
	"CRAM-MD5":      {verify: verifyCRAM, gen: genCRAM},
	"SCRAM-SHA-1":   scramScheme("SCRAM-SHA-1"),
	"SCRAM-SHA-256": scramScheme("SCRAM-SHA-256"),
}

func salted(d saltedDigest) scheme { return scheme{verify: d.verify, gen: d.gen} }

func verifyPlain(h Hash, password, _ string) (bool, error) {
	return ctEqualString(h.Data, password), nil
}

func shaCryptScheme(v shaCryptVariant) scheme {
	return scheme{
		verify: func(h Hash, p, _ string) (bool, error) { return v.verify(h.Data, p) },
		gen: func(p, _ string, o GenOptions) (string, error) {
			salt, err := randomCrypt64(shaCryptMaxSalt)
			if err != nil {
				return "", err
			}
			params := shaCryptParams{rounds: shaCryptDefaultRounds, salt: []byte(salt)}
			if o.Rounds > 0 {
				params.rounds = min(max(o.Rounds, shaCryptMinRounds), shaCryptMaxRounds)
				params.explicit = true
			}
			return v.crypt([]byte(p), params), nil
		},
	}
}

func genMD5Crypt(p, _ string, _ GenOptions) (string, error) {
	salt, err := randomCrypt64(8)
	if err != nil {
		return "", err
	}
	return md5Crypt([]byte(p), []byte(salt)), nil
}

func genDESCrypt(p, _ string, _ GenOptions) (string, error) {
	salt, err := randomCrypt64(2)
	if err != nil {
		return "", err
	}
	return desCrypt(p, salt)
}

// GenOptions tunes Generate.
type GenOptions struct {
	// Rounds is the cost: bcrypt cost, SHA-crypt/PBKDF2/SCRAM rounds, Argon2
	// time. 0 means Dovecot's default for the scheme.
	Rounds int
	// Encoding forces .b64/.hex output for digest schemes (EncNone = the
	// scheme's default).
	Encoding Encoding
}

func (o GenOptions) encoding(def Encoding) Encoding {
	if o.Encoding != EncNone {
		return o.Encoding
	}
	return def
}

// Generate hashes password under scheme (e.g. "SHA512-CRYPT", "SSHA.b64")
// and returns the "{SCHEME}data" string Dovecot stores. user is needed only
// by DIGEST-MD5.
func Generate(schemeName, password, user string, o GenOptions) (string, error) {
	h, err := parseName(schemeName, "")
	if err != nil {
		return "", err
	}
	if h.Encoding != EncNone {
		o.Encoding = h.Encoding
	}
	data, err := schemes[h.Scheme].gen(password, user, o)
	if err != nil {
		return "", err
	}
	prefix := h.Scheme
	switch h.Encoding {
	case EncHex:
		prefix += ".HEX"
	case EncBase64:
		prefix += ".B64"
	}
	return "{" + prefix + "}" + data, nil
}

// Schemes lists the canonical names of all implemented schemes.
func Schemes() []string {
	out := make([]string, 0, len(schemes))
	for k := range schemes {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

func randomBytes(n int) ([]byte, error) {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		return nil, fmt.Errorf("passwd: random: %w", err)
	}
	return b, nil
}

// randomCrypt64 returns n random characters of the crypt(3) alphabet.
func randomCrypt64(n int) (string, error) {
	b, err := randomBytes(n)
	if err != nil {
		return "", err
	}
	var s strings.Builder
	for _, c := range b {
		s.WriteByte(crypt64[c&0x3f])
	}
	return s.String(), nil
}
