package sieve

import (
	"bytes"
	"fmt"
	"io"
	"strings"
	"unicode/utf8"

	"github.com/emersion/go-message/charset"
)

// UTF-8/US-ASCII pass through and ISO-8859-1/Windows-1252 are converted
// here (the common case, without allocating decoders); every other
// charset goes through go-message's x/text tables. Unknown ones stay
// undecoded.
var cp1252 = [32]rune{0x20ac, 0xfffd, 0x201a, 0x0192, 0x201e, 0x2026, 0x2020, 0x2021,
	0x02c6, 0x2030, 0x0160, 0x2039, 0x0152, 0xfffd, 0x017d, 0xfffd,
	0xfffd, 0x2018, 0x2019, 0x201c, 0x201d, 0x2022, 0x2013, 0x2014,
	0x02dc, 0x2122, 0x0161, 0x203a, 0x0153, 0xfffd, 0x017e, 0x0178}

func charsetReader(cs string, in io.Reader) (io.Reader, error) {
	cs = strings.ToLower(strings.TrimSpace(cs))
	switch cs {
	case "utf-8", "utf8", "us-ascii", "ascii", "":
		return in, nil
	case "iso-8859-1", "latin1", "iso8859-1", "iso_8859-1", "windows-1252", "cp1252":
		data, err := io.ReadAll(io.LimitReader(in, 64<<20))
		if err != nil {
			return nil, err
		}
		var b bytes.Buffer
		b.Grow(len(data) + len(data)/8)
		for _, c := range data {
			r := rune(c)
			if c >= 0x80 && c < 0xa0 && strings.Contains(cs, "1252") {
				r = cp1252[c-0x80]
			}
			if r < utf8.RuneSelf {
				b.WriteByte(byte(r))
			} else {
				b.WriteRune(r)
			}
		}
		return &b, nil
	}
	if r, err := charset.Reader(cs, in); err == nil {
		return r, nil
	}
	return nil, fmt.Errorf("unsupported charset %q", cs)
}
