package passwd

import "testing"

func TestDESCrypt(t *testing.T) {
	// Values from glibc/libxcrypt crypt(3) on Debian 12.
	for _, tc := range []struct{ pw, want string }{
		{"hunter2", "ab0ozUNIgzCZ."},
		{"", "..X8NBuQ4l6uQ"},
		{"averylongpassword", "zZTOPEAnceju."},
	} {
		got, err := desCrypt(tc.pw, tc.want[:2])
		if err != nil || got != tc.want {
			t.Errorf("desCrypt(%q) = %q, %v; want %q", tc.pw, got, err, tc.want)
		}
	}
}
