package dns

import (
	"slices"
	"strings"
	"testing"
)

func TestParseResolvConf(t *testing.T) {
	tests := []struct {
		name, in string
		want     []string
	}{
		{"empty", "", nil},
		{"one", "nameserver 192.0.2.53\n", []string{"192.0.2.53:53"}},
		{"debian", "# Generated\ndomain example.org\nsearch example.org\nnameserver 127.0.0.1\nnameserver ::1\noptions edns0 trust-ad\n",
			[]string{"127.0.0.1:53", "[::1]:53"}},
		{"comments and junk", "; x\n#nameserver 10.0.0.1\nnameserver not-an-ip\nnameserver\nnameserver 10.0.0.2 # trailing\n",
			[]string{"10.0.0.2:53"}},
		{"zone", "nameserver fe80::1%eth0\n", []string{"[fe80::1%eth0]:53"}},
		{"tabs crlf", "nameserver\t192.0.2.1\r\n", []string{"192.0.2.1:53"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := ParseResolvConf(strings.NewReader(tc.in))
			if err != nil || !slices.Equal(got, tc.want) {
				t.Errorf("ParseResolvConf(%q) = %q, %v; want %q", tc.in, got, err, tc.want)
			}
		})
	}
}

func TestParseResolvConfBounded(t *testing.T) {
	big := strings.Repeat("nameserver 192.0.2.1\n", 10000) // 210 kB
	got, err := ParseResolvConf(strings.NewReader(big))
	if err != nil {
		t.Fatal(err)
	}
	if len(got) >= 10000 || len(got) == 0 {
		t.Errorf("read %d servers from a 210 kB file, want only the first 64 KiB", len(got))
	}
}

func TestCanonical(t *testing.T) {
	tests := []struct {
		in, want string
		ok       bool
	}{
		{"Example.ORG", "example.org.", true},
		{"example.org.", "example.org.", true},
		{"_dmarc.example.org", "_dmarc.example.org.", true},
		{"selector._domainkey.example.org", "selector._domainkey.example.org.", true},
		{"1.2.0.192.in-addr.arpa.", "1.2.0.192.in-addr.arpa.", true},
		{"", "", false},
		{".", "", false},
		{"a..b", "", false},
		{".a", "", false},
		// Any octet is legal in a label; specials are escaped for miekg.
		{"a b.org", `a\ b.org.`, true},
		{`a\.b.org`, `a\\.b.org.`, true},
		{"ex\x00ample.org", `ex\000ample.org.`, true},
		{strings.Repeat("a", 63) + ".org", strings.Repeat("a", 63) + ".org.", true},
		{strings.Repeat("a", 64) + ".org", "", false},
		{strings.Repeat("abcdefg.", 31) + "a", strings.Repeat("abcdefg.", 31) + "a.", true}, // 249
		{strings.Repeat("abcdefg.", 32) + "a", "", false},                                   // 257
	}
	for _, tc := range tests {
		got, ok := canonical(tc.in)
		if got != tc.want || ok != tc.ok {
			t.Errorf("canonical(%q) = %q, %v; want %q, %v", tc.in, got, ok, tc.want, tc.ok)
		}
	}
}
