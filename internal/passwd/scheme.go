package passwd

import (
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
)

// ErrUnknownScheme is returned for a "{SCHEME}" Dovecot does not know or we
// do not implement. Callers treat it as a failed login, never as success.
var ErrUnknownScheme = errors.New("passwd: unknown password scheme")

// ErrMalformed is returned when the stored data does not fit its scheme.
var ErrMalformed = errors.New("passwd: malformed stored password")

// Encoding is the optional ".b64"/".hex" suffix of a scheme name.
type Encoding int

// Encodings of the binary digest schemes.
const (
	EncNone Encoding = iota // the scheme's own default (or guessed)
	EncBase64
	EncHex
)

// DefaultScheme is Dovecot's SQL default_pass_scheme.
const DefaultScheme = "MD5"

// Hash is a parsed stored password.
type Hash struct {
	// Scheme is the canonical upper-case scheme name ("SHA512-CRYPT").
	Scheme string
	// Encoding is the forced encoding, if the prefix had a suffix.
	Encoding Encoding
	// Data is the stored text after the "{...}" prefix.
	Data string
}

// scheme is the behaviour behind one scheme name.
type scheme struct {
	verify func(h Hash, password, user string) (bool, error)
	gen    func(password, user string, o GenOptions) (string, error)
	// digestLen > 0 marks a fixed-length binary digest (hex/base64 guessed).
	digestLen int
}

// aliases maps alternative names to the canonical one, as Dovecot does.
var aliases = map[string]string{
	"CLEAR": "PLAIN", "CLEARTEXT": "PLAIN", "SHA1": "SHA",
	"HMAC-MD5": "CRAM-MD5", "BLF": "BLF-CRYPT",
}

// Parse splits a stored password into scheme, encoding and data.
// defaultScheme applies to values without "{...}" (empty = DefaultScheme),
// except that a value starting "$1$" is always MD5-CRYPT (Dovecot's rule,
// which makes PostfixAdmin's bare md5crypt values work everywhere).
func Parse(stored, defaultScheme string) (Hash, error) {
	if defaultScheme == "" {
		defaultScheme = DefaultScheme
	}
	name, data := defaultScheme, stored
	if strings.HasPrefix(stored, "{") {
		end := strings.IndexByte(stored, '}')
		if end < 0 {
			return Hash{}, fmt.Errorf("%w: missing '}'", ErrMalformed)
		}
		name, data = stored[1:end], stored[end+1:]
	} else if strings.HasPrefix(stored, "$1$") {
		name = "MD5-CRYPT"
	}
	return parseName(name, data)
}

func parseName(name, data string) (Hash, error) {
	h := Hash{Data: data}
	name = strings.ToUpper(name)
	if i := strings.LastIndexByte(name, '.'); i >= 0 {
		switch name[i+1:] {
		case "B64", "BASE64":
			h.Encoding = EncBase64
		case "HEX":
			h.Encoding = EncHex
		default:
			return Hash{}, fmt.Errorf("%w: %q", ErrUnknownScheme, name)
		}
		name = name[:i]
	}
	if a, ok := aliases[name]; ok {
		name = a
	}
	if name == "MD5" {
		// {MD5} is MD5-CRYPT when it looks like one, else PLAIN-MD5.
		name = "PLAIN-MD5"
		if strings.HasPrefix(data, "$1$") {
			name = "MD5-CRYPT"
		}
	}
	if _, ok := schemes[name]; !ok {
		return Hash{}, fmt.Errorf("%w: %q", ErrUnknownScheme, name)
	}
	h.Scheme = name
	return h, nil
}

// Verify reports whether password matches the stored hash. user is needed
// only by user-bound schemes (DIGEST-MD5). An error means the stored value
// is unusable; the login must fail.
func (h Hash) Verify(password, user string) (bool, error) {
	s, ok := schemes[h.Scheme]
	if !ok {
		return false, ErrUnknownScheme
	}
	return s.verify(h, password, user)
}

// Verify parses stored (with defaultScheme for unprefixed values) and checks
// password against it.
func Verify(stored, defaultScheme, password, user string) (bool, error) {
	h, err := Parse(stored, defaultScheme)
	if err != nil {
		return false, err
	}
	return h.Verify(password, user)
}

// Plaintext returns the password when the scheme stores it in clear text,
// which challenge mechanisms (CRAM-MD5, SCRAM) can use.
func (h Hash) Plaintext() (string, bool) {
	if h.Scheme != "PLAIN" {
		return "", false
	}
	return h.Data, true
}

// Known reports whether name (any case, optional encoding suffix) is a
// scheme this package implements.
func Known(name string) bool {
	_, err := parseName(name, "")
	return err == nil
}

// decodeDigest decodes binary data the way Dovecot does for fixed-length
// digests: a forced encoding wins; otherwise exactly 2*n characters is hex,
// anything else base64.
func decodeDigest(h Hash, n int) ([]byte, error) {
	enc := h.Encoding
	if enc == EncNone {
		enc = EncBase64
		if n > 0 && len(h.Data) == 2*n {
			enc = EncHex
		}
	}
	var b []byte
	var err error
	if enc == EncHex {
		b, err = hex.DecodeString(h.Data)
	} else {
		b, err = decodeB64(h.Data)
	}
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrMalformed, err)
	}
	return b, nil
}

// decodeB64 accepts padded and unpadded standard base64.
func decodeB64(s string) ([]byte, error) {
	if strings.HasSuffix(s, "=") {
		return base64.StdEncoding.DecodeString(s)
	}
	return base64.RawStdEncoding.DecodeString(s)
}

func ctEqual(a, b []byte) bool { return subtle.ConstantTimeCompare(a, b) == 1 }

func ctEqualString(a, b string) bool { return ctEqual([]byte(a), []byte(b)) }
