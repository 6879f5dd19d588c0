package passwd

import (
	"crypto/md5"
	"fmt"
	"strings"
)

// crypt64 is the crypt(3) base-64 alphabet ("./0-9A-Za-z").
const crypt64 = "./0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"

// b64From24 appends n characters encoding w, low 6 bits first, as crypt(3)
// does.
func b64From24(dst []byte, b2, b1, b0 byte, n int) []byte {
	w := uint32(b2)<<16 | uint32(b1)<<8 | uint32(b0)
	for ; n > 0; n-- {
		dst = append(dst, crypt64[w&0x3f])
		w >>= 6
	}
	return dst
}

const md5CryptMagic = "$1$"

// md5Crypt computes the FreeBSD MD5-crypt string for password and salt
// (salt without the magic, at most 8 characters used).
func md5Crypt(password, salt []byte) string {
	if len(salt) > 8 {
		salt = salt[:8]
	}
	alt := md5.New()
	alt.Write(password)
	alt.Write(salt)
	alt.Write(password)
	altSum := alt.Sum(nil)

	ctx := md5.New()
	ctx.Write(password)
	ctx.Write([]byte(md5CryptMagic))
	ctx.Write(salt)
	for n := len(password); n > 0; n -= 16 {
		ctx.Write(altSum[:min(n, 16)])
	}
	for i := len(password); i > 0; i >>= 1 {
		if i&1 != 0 {
			ctx.Write([]byte{0})
		} else {
			ctx.Write(password[:1])
		}
	}
	final := ctx.Sum(nil)
	final = md5CryptRounds(final, password, salt)
	return md5CryptEncode(final, salt)
}

// md5CryptRounds runs the 1000 strengthening rounds.
func md5CryptRounds(final, password, salt []byte) []byte {
	h := md5.New()
	for i := 0; i < 1000; i++ {
		h.Reset()
		if i&1 != 0 {
			h.Write(password)
		} else {
			h.Write(final)
		}
		if i%3 != 0 {
			h.Write(salt)
		}
		if i%7 != 0 {
			h.Write(password)
		}
		if i&1 != 0 {
			h.Write(final)
		} else {
			h.Write(password)
		}
		final = h.Sum(final[:0])
	}
	return final
}

func md5CryptEncode(f, salt []byte) string {
	out := make([]byte, 0, 3+len(salt)+1+22)
	out = append(out, md5CryptMagic...)
	out = append(out, salt...)
	out = append(out, '$')
	out = b64From24(out, f[0], f[6], f[12], 4)
	out = b64From24(out, f[1], f[7], f[13], 4)
	out = b64From24(out, f[2], f[8], f[14], 4)
	out = b64From24(out, f[3], f[9], f[15], 4)
	out = b64From24(out, f[4], f[10], f[5], 4)
	out = b64From24(out, 0, 0, f[11], 2)
	return string(out)
}

// verifyMD5Crypt checks "$1$salt$hash".
func verifyMD5Crypt(stored, password string) (bool, error) {
	if !strings.HasPrefix(stored, md5CryptMagic) {
		return false, fmt.Errorf("%w: not an MD5-crypt string", ErrMalformed)
	}
	rest := stored[len(md5CryptMagic):]
	i := strings.IndexByte(rest, '$')
	if i < 0 {
		return false, fmt.Errorf("%w: MD5-crypt without salt end", ErrMalformed)
	}
	got := md5Crypt([]byte(password), []byte(rest[:i]))
	return ctEqualString(got, stored), nil
}
