package passwd

import (
	"crypto/md5"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"hash"
)

// CRAMSecretLen is the size of Dovecot's {CRAM-MD5} data: the MD5 states of
// HMAC-MD5's outer (opad) and inner (ipad) contexts after the key block,
// each as four little-endian uint32 (src password-scheme.c, hmac-cram-md5.c).
const CRAMSecretLen = 32

// md5StatePrefix is crypto/md5's marshalled-state magic.
const md5StatePrefix = "md5\x01"

// CRAMMD5Secret precomputes the HMAC-MD5 key states for password.
func CRAMMD5Secret(password string) []byte {
	key := []byte(password)
	if len(key) > md5.BlockSize {
		s := md5.Sum(key)
		key = s[:]
	}
	out := make([]byte, 0, CRAMSecretLen)
	for _, pad := range []byte{0x5c, 0x36} { // outer, then inner
		block := make([]byte, md5.BlockSize)
		copy(block, key)
		for i := range block {
			block[i] ^= pad
		}
		h := md5.New()
		h.Write(block)
		st, _ := h.(interface{ MarshalBinary() ([]byte, error) }).MarshalBinary()
		for i := 0; i < 4; i++ {
			v := binary.BigEndian.Uint32(st[len(md5StatePrefix)+4*i:])
			out = binary.LittleEndian.AppendUint32(out, v)
		}
	}
	return out
}

// md5FromState resumes an MD5 computation after one 64-byte block whose
// resulting state is given as four little-endian uint32.
func md5FromState(state []byte) hash.Hash {
	b := make([]byte, 0, len(md5StatePrefix)+16+md5.BlockSize+8)
	b = append(b, md5StatePrefix...)
	for i := 0; i < 4; i++ {
		b = binary.BigEndian.AppendUint32(b, binary.LittleEndian.Uint32(state[4*i:]))
	}
	b = append(b, make([]byte, md5.BlockSize)...)
	b = binary.BigEndian.AppendUint64(b, md5.BlockSize)
	h := md5.New()
	if err := h.(interface{ UnmarshalBinary([]byte) error }).UnmarshalBinary(b); err != nil {
		panic(err) // cannot happen: the layout is fixed above
	}
	return h
}

// CRAMMD5Digest computes HMAC-MD5(password, challenge) from a precomputed
// secret (see CRAMMD5Secret), as a CRAM-MD5 server must.
func CRAMMD5Digest(secret, challenge []byte) ([]byte, error) {
	if len(secret) != CRAMSecretLen {
		return nil, fmt.Errorf("%w: CRAM-MD5 secret length %d", ErrMalformed, len(secret))
	}
	inner := md5FromState(secret[16:])
	inner.Write(challenge)
	outer := md5FromState(secret[:16])
	outer.Write(inner.Sum(nil))
	return outer.Sum(nil), nil
}

// CRAMMD5Secret returns the HMAC-MD5 key states usable for CRAM-MD5, when
// the stored scheme allows it (PLAIN or CRAM-MD5).
func (h Hash) CRAMMD5Secret() ([]byte, bool) {
	switch h.Scheme {
	case "PLAIN":
		return CRAMMD5Secret(h.Data), true
	case "CRAM-MD5":
		b, err := decodeDigest(Hash{Data: h.Data, Encoding: EncHex}, CRAMSecretLen)
		if err != nil || len(b) != CRAMSecretLen {
			return nil, false
		}
		return b, true
	}
	return nil, false
}

func verifyCRAM(h Hash, password, _ string) (bool, error) {
	want, ok := h.CRAMMD5Secret()
	if !ok {
		return false, fmt.Errorf("%w: CRAM-MD5 data", ErrMalformed)
	}
	return ctEqual(CRAMMD5Secret(password), want), nil
}

func genCRAM(password, _ string, _ GenOptions) (string, error) {
	return hex.EncodeToString(CRAMMD5Secret(password)), nil
}
