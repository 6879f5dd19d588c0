package dkim

import (
	"bytes"
	"context"
	"crypto"
	"encoding/base64"
	"path/filepath"
	"strings"
	"testing"
	"time"

	msgdkim "github.com/emersion/go-msgauth/dkim"

	"github.com/gomilter/gomilter/internal/mailmsg"
)

func TestBodyHashConstants(t *testing.T) {
	tests := []struct {
		body string
		c    Canon
		want string
	}{
		{"", Simple, "frcCV1k9oG9oKj3dpUqdJg1PxRT2RSN/XKdLCPjaYaY="},
		{"", Relaxed, "47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU="},
		{"\r\n\r\n", Simple, "frcCV1k9oG9oKj3dpUqdJg1PxRT2RSN/XKdLCPjaYaY="},
		{"\r\n \r\n", Relaxed, "47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU="},
		{"This is a test!\r\n", Simple, "3VWGQGY+cSNYd1MGM+X6hRXU0stl8JCaQtl4mbX/j2I="},
		{"This is a test!\r\n", Relaxed, "3VWGQGY+cSNYd1MGM+X6hRXU0stl8JCaQtl4mbX/j2I="},
		{"This  is a \t test! \r\n\r\n", Relaxed, "3VWGQGY+cSNYd1MGM+X6hRXU0stl8JCaQtl4mbX/j2I="},
		{"This is a test!\n", Simple, "3VWGQGY+cSNYd1MGM+X6hRXU0stl8JCaQtl4mbX/j2I="},
	}
	for _, tc := range tests {
		got := base64.StdEncoding.EncodeToString(BodyHash([]byte(tc.body), tc.c, crypto.SHA256, -1))
		if got != tc.want {
			t.Errorf("BodyHash(%q, %v) = %s, want %s", tc.body, tc.c, got, tc.want)
		}
	}
}

// canonBody returns the canonical bytes (not the hash) for table tests.
func canonBody(body string, c Canon) string {
	var b bytes.Buffer
	bc := newBodyCanon(&b, c, -1)
	bc.Write([]byte(body))
	bc.Close()
	return b.String()
}

func TestBodyCanon(t *testing.T) {
	tests := []struct {
		name, in      string
		simple, relax string
	}{
		{"plain", "a b\r\n", "a b\r\n", "a b\r\n"},
		{"wsp", " a  \t b \r\n", " a  \t b \r\n", " a b\r\n"},
		{"trailing blanks", "a\r\n\r\n\r\n", "a\r\n", "a\r\n"},
		{"inner blanks", "a\r\n\r\n\r\nb\r\n", "a\r\n\r\n\r\nb\r\n", "a\r\n\r\n\r\nb\r\n"},
		{"no final crlf", "a", "a\r\n", "a\r\n"},
		{"empty", "", "\r\n", ""},
		{"bare LF", "a\nb\n\n", "a\r\nb\r\n", "a\r\nb\r\n"},
		// OpenDKIM's treatment of bare CR (dkim-canon.c), see bodyCanon.
		{"lone CR mid-line", "a\rb\r\n", "a\rb\r\n", "ab\r\n"},
		{"CR CR", "a\r\rb\r\n", "a\r\rb\r\n", "a\rb\r\n"},
		{"CR before CRLF", "a\r\r\n", "a\r\r\n", "a\r\r\n"},
		{"CR then space", "a\r b\r\n", "a\r b\r\n", "a b\r\n"},
		{"space then CR", "a \rb\r\n", "a \rb\r\n", "ab\r\n"},
		{"CR-only line inside", "a\r\n\r\r\nb\r\n", "a\r\n\r\nb\r\n", "a\r\n\r\r\nb\r\n"},
		{"CR-only line at end", "a\r\n\r\r\n", "a\r\n", "a\r\n\r\r\n"},
		{"long line", strings.Repeat("x", 5000) + "\r\n", strings.Repeat("x", 5000) + "\r\n", strings.Repeat("x", 5000) + "\r\n"},
	}
	for _, tc := range tests {
		if got := canonBody(tc.in, Simple); got != tc.simple {
			t.Errorf("%s: simple(%q) = %q, want %q", tc.name, tc.in, got, tc.simple)
		}
		if got := canonBody(tc.in, Relaxed); got != tc.relax {
			t.Errorf("%s: relaxed(%q) = %q, want %q", tc.name, tc.in, got, tc.relax)
		}
	}
}

func TestRelaxedHeader(t *testing.T) {
	tests := []struct{ name, value, want string }{
		{"Subject", " Hello  World \r\n\tagain ", "subject:Hello World again\r\n"},
		{"SUBJECT ", "x", "subject:x\r\n"},
		{"To", "\r\n\ta@b", "to:a@b\r\n"},
		{"X", "", "x:\r\n"},
		// OpenDKIM (and so gomilter) count CR, LF, VT, FF as white space.
		{"Subject", " a\rb \r c", "subject:a b c\r\n"},
		{"Subject", " a\vb\fc \v", "subject:a b c\r\n"},
	}
	for _, tc := range tests {
		if got := string(appendHeader(nil, Relaxed, tc.name, tc.value, false)); got != tc.want {
			t.Errorf("relaxed(%q, %q) = %q, want %q", tc.name, tc.value, got, tc.want)
		}
	}
}

func dkimpyResolver(t *testing.T) StaticResolver {
	dir := suiteDir(t, "dkim")
	r := StaticResolver{}
	zoneFile(t, filepath.Join(dir, "zone-extracted.txt"), r)
	data := filepath.Join(dir, "dkimpy-data")
	testTxt := strings.TrimSpace(string(readFile(t, filepath.Join(data, "test.txt"))))
	r["test._domainkey.example.com"] = []string{testTxt}
	r["test._domainkey.football.example.com"] = []string{testTxt}
	r["sed._domainkey.test.ex"] = []string{strings.TrimSpace(string(readFile(t, filepath.Join(data, "eximtest.dns"))))}
	return r
}

func TestDkimpyVectors(t *testing.T) {
	r := dkimpyResolver(t)
	data := filepath.Join(suiteDir(t, "dkim"), "dkimpy-data")
	tests := []struct {
		file string
		want []Status
	}{
		{"rfc6376.signed.msg", []Status{StatusPass, StatusPass}},
		{"test2.message", []Status{StatusPass}},
		{"ed25519test2.msg", []Status{StatusPass}},
	}
	v := NewVerifier(r, VerifyOptions{})
	for _, tc := range tests {
		m := parseMessage(t, readFile(t, filepath.Join(data, tc.file)))
		res := v.Verify(context.Background(), m)
		if len(res) != len(tc.want) {
			t.Fatalf("%s: %d results, want %d", tc.file, len(res), len(tc.want))
		}
		for i, r := range res {
			if r.Status != tc.want[i] {
				t.Errorf("%s sig %d (d=%s s=%s): %s (%s), want %s", tc.file, i, r.Domain, r.Selector, r.Status, r.Reason, tc.want[i])
			}
		}
	}
}

// TestDkimpyBadKeys signs test.message with test.private and serves
// broken key records: none may pass.
func TestDkimpyBadKeys(t *testing.T) {
	data := filepath.Join(suiteDir(t, "dkim"), "dkimpy-data")
	key, err := ParsePrivateKey(readFile(t, filepath.Join(data, "test.private")))
	if err != nil {
		t.Fatal(err)
	}
	m := parseMessage(t, readFile(t, filepath.Join(data, "test.message")))
	signed := signWith(t, m, key, "example.com", "test", Relaxed, Simple)
	tests := []struct {
		file string
		want Status
	}{
		{"test.txt", StatusPass},
		{"badversion.txt", StatusPermError},
		{"badk.txt", StatusPermError},
		{"test_bad.txt", StatusPermError},
		{"test_tlsrpt.txt", StatusPermError},
	}
	for _, tc := range tests {
		rec := strings.TrimSpace(string(readFile(t, filepath.Join(data, tc.file))))
		v := NewVerifier(StaticResolver{"test._domainkey.example.com": {rec}}, VerifyOptions{})
		res := v.Verify(context.Background(), signed)
		if len(res) != 1 || res[0].Status != tc.want {
			t.Errorf("key %s: %+v, want %s", tc.file, res, tc.want)
		}
	}
}

// signWith signs m with one key through a Signer built on a KeyTable.
func signWith(t testing.TB, m *mailmsg.Message, key crypto.Signer, d, s string, hc, bc Canon) *mailmsg.Message {
	t.Helper()
	pemData, err := MarshalPrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	opts := DefaultOptions()
	opts.KeyTable = []KeySpec{{Name: "k", Domain: d, Selector: s, Data: string(pemData)}}
	opts.SigningTable = &SigningTable{Wildcard: true, Rules: []SigningRule{{Pattern: "*", KeyName: "k"}}}
	opts.HeaderCanon, opts.BodyCanon = hc, bc
	opts.KeyCheck = KeyCheckOff
	signer, err := NewSigner(opts)
	if err != nil {
		t.Fatal(err)
	}
	fields, err := signer.Sign(context.Background(), m, []SignRequest{{KeyName: "k", Domain: d, Selector: s}})
	if err != nil || len(fields) != 1 {
		t.Fatalf("Sign: %v, %d fields", err, len(fields))
	}
	return prepend(m, fields...)
}

// goMsgauthVerify checks a message with go-msgauth, the independent
// implementation, and returns its error per signature.
func goMsgauthVerify(t testing.TB, m *mailmsg.Message, r StaticResolver) []error {
	t.Helper()
	vs, err := msgdkim.VerifyWithOptions(bytes.NewReader(render(m)), &msgdkim.VerifyOptions{
		LookupTXT: func(name string) ([]string, error) { return r.LookupTXT(context.Background(), name) },
	})
	if err != nil {
		t.Fatalf("go-msgauth: %v", err)
	}
	out := make([]error, len(vs))
	for i, v := range vs {
		out[i] = v.Err
	}
	return out
}

func TestRoundTrip(t *testing.T) {
	data := filepath.Join(suiteDir(t, "dkim"), "dkimpy-data")
	rsaKey, err := ParsePrivateKey(readFile(t, filepath.Join(data, "test.private")))
	if err != nil {
		t.Fatal(err)
	}
	edKey, err := ParsePrivateKey(readFile(t, filepath.Join(data, "ed25519test.key")))
	if err != nil {
		t.Fatal(err)
	}
	r := StaticResolver{}
	for sel, k := range map[string]crypto.Signer{"rsa": rsaKey, "ed": edKey} {
		rec, _ := KeyRecordText(k.Public())
		r[sel+"._domainkey.example.com"] = []string{rec}
	}
	if got := r["ed._domainkey.example.com"][0]; !strings.Contains(got, strings.TrimPrefix(strings.TrimSpace(string(readFile(t, filepath.Join(data, "ed25519test.dns")))), "k=ed25519; ")) {
		t.Errorf("ed25519 record %q does not match ed25519test.dns", got)
	}
	v := NewVerifier(r, VerifyOptions{})
	for _, file := range []string{"test.message", "test_extra.message", "message.mbox", "ed25519test.msg", "rfc6376.msg"} {
		m := parseMessage(t, readFile(t, filepath.Join(data, file)))
		for _, sel := range []string{"rsa", "ed"} {
			k := map[string]crypto.Signer{"rsa": rsaKey, "ed": edKey}[sel]
			for _, hc := range []Canon{Simple, Relaxed} {
				for _, bc := range []Canon{Simple, Relaxed} {
					signed := signWith(t, m, k, "example.com", sel, hc, bc)
					res := v.Verify(context.Background(), signed)
					if len(res) < 1 || res[0].Status != StatusPass {
						t.Errorf("%s %s %v/%v: ours %+v", file, sel, hc, bc, res)
					}
					if errs := goMsgauthVerify(t, signed, r); errs[0] != nil {
						t.Errorf("%s %s %v/%v: go-msgauth: %v", file, sel, hc, bc, errs[0])
					}
				}
			}
		}
	}
}

func TestTamperAndDNS(t *testing.T) {
	data := filepath.Join(suiteDir(t, "dkim"), "dkimpy-data")
	key, _ := ParsePrivateKey(readFile(t, filepath.Join(data, "test.private")))
	rec := strings.TrimSpace(string(readFile(t, filepath.Join(data, "test.txt"))))
	m := parseMessage(t, readFile(t, filepath.Join(data, "test.message")))
	signed := signWith(t, m, key, "example.com", "test", Relaxed, Relaxed)
	ctx := context.Background()

	body := *signed
	body.Body = append([]byte("X"), signed.Body...)
	hdr := *signed
	hdr.Header = append([]mailmsg.Field{}, signed.Header...)
	for i, f := range hdr.Header {
		if strings.EqualFold(f.Name, "subject") {
			hdr.Header[i].Value += "!"
		}
	}
	tests := []struct {
		name string
		m    *mailmsg.Message
		r    TXTResolver
		want Status
	}{
		{"ok", signed, StaticResolver{"test._domainkey.example.com": {rec}}, StatusPass},
		{"body", &body, StaticResolver{"test._domainkey.example.com": {rec}}, StatusFail},
		{"header", &hdr, StaticResolver{"test._domainkey.example.com": {rec}}, StatusFail},
		{"nokey", signed, StaticResolver{}, StatusPermError},
		{"revoked", signed, StaticResolver{"test._domainkey.example.com": {"v=DKIM1; p="}}, StatusPermError},
		{"timeout", signed, timeoutResolver{}, StatusTempError},
	}
	for _, tc := range tests {
		res := NewVerifier(tc.r, VerifyOptions{}).Verify(ctx, tc.m)
		if len(res) != 1 || res[0].Status != tc.want {
			t.Errorf("%s: %+v, want %s", tc.name, res, tc.want)
			continue
		}
		if res[0].Domain != "example.com" || res[0].Selector != "test" || len(res[0].HeaderB()) != 8 {
			t.Errorf("%s: result fields %+v", tc.name, res[0])
		}
	}
}

type timeoutResolver struct{}

type tempErr struct{}

func (tempErr) Error() string   { return "timeout" }
func (tempErr) Temporary() bool { return true }

func (timeoutResolver) LookupTXT(context.Context, string) ([]string, error) {
	return nil, tempErr{}
}

func TestExpiredAndSyntax(t *testing.T) {
	data := filepath.Join(suiteDir(t, "dkim"), "dkimpy-data")
	key, _ := ParsePrivateKey(readFile(t, filepath.Join(data, "test.private")))
	rec := strings.TrimSpace(string(readFile(t, filepath.Join(data, "test.txt"))))
	r := StaticResolver{"test._domainkey.example.com": {rec}}
	m := parseMessage(t, readFile(t, filepath.Join(data, "test.message")))
	signed := signWith(t, m, key, "example.com", "test", Relaxed, Relaxed)
	later := NewVerifier(r, VerifyOptions{Now: func() time.Time { return time.Now().Add(time.Hour) }})
	if res := later.Verify(context.Background(), signed); res[0].Status != StatusPass {
		t.Errorf("no x=: %+v", res)
	}
	bad := prepend(m, mailmsg.Field{Name: "DKIM-Signature", Value: " v=1; a=rsa-sha256; d=example.com; s=test; b=AAAA"})
	res := NewVerifier(r, VerifyOptions{}).Verify(context.Background(), bad)
	if len(res) != 1 || res[0].Status != StatusNeutral || res[0].Domain != "example.com" {
		t.Errorf("syntax error: %+v", res)
	}
	double := prepend(signed, mailmsg.Field{Name: "From", Value: " evil@example.net"})
	if res := NewVerifier(r, VerifyOptions{}).Verify(context.Background(), double); res[0].Status != StatusPermError {
		t.Errorf("double From: %+v", res)
	}
	if got := NewVerifier(r, VerifyOptions{}).Verify(context.Background(), m); got != nil {
		t.Errorf("unsigned: %+v, want nil", got)
	}
}
