package arc

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"errors"
	"testing"
	"time"

	"github.com/gomilter/gomilter/internal/mailmsg"
)

func TestBodyHash(t *testing.T) {
	tests := []struct {
		body    string
		relaxed bool
		want    string
	}{
		{"", false, "frcCV1k9oG9oKj3dpUqdJg1PxRT2RSN/XKdLCPjaYaY="},
		{"", true, "47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU="},
		{"This is a test!\r\n", false, "3VWGQGY+cSNYd1MGM+X6hRXU0stl8JCaQtl4mbX/j2I="},
		{"This is a test!\r\n", true, "3VWGQGY+cSNYd1MGM+X6hRXU0stl8JCaQtl4mbX/j2I="},
		{"This  is a\ttest! \r\n\r\n\r\n", true, "3VWGQGY+cSNYd1MGM+X6hRXU0stl8JCaQtl4mbX/j2I="},
		{"This is a test!", true, "3VWGQGY+cSNYd1MGM+X6hRXU0stl8JCaQtl4mbX/j2I="},
		{"This is a test!\r\n\r\n", false, "3VWGQGY+cSNYd1MGM+X6hRXU0stl8JCaQtl4mbX/j2I="},
	}
	for _, tc := range tests {
		got := base64.StdEncoding.EncodeToString(bodyHash([]byte(tc.body), tc.relaxed, -1))
		if got != tc.want {
			t.Errorf("bodyHash(%q, relaxed=%v) = %s, want %s", tc.body, tc.relaxed, got, tc.want)
		}
	}
}

func TestRelaxedHeader(t *testing.T) {
	tests := []struct{ name, value, want string }{
		{"SubJect ", " AbC\r\n\t def  \t", "subject:AbC def"},
		{"X", "", "x:"},
		{"To", "\t a@b ,\r\n c@d", "to:a@b , c@d"},
	}
	for _, tc := range tests {
		if got := relaxedHeader(tc.name, tc.value, false); got != tc.want {
			t.Errorf("relaxedHeader(%q, %q) = %q, want %q", tc.name, tc.value, got, tc.want)
		}
	}
}

func TestParseTags(t *testing.T) {
	ok := []string{"a=1; b=2", " a = 1 ;b=2;", "a=x y"}
	bad := []string{"a=1;;b=2", "a=1; a=2", "=1", "1a=2", "a", ";"}
	for _, s := range ok {
		if _, err := parseTags(s); err != nil {
			t.Errorf("parseTags(%q) = %v", s, err)
		}
	}
	for _, s := range bad {
		if _, err := parseTags(s); err == nil {
			t.Errorf("parseTags(%q) accepted", s)
		}
	}
}

func testMessage() *mailmsg.Message {
	return parseMessage("From: a@example.com\nTo: b@example.net\nSubject: hi\nDate: Thu, 1 Jan 2026 00:00:00 +0000\n" +
		"Authentication-Results: mx.example.org; spf=pass smtp.mailfrom=example.com\n\nbody\n")
}

// TestSealRoundTrip seals twice with Ed25519 and RSA-2048 keys and checks
// the chain verifies, then breaks the body and checks it fails.
func TestSealRoundTrip(t *testing.T) {
	_, edKey, _ := ed25519.GenerateKey(rand.Reader)
	rsaKey, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	der, _ := x509.MarshalPKIXPublicKey(&rsaKey.PublicKey)
	r := mapDNS{
		"ed._domainkey.one.example":  "v=DKIM1; k=ed25519; p=" + base64.StdEncoding.EncodeToString(edKey.Public().(ed25519.PublicKey)),
		"rsa._domainkey.two.example": "v=DKIM1; p=" + base64.StdEncoding.EncodeToString(der),
	}
	now := func() time.Time { return time.Unix(1700000000, 0) }
	m := testMessage()
	for _, s := range []*Sealer{{Domain: "one.example", Selector: "ed", Key: edKey, Now: now},
		{Domain: "two.example", Selector: "rsa", Key: rsaKey, Now: now}} {
		chain := Verify(context.Background(), r, m)
		set, err := s.Seal(m, chain, "mx."+s.Domain, []string{"spf=pass smtp.mailfrom=example.com", "arc=" + chain.Status})
		if err != nil {
			t.Fatalf("Seal: %v", err)
		}
		m.Header = append(set, m.Header...)
	}
	got := Verify(context.Background(), r, m)
	if got.Status != StatusPass || got.Instances != 2 || len(got.Sealers) != 2 || got.Sealers[1] != "two.example" {
		t.Fatalf("Verify = %+v", got)
	}
	m.Body = []byte("changed\r\n")
	if got := Verify(context.Background(), r, m); got.Status != StatusFail {
		t.Errorf("modified body: %+v", got)
	}
}

func TestSealRefusals(t *testing.T) {
	_, key, _ := ed25519.GenerateKey(rand.Reader)
	s := &Sealer{Domain: "x.example", Selector: "s", Key: key}
	m := testMessage()
	m.Header = append([]mailmsg.Field{{Name: HeaderSeal, Value: " i=1; a=rsa-sha256; cv=fail; d=x.example; s=s; b=AAAA"}}, m.Header...)
	if _, err := s.Seal(m, Result{Status: StatusFail}, "mx", nil); !errors.Is(err, ErrChainFailed) {
		t.Errorf("Seal over cv=fail: %v", err)
	}
	if _, err := s.Seal(testMessage(), Result{Status: StatusFail, Temporary: true}, "mx", nil); !errors.Is(err, ErrTemporary) {
		t.Errorf("Seal after a DNS failure: %v", err)
	}
	if _, err := (&Sealer{Domain: "bad domain", Selector: "s", Key: key}).Seal(testMessage(), Result{}, "mx", nil); err == nil {
		t.Errorf("Seal with a bad domain succeeded")
	}
}

func TestTemporaryKeyFailure(t *testing.T) {
	sc := readScenarios[validationScenario](t, "arc-draft-validation-tests.yml")[0]
	m := parseMessage(sc.Tests["cv_pass_i1_1"].Message)
	got := Verify(context.Background(), tempDNS{}, m)
	if got.Status != StatusFail || !got.Temporary {
		t.Errorf("Verify with DNS down = %+v, want fail/temporary", got)
	}
}

type tempDNS struct{}

func (tempDNS) LookupTXT(_ context.Context, name string) ([]string, error) {
	return nil, &dnsTempErr{}
}
