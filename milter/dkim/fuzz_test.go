package dkim

import (
	"bytes"
	"context"
	"crypto"
	"crypto/ed25519"
	"os"
	"path/filepath"
	"strings"
	"testing"

	msgdkim "github.com/emersion/go-msgauth/dkim"

	"github.com/gomilter/gomilter/internal/mailmsg"
)

func FuzzKeyRecord(f *testing.F) {
	data := filepath.Join(suiteDir(f, "dkim"), "dkimpy-data")
	for _, n := range []string{"test.txt", "badk.txt", "badversion.txt", "test_bad.txt", "test_tlsrpt.txt", "eximtest.dns", "ed25519test.dns"} {
		f.Add(string(readFile(f, filepath.Join(data, n))))
	}
	f.Add("v=DKIM1; p=")
	f.Add("v=DKIM1; k=rsa; h=sha1:sha256; s=email:*; t=y:s; p=AAAA")
	f.Fuzz(func(t *testing.T, s string) {
		k, err := ParseKeyRecord(s)
		if err == nil && k.Public == nil {
			t.Fatalf("ParseKeyRecord(%q): no error and no key", s)
		}
		if err == nil {
			// Round trip: the record we would publish for this key parses
			// back to the same key.
			rec, err := KeyRecordText(k.Public)
			if err != nil {
				t.Fatal(err)
			}
			k2, err := ParseKeyRecord(rec)
			if err != nil {
				t.Fatalf("re-parse %q: %v", rec, err)
			}
			a, _ := PublicKeyData(k.Public)
			b, _ := PublicKeyData(k2.Public)
			if a != b {
				t.Fatalf("round trip changed the key")
			}
		}
	})
}

func FuzzSignature(f *testing.F) {
	data := filepath.Join(suiteDir(f, "dkim"), "dkimpy-data")
	for _, n := range []string{"rfc6376.signed.msg", "test2.message", "ed25519test2.msg"} {
		m := parseMessage(f, readFile(f, filepath.Join(data, n)))
		for _, s := range m.All("DKIM-Signature") {
			f.Add(s.Value)
		}
	}
	f.Add(" v=1; a=rsa-sha256; d=example.com; s=test; b=AAAA")
	f.Fuzz(func(t *testing.T, s string) {
		sig, err := ParseSignature(s)
		if err == nil && (sig.Domain == "" || len(sig.Headers) == 0 || len(sig.B) == 0) {
			t.Fatalf("ParseSignature(%q) accepted an incomplete signature", s)
		}
		// removeB must only ever shorten the value and stay idempotent.
		r := removeB(s)
		if len(r) > len(s) || removeB(r) != r {
			t.Fatalf("removeB(%q) = %q", s, r)
		}
		// Verification of any field must not panic, with or without a key.
		m := &mailmsg.Message{Header: []mailmsg.Field{{Name: "DKIM-Signature", Value: s}, {Name: "From", Value: " a@b"}}, Body: []byte("x\r\n")}
		NewVerifier(StaticResolver{}, VerifyOptions{}).Verify(context.Background(), m)
	})
}

func FuzzOpenDKIMConf(f *testing.F) {
	dir := filepath.Join(suiteDir(f, "opendkim"), "tests")
	files, _ := filepath.Glob(filepath.Join(dir, "*.conf"))
	for _, fn := range files {
		f.Add(string(readFile(f, fn)))
	}
	if b, err := os.ReadFile("/etc/opendkim.conf"); err == nil {
		f.Add(string(b))
	}
	f.Fuzz(func(t *testing.T, s string) {
		// Parse with the suite directory as base so file: datasets named
		// in seeds resolve; errors are fine, panics are not.
		opts, _, err := ParseOpenDKIMConf([]byte(s), filepath.Join(dir, "fuzz.conf"))
		if err == nil {
			if _, err := NewSigner(opts); err != nil && opts.SigningTable == nil {
				t.Fatalf("NewSigner on a parsed config: %v", err)
			}
		}
	})
}

func FuzzTables(f *testing.F) {
	dir := filepath.Join(suiteDir(f, "opendkim"), "tests")
	for _, n := range []string{"t-sign-rs-tables.keys", "t-sign-rs-tables.sign", "t-sign-rs-multiple.keys", "t-sign-rs-multiple.sign", "t-peer.list", "t-conf-check2.keytable", "t-sign-rs-tables-bad.keys"} {
		f.Add(string(readFile(f, filepath.Join(dir, n))))
	}
	f.Fuzz(func(t *testing.T, s string) {
		for _, e := range parseDatasetLines([]byte(s)) {
			if strings.ContainsAny(e.Key, " \t\n") || e.Key == "" {
				t.Fatalf("bad key %q", e.Key)
			}
			parseKeyTableValue(e.Key, e.Value, dir)
		}
		d := &dataset{Kind: "file", Entries: parseDatasetLines([]byte(s))}
		ParseHostList(d.keys())
		for _, e := range d.Entries {
			wildcardMatch(e.Key, e.Value)
		}
	})
}

// FuzzBodyCanon checks invariants of the OpenDKIM-compatible body
// canonicalizer: relaxed output is a fixed point on bodies without CR or
// lone LF, output ends in CRLF, and feeding the body in two pieces gives
// the same bytes as feeding it whole.
func FuzzBodyCanon(f *testing.F) {
	for _, s := range []string{"a b\r\n", " a \t\r\n\r\n", "a\rb\r\n", "x\r\n\r\r\n", "", "a", "\r\r\r\n \r\n"} {
		f.Add(s, 1)
	}
	f.Fuzz(func(t *testing.T, s string, cut int) {
		for _, c := range []Canon{Simple, Relaxed} {
			whole := canonBody(s, c)
			if whole != "" && !strings.HasSuffix(whole, "\r\n") {
				t.Fatalf("%v(%q) = %q lacks final CRLF", c, s, whole)
			}
			if cut < 0 || cut > len(s) {
				cut = len(s) / 2
			}
			var b bytes.Buffer
			bc := newBodyCanon(&b, c, -1)
			bc.Write([]byte(s[:cut]))
			bc.Write([]byte(s[cut:]))
			bc.Close()
			if b.String() != whole {
				t.Fatalf("%v(%q) split at %d = %q, whole = %q", c, s, cut, b.String(), whole)
			}
			if c == Relaxed && !strings.Contains(s, "\r") && canonBody(whole, c) != whole {
				t.Fatalf("relaxed(%q) = %q is not a fixed point", s, whole)
			}
		}
	})
}

// FuzzBodyHashVsGoMsgauth: where go-msgauth and OpenDKIM agree (no bare
// CR), our body hash equals the bh= go-msgauth writes when it signs.
func FuzzBodyHashVsGoMsgauth(f *testing.F) {
	for _, s := range []string{"a b\n", " a \t\n\n", "", "x", "\n\n\n", "a  b \t \nc\n \n"} {
		f.Add(s)
	}
	_, key, _ := ed25519.GenerateKey(nil)
	f.Fuzz(func(t *testing.T, s string) {
		body := strings.ReplaceAll(strings.ReplaceAll(s, "\r", ""), "\n", "\r\n")
		for _, c := range []Canon{Simple, Relaxed} {
			var out bytes.Buffer
			err := msgdkim.Sign(&out, strings.NewReader("From: a@b\r\n\r\n"+body), &msgdkim.SignOptions{
				Domain: "b", Selector: "s", Signer: key, BodyCanonicalization: msgdkim.Canonicalization(c.String())})
			if err != nil {
				t.Fatal(err)
			}
			sig, _, _ := strings.Cut(strings.TrimPrefix(out.String(), "DKIM-Signature:"), "\r\nFrom:")
			s, err := ParseSignature(sig)
			if err != nil {
				t.Fatalf("go-msgauth signature %q: %v", sig, err)
			}
			if ours := BodyHash([]byte(body), c, crypto.SHA256, -1); !bytes.Equal(ours, s.BodyHash) {
				t.Fatalf("%v body %q: bh differs from go-msgauth's", c, body)
			}
		}
	})
}
