package passwd

import (
	"crypto/sha256"
	"crypto/sha512"
	"fmt"
	"hash"
	"strconv"
	"strings"
)

// SHA-crypt parameters from Drepper's specification.
const (
	shaCryptDefaultRounds = 5000
	shaCryptMinRounds     = 1000
	shaCryptMaxRounds     = 999999999
	shaCryptMaxSalt       = 16
	shaRoundsPrefix       = "rounds="
)

// shaCryptVariant is SHA-256-crypt ($5$) or SHA-512-crypt ($6$).
type shaCryptVariant struct {
	magic string
	new   func() hash.Hash
	size  int
	perm  [][3]int // byte triples for the final encoding
	tail  []int    // remaining bytes (b1, b0) encoded last
}

var sha256Crypt = shaCryptVariant{
	magic: "$5$", new: sha256.New, size: sha256.Size,
	perm: [][3]int{{0, 10, 20}, {21, 1, 11}, {12, 22, 2}, {3, 13, 23}, {24, 4, 14},
		{15, 25, 5}, {6, 16, 26}, {27, 7, 17}, {18, 28, 8}, {9, 19, 29}},
	tail: []int{31, 30},
}

var sha512Crypt = shaCryptVariant{
	magic: "$6$", new: sha512.New, size: sha512.Size,
	perm: [][3]int{{0, 21, 42}, {22, 43, 1}, {44, 2, 23}, {3, 24, 45}, {25, 46, 4},
		{47, 5, 26}, {6, 27, 48}, {28, 49, 7}, {50, 8, 29}, {9, 30, 51}, {31, 52, 10},
		{53, 11, 32}, {12, 33, 54}, {34, 55, 13}, {56, 14, 35}, {15, 36, 57}, {37, 58, 16},
		{59, 17, 38}, {18, 39, 60}, {40, 61, 19}, {62, 20, 41}},
	tail: []int{-1, 63},
}

// shaCryptParams is the parsed "$N$[rounds=R$]salt" part of a hash.
type shaCryptParams struct {
	rounds   int
	explicit bool
	salt     []byte
}

// parseShaCrypt reads the settings part of a SHA-crypt string. It accepts a
// full hash or just the settings (for generation).
func (v shaCryptVariant) parse(s string) (shaCryptParams, error) {
	p := shaCryptParams{rounds: shaCryptDefaultRounds}
	if !strings.HasPrefix(s, v.magic) {
		return p, fmt.Errorf("%w: want %s prefix", ErrMalformed, v.magic)
	}
	s = s[len(v.magic):]
	if strings.HasPrefix(s, shaRoundsPrefix) {
		end := strings.IndexByte(s, '$')
		if end < 0 {
			return p, fmt.Errorf("%w: rounds without '$'", ErrMalformed)
		}
		n, err := strconv.ParseUint(s[len(shaRoundsPrefix):end], 10, 64)
		if err != nil {
			return p, fmt.Errorf("%w: rounds: %v", ErrMalformed, err)
		}
		p.rounds = int(min(max(n, shaCryptMinRounds), shaCryptMaxRounds))
		p.explicit = true
		s = s[end+1:]
	}
	if i := strings.IndexByte(s, '$'); i >= 0 {
		s = s[:i]
	}
	if len(s) > shaCryptMaxSalt {
		s = s[:shaCryptMaxSalt]
	}
	p.salt = []byte(s)
	return p, nil
}

// crypt computes the full SHA-crypt string.
func (v shaCryptVariant) crypt(password []byte, p shaCryptParams) string {
	c := v.digest(password, p.salt, p.rounds)
	out := make([]byte, 0, 128)
	out = append(out, v.magic...)
	if p.explicit {
		out = append(out, shaRoundsPrefix...)
		out = strconv.AppendInt(out, int64(p.rounds), 10)
		out = append(out, '$')
	}
	out = append(out, p.salt...)
	out = append(out, '$')
	for _, t := range v.perm {
		out = b64From24(out, c[t[0]], c[t[1]], c[t[2]], 4)
	}
	if v.tail[0] < 0 {
		out = b64From24(out, 0, 0, c[v.tail[1]], 2)
	} else {
		out = b64From24(out, 0, c[v.tail[0]], c[v.tail[1]], 3)
	}
	return string(out)
}

// digest runs Drepper's steps 1-21 and returns the final digest C.
func (v shaCryptVariant) digest(pw, salt []byte, rounds int) []byte {
	h := v.new()
	h.Write(pw)
	h.Write(salt)
	h.Write(pw)
	b := h.Sum(nil)

	h.Reset()
	h.Write(pw)
	h.Write(salt)
	n := len(pw)
	for ; n > v.size; n -= v.size {
		h.Write(b)
	}
	h.Write(b[:n])
	for i := len(pw); i > 0; i >>= 1 {
		if i&1 != 0 {
			h.Write(b)
		} else {
			h.Write(pw)
		}
	}
	a := h.Sum(nil)
	pseq := v.repeatHash(h, pw, len(pw), len(pw))
	sseq := v.repeatHash(h, salt, 16+int(a[0]), len(salt))
	return v.rounds(h, a, pseq, sseq, rounds)
}

// repeatHash hashes in repeated times and stretches the digest to outLen.
func (v shaCryptVariant) repeatHash(h hash.Hash, in []byte, times, outLen int) []byte {
	h.Reset()
	for i := 0; i < times; i++ {
		h.Write(in)
	}
	d := h.Sum(nil)
	out := make([]byte, 0, outLen)
	for len(out)+v.size <= outLen {
		out = append(out, d...)
	}
	return append(out, d[:outLen-len(out)]...)
}

// rounds is the expensive loop. It reuses one hasher and one buffer: this
// loop is where all the CPU goes.
func (v shaCryptVariant) rounds(h hash.Hash, c, p, s []byte, rounds int) []byte {
	buf := make([]byte, 0, v.size)
	for i := 0; i < rounds; i++ {
		h.Reset()
		if i&1 != 0 {
			h.Write(p)
		} else {
			h.Write(c)
		}
		if i%3 != 0 {
			h.Write(s)
		}
		if i%7 != 0 {
			h.Write(p)
		}
		if i&1 != 0 {
			h.Write(c)
		} else {
			h.Write(p)
		}
		buf = h.Sum(buf[:0])
		c, buf = buf, c
	}
	return c
}

// verify checks a full SHA-crypt string.
func (v shaCryptVariant) verify(stored, password string) (bool, error) {
	p, err := v.parse(stored)
	if err != nil {
		return false, err
	}
	return ctEqualString(v.crypt([]byte(password), p), stored), nil
}
