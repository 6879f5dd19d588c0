package main

import (
	"bytes"
	"context"
	"log/slog"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/gomilter/gomilter/internal/dnstest"
	"github.com/gomilter/gomilter/internal/listen"
	"github.com/gomilter/gomilter/internal/milterclient"
	"github.com/gomilter/gomilter/milter"
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

// TestDKIMMilter runs "gomilter dkim milter" in-process on an
// opendkim.conf: mail from 127.0.0.1 is signed; the signed copy sent from
// outside gets an Authentication-Results with dkim=pass; a tampered copy
// gets dkim=fail, and a forged A-R with our authserv-id is deleted.
func TestDKIMMilter(t *testing.T) {
	dir := t.TempDir()
	var out, errb bytes.Buffer
	if rc := runDKIM([]string{"keygen", "-d", "example.com", "-s", "sel", "-t", "ed25519", "-dir", dir}, &out, &errb); rc != 0 {
		t.Fatal(errb.String())
	}
	data, _ := os.ReadFile(filepath.Join(dir, "sel.private"))
	key, _ := dkim.ParsePrivateKey(data)
	rec, _ := dkim.KeyRecordText(key.Public())
	os.WriteFile(filepath.Join(dir, "pub"), []byte("sel._domainkey.example.com "+rec+"\n"), 0o600)
	conf := "Domain example.com\nSelector sel\nKeyFile sel.private\nTestPublicKeys pub\nCanonicalization relaxed/simple\nAuthservID mx.test\n"
	os.WriteFile(filepath.Join(dir, "opendkim.conf"), []byte(conf), 0o600)
	sock := filepath.Join(dir, "m.sock")
	log := slog.New(slog.DiscardHandler)
	_, newFilter, l, err := dkimMilterSetup(filepath.Join(dir, "opendkim.conf"), "unix:"+sock, "", "", log)
	if err != nil {
		t.Fatal(err)
	}
	srv, _ := milter.NewServer(newFilter, milter.Options{Logger: log})
	ln, err := listen.Open(l)
	if err != nil {
		t.Fatal(err)
	}
	go srv.Serve(ln)
	t.Cleanup(func() { srv.Close() })

	msg := "From: a@example.com\r\nAuthentication-Results: mx.test; dkim=pass (forged)\r\nSubject: hi\r\n\r\nbody\r\n"
	res := milterTx(t, sock, "127.0.0.1", msg)
	var sig string
	for _, m := range res.HeadersAdded() {
		if m.Name == "DKIM-Signature" {
			sig = strings.ReplaceAll(m.Value, "\n", "\r\n")
		}
	}
	if sig == "" {
		t.Fatalf("not signed: %+v", res.Mods)
	}
	signed := "DKIM-Signature: " + sig + "\r\n" + msg
	for _, tc := range []struct{ msg, want string }{
		{signed, "dkim=pass"},
		{strings.Replace(signed, "body", "b0dy", 1), "dkim=fail"},
	} {
		res := milterTx(t, sock, "192.0.2.1", tc.msg)
		var ar []string
		deleted := false
		for _, m := range res.Mods {
			if m.Name == "Authentication-Results" && m.Value != "" {
				ar = append(ar, m.Value)
			}
			if m.Name == "Authentication-Results" && m.Value == "" {
				deleted = true
			}
		}
		if len(ar) != 1 || !strings.Contains(ar[0], tc.want) || !strings.HasPrefix(strings.TrimSpace(ar[0]), "mx.test;") || !deleted {
			t.Errorf("%s: A-R %q, forged deleted %v", tc.want, ar, deleted)
		}
	}
}

func milterTx(t *testing.T, sock, ip, msg string) *milterclient.Result {
	t.Helper()
	ctx := context.Background()
	c, err := milterclient.Dial(ctx, "unix", sock, milterclient.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if _, err := c.Connect(ctx, "client.example", netip.MustParseAddr(ip), 4000); err != nil {
		t.Fatal(err)
	}
	res, err := c.Transaction(ctx, milterclient.Tx{From: "a@example.com", Rcpts: []string{"b@example.org"}, Message: []byte(msg)})
	if err != nil {
		t.Fatal(err)
	}
	return res
}
