package spam

import (
	"strings"
	"unicode/utf8"

	"golang.org/x/text/encoding/htmlindex"
)

// normalizeCharset is SpamAssassin 4's normalize_charset, on by default:
// a text part is decoded by its declared charset, so body rules see UTF-8
// (ISO-2022-JP mail, for one, then no longer shows its escape sequences to
// rules such as __ISO_2022_JP_DELIM). As in SA: 7-bit text declared as an
// ASCII superset stays as it is, 8-bit text that is valid UTF-8 is taken
// as UTF-8 whatever it declares, ISO-8859-1 and undeclared text decode as
// Windows-1252, and text that does not decode stays as it is.
func normalizeCharset(b []byte, charset string) []byte {
	cs := strings.ToLower(strings.Trim(strings.TrimSpace(charset), `"'`))
	eight := false
	for _, c := range b {
		if c >= 0x80 {
			eight = true
			break
		}
	}
	if !eight && (cs == "" || asciiSuperset(cs)) {
		return b
	}
	if eight && utf8.Valid(b) {
		return b
	}
	switch cs {
	case "", "us-ascii", "ascii", "iso-8859-1", "iso8859-1", "latin1", "cp1252":
		cs = "windows-1252"
	}
	enc, err := htmlindex.Get(cs)
	if err != nil {
		return b
	}
	out, err := enc.NewDecoder().Bytes(b)
	if err != nil {
		return b
	}
	return out
}

// asciiSuperset: charsets whose 7-bit text is plain ASCII (SA's list).
func asciiSuperset(cs string) bool {
	for _, p := range []string{"us-ascii", "ascii", "ansi_x3.4-", "ansi x3.4-", "iso646-us", "iso-8859", "iso8859",
		"iso 8859", "windows-", "utf-8", "utf8", "koi8-", "euc-", "big5", "gbk", "gb18030", "gb-18030", "gb 18030"} {
		if strings.HasPrefix(cs, p) {
			return true
		}
	}
	return false
}

// transcodeWord turns an encoded word's bytes into UTF-8 by its declared
// charset alone (SA insists on the declared charset for headers); bytes
// that do not decode stay as they are.
func transcodeWord(b []byte, charset string) []byte {
	cs := strings.ToLower(charset)
	if i := strings.IndexByte(cs, '*'); i >= 0 {
		cs = cs[:i] // RFC 2231 language suffix
	}
	switch cs {
	case "utf-8", "utf8":
		return b
	case "", "us-ascii", "ascii", "iso-8859-1", "iso8859-1", "latin1", "cp1252":
		cs = "windows-1252"
	}
	ascii := true
	for _, c := range b {
		if c >= 0x80 || c == 0x1b {
			ascii = false
			break
		}
	}
	if ascii && asciiSuperset(cs) {
		return b
	}
	enc, err := htmlindex.Get(cs)
	if err != nil {
		return b
	}
	out, err := enc.NewDecoder().Bytes(b)
	if err != nil {
		return b
	}
	return out
}
