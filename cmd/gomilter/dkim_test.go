package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/gomilter/gomilter/internal/dnstest"
	"github.com/gomilter/gomilter/milter/dkim"
)

// TestDKIMKeygenCheck: keygen writes a 0600 key and a record; check finds
// the record through a DNS server and compares it with the key.
func TestDKIMKeygenCheck(t *testing.T) {
	for _, typ := range []string{"rsa", "ed25519"} {
		dir := t.TempDir()
		var out, errb bytes.Buffer
		if rc := runDKIM([]string{"keygen", "-d", "example.org", "-s", "sel", "-t", typ, "-b", "1024", "-dir", dir}, &out, &errb); rc != 0 {
			t.Fatalf("keygen %s: rc %d: %s", typ, rc, errb.String())
		}
		st, err := os.Stat(filepath.Join(dir, "sel.private"))
		if err != nil || st.Mode().Perm() != 0o600 {
			t.Fatalf("key file: %v %v", st, err)
		}
		if !strings.HasPrefix(out.String(), "sel._domainkey\tIN\tTXT\t( \"v=DKIM1; ") {
			t.Errorf("zone text = %q", out.String())
		}
		data, _ := os.ReadFile(filepath.Join(dir, "sel.private"))
		key, err := dkim.ParsePrivateKey(data)
		if err != nil {
			t.Fatal(err)
		}
		rec, _ := dkim.KeyRecordText(key.Public())
		other, _ := dkim.GenerateKey("ed25519", 0)
		otherRec, _ := dkim.KeyRecordText(other.Public())

		s := dnstest.New(t)
		s.AddTXT("sel._domainkey.example.org", rec)
		s.AddTXT("old._domainkey.example.org", otherRec)
		keyFile := filepath.Join(dir, "sel.private")
		tests := []struct {
			sel  string
			rc   int
			want string
		}{
			{"sel", 0, ": match"},
			{"old", 1, ": mismatch"},
			{"none", 1, ": missing"},
		}
		for _, tc := range tests {
			out.Reset()
			rc := runDKIM([]string{"check", "-d", "example.org", "-s", tc.sel, "-key", keyFile, "-dns", s.Addr()}, &out, &errb)
			if rc != tc.rc || !strings.Contains(out.String(), tc.want) {
				t.Errorf("%s check %s: rc %d, %q; want %d, %q", typ, tc.sel, rc, out.String(), tc.rc, tc.want)
			}
		}
		out.Reset()
		if rc := runDKIM([]string{"check", "-d", "example.org", "-s", "sel", "-dns", s.Addr()}, &out, &errb); rc != 0 || !strings.Contains(out.String(), "published") {
			t.Errorf("check without key: %d %q", rc, out.String())
		}
	}
}
