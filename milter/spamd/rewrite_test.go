package spamd

import (
	"testing"

	"github.com/gomilter/gomilter/internal/mailmsg"
)

func TestRewrite(t *testing.T) {
	add := []mailmsg.Field{{Name: "X-Spam-Flag", Value: " YES"}}
	tests := []struct {
		name, in, subject, want string
		remove                  []string
	}{
		{"append LF", "A: 1\nB: 2\n\nbody\n", "", "A: 1\nB: 2\nX-Spam-Flag: YES\n\nbody\n", nil},
		{"append CRLF", "A: 1\r\n\r\nbody\r\n", "", "A: 1\r\nX-Spam-Flag: YES\r\n\r\nbody\r\n", nil},
		{"no body", "A: 1\n", "", "A: 1\nX-Spam-Flag: YES\n\n", nil},
		{"remove folded", "X-Spam-Flag: NO\n\tmore\nA: 1\n\nb\n", "", "A: 1\nX-Spam-Flag: YES\n\nb\n", []string{"x-spam-flag"}},
		{"subject", "Subject: hi\n there\nA: 1\n\nb\n", "***SPAM*** hi there", "Subject: ***SPAM*** hi there\nA: 1\nX-Spam-Flag: YES\n\nb\n", nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := string(Rewrite([]byte(tc.in), add, tc.remove, tc.subject)); got != tc.want {
				t.Errorf("Rewrite(%q) = %q, want %q", tc.in, got, tc.want)
			}
		})
	}
}
