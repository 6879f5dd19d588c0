package dovecotauth

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"hash"
	"strconv"
	"strings"

	"github.com/gomilter/gomilter/internal/passwd"
)

// scramState: RFC 5802 (SCRAM-SHA-1) and RFC 7677 (SCRAM-SHA-256), without
// channel binding (Postfix has no channel-binding data).
type scramState struct {
	r           *request
	mech        string
	step        int
	typed       string
	gs2Header   string
	clientBare  string
	serverFirst string
	nonce       string
	keys        passwd.SCRAMKeys
	cred        Credentials
	serverSig   []byte
}

func (s *scramState) next(ctx context.Context, data []byte, has bool) ([]byte, *result, error) {
	switch s.step {
	case 0:
		if !has {
			return []byte{}, nil, nil // ask for the client-first message
		}
		s.step = 1
		return s.first(ctx, string(data))
	case 1:
		s.step = 2
		return s.final(string(data))
	}
	// The client acknowledged server-final with an empty response.
	if len(data) != 0 {
		return nil, nil, failInput
	}
	return nil, s.r.finish(s.cred, s.typed), nil
}

// first handles client-first-message and returns server-first-message.
func (s *scramState) first(ctx context.Context, msg string) ([]byte, *result, error) {
	parts := strings.SplitN(msg, ",", 3)
	if len(parts) != 3 || (parts[0] != "n" && parts[0] != "y") {
		return nil, nil, failInput // "p=" (channel binding) is not offered
	}
	if parts[1] != "" {
		return nil, nil, failAuthz
	}
	s.gs2Header = parts[0] + "," + parts[1] + ","
	s.clientBare = parts[2]
	attrs := strings.Split(parts[2], ",")
	if len(attrs) < 2 || !strings.HasPrefix(attrs[0], "n=") || !strings.HasPrefix(attrs[1], "r=") {
		return nil, nil, failInput
	}
	user, ok := decodeSaslname(attrs[0][2:])
	cnonce := attrs[1][2:]
	if !ok || user == "" || cnonce == "" || strings.ContainsRune(cnonce, ',') {
		return nil, nil, failInput
	}
	s.typed = user
	cred, err := s.r.lookup(ctx, user)
	if err != nil {
		return nil, nil, err
	}
	h, ok := storedHash(cred)
	if !ok {
		return nil, nil, failCredentials
	}
	if s.keys, ok = h.SCRAMKeys(s.mech); !ok {
		return nil, nil, failCredentials
	}
	s.cred = cred
	snonce := make([]byte, 18)
	rand.Read(snonce)
	s.nonce = cnonce + base64.RawStdEncoding.EncodeToString(snonce)
	s.serverFirst = "r=" + s.nonce + ",s=" + base64.StdEncoding.EncodeToString(s.keys.Salt) +
		",i=" + strconv.Itoa(s.keys.Iter)
	return []byte(s.serverFirst), nil, nil
}

// final checks client-final-message and returns server-final-message.
func (s *scramState) final(msg string) ([]byte, *result, error) {
	i := strings.LastIndex(msg, ",p=")
	if i < 0 {
		return nil, nil, failInput
	}
	withoutProof, proofB64 := msg[:i], msg[i+3:]
	attrs := strings.Split(withoutProof, ",")
	if len(attrs) < 2 || attrs[0] != "c="+base64.StdEncoding.EncodeToString([]byte(s.gs2Header)) ||
		attrs[1] != "r="+s.nonce {
		return nil, nil, failInput
	}
	proof, err := base64.StdEncoding.DecodeString(proofB64)
	if err != nil || len(proof) != len(s.keys.StoredKey) {
		return nil, nil, failInput
	}
	h := passwd.SCRAMHash(s.mech)
	authMsg := []byte(s.clientBare + "," + s.serverFirst + "," + withoutProof)
	sig := hmacSum(h, s.keys.StoredKey, authMsg)
	clientKey := make([]byte, len(proof))
	subtle.XORBytes(clientKey, proof, sig)
	stored := h()
	stored.Write(clientKey)
	if !subtleEq(stored.Sum(nil), s.keys.StoredKey) {
		return nil, nil, failCredentials
	}
	s.serverSig = hmacSum(h, s.keys.ServerKey, authMsg)
	return []byte("v=" + base64.StdEncoding.EncodeToString(s.serverSig)), nil, nil
}

func hmacSum(h func() hash.Hash, key, msg []byte) []byte {
	m := hmac.New(h, key)
	m.Write(msg)
	return m.Sum(nil)
}

// decodeSaslname reverses RFC 5802's "=2C"/"=3D" escaping.
func decodeSaslname(s string) (string, bool) {
	if !strings.Contains(s, "=") {
		return s, true
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] != '=' {
			b.WriteByte(s[i])
			continue
		}
		switch {
		case strings.HasPrefix(s[i:], "=2C"):
			b.WriteByte(',')
		case strings.HasPrefix(s[i:], "=3D"):
			b.WriteByte('=')
		default:
			return "", false
		}
		i += 2
	}
	return b.String(), true
}

func subtleEq(a, b []byte) bool { return subtle.ConstantTimeCompare(a, b) == 1 }
