package spam

import "testing"

func TestNormalizeCharset(t *testing.T) {
	for _, tc := range []struct {
		in, charset, want string
	}{
		{"plain ascii", "us-ascii", "plain ascii"},
		{"plain ascii", "", "plain ascii"},
		{"caf\xe9", "iso-8859-1", "caf\u00e9"},       // Windows-1252 decoding, UTF-8 out
		{"\x93quoted\x94", "", "\u201cquoted\u201d"}, // undeclared 8-bit: Windows-1252
		{"caf\u00e9", "iso-8859-1", "caf\u00e9"},     // valid UTF-8 wins over the declaration
		{"\x1b$B$3$s$K$A$O\x1b(B", "ISO-2022-JP", "\u3053\u3093\u306b\u3061\u306f"},
		{"\x1b$B$3$s\x1b(B", "x-unknown-charset", "\x1b$B$3$s\x1b(B"}, // unknown: unchanged
	} {
		if got := string(normalizeCharset([]byte(tc.in), tc.charset)); got != tc.want {
			t.Errorf("normalizeCharset(%q, %q) = %q, want %q", tc.in, tc.charset, got, tc.want)
		}
	}
}

func TestDecodeHeaderCharsets(t *testing.T) {
	for _, tc := range []struct{ raw, want string }{
		{"=?ISO-2022-JP?B?GyRCJDMkcyRLJEEkTxsoQg==?=", "\u3053\u3093\u306b\u3061\u306f"},
		{"=?iso-8859-1?q?caf=E9?=", "caf\u00e9"},
		{"=?utf-8?b?Y2Fmw6k=?=", "caf\u00e9"},
		{"=?bogus?q?caf=E9?=", "caf\xe9"},
	} {
		if got := decodeHeaderValue("Subject", tc.raw); got != tc.want {
			t.Errorf("decodeHeaderValue(%q) = %q, want %q", tc.raw, got, tc.want)
		}
	}
}
