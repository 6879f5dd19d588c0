package arc

import (
	"context"
	"testing"
)

// FuzzVerify feeds whole messages (seeded with the suite's) to Verify:
// it must not panic and must only answer none, pass or fail.
func FuzzVerify(f *testing.F) {
	var txt map[string]string
	for _, sc := range readScenarios[validationScenario](f, "arc-draft-validation-tests.yml") {
		txt = sc.TXT
		for _, tc := range sc.Tests {
			f.Add(tc.Message)
		}
		break
	}
	f.Fuzz(func(t *testing.T, msg string) {
		got := Verify(context.Background(), mapDNS(txt), parseMessage(msg))
		switch got.Status {
		case StatusNone, StatusPass, StatusFail:
		default:
			t.Fatalf("status %q", got.Status)
		}
	})
}

func FuzzParseTags(f *testing.F) {
	for _, s := range []string{"a=rsa-sha256; b=abc; cv=none; d=example.org; i=1; s=dummy; t=12345", "i=1;;", " a = b ; c=d e;"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		tags, err := parseTags(s)
		if err != nil {
			return
		}
		for k := range tags {
			if !validTagName(k) {
				t.Fatalf("bad tag name %q accepted", k)
			}
		}
		_ = stripB(s)
	})
}

func FuzzParseKey(f *testing.F) {
	f.Add("v=DKIM1; k=rsa; p=MIGfMA0GCSqGSIb3DQEBAQUAA4GNADCBiQKBgQDkHlOQoBTzWRiGs5V6NpP3idY6Wk08a5qhdR6wy5bdOKb2jLQiY/J16JYi0Qvx/byYzCNb3W91y3FutACDfzwQ/BC/e/8uBsCR+yz1Lxj+PL6lHvqMKrM3rG4hstT5QjvHO9PzoxZyVYLzBfO2EeC3Ip3G+2kryOTIKT+l/K4w3QIDAQAB")
	f.Add("v=DKIM1; k=ed25519; p=11qYAYKxCrfVS/7TyWQHOg7hcvPapiMlrwIaaPcHURo=")
	f.Fuzz(func(t *testing.T, s string) {
		if k, err := parseKey(s); err == nil && k.rsa == nil && k.ed25519 == nil {
			t.Fatal("nil key accepted")
		}
	})
}
