package dmarc

import (
	"errors"
	"reflect"
	"testing"
)

func TestParse(t *testing.T) {
	tests := []struct {
		in   string
		want *Record
		err  error
	}{
		{in: "v=DMARC1; p=reject", want: &Record{ValidP: true, Policy: PolicyReject, SubPolicy: PolicyReject, NPPolicy: PolicyReject, PSD: 'u', DKIM: Relaxed, SPF: Relaxed, Percent: 100, FO: "0"}},
		{in: "v=DMARC1;p=quarantine;sp=none;np=reject;adkim=s;aspf=S;pct=20;rua=mailto:a@x.example!10m, mailto:b@y.example;ruf=mailto:f@x.example;fo=1;psd=n;t=y;rf=afrf;ri=3600",
			want: &Record{ValidP: true, Policy: PolicyQuarantine, SubPolicy: PolicyNone, NPPolicy: PolicyReject, HasSP: true, HasNP: true, PSD: 'n', Testing: true, DKIM: Strict, SPF: Strict, Percent: 20,
				RUA: []string{"mailto:a@x.example!10m", "mailto:b@y.example"}, RUF: []string{"mailto:f@x.example"}, FO: "1"}},
		// RFC 9989: no or an invalid p= means none; unknown tags ignored.
		{in: "v=DMARC1; rua=mailto:r@x.example; foo=bar", want: &Record{Policy: PolicyNone, SubPolicy: PolicyNone, NPPolicy: PolicyNone, PSD: 'u', DKIM: Relaxed, SPF: Relaxed, Percent: 100, FO: "0", RUA: []string{"mailto:r@x.example"}}},
		{in: "v=DMARC1; p=bogus; sp=reject; pct=300; adkim=x", want: &Record{Policy: PolicyNone, SubPolicy: PolicyReject, NPPolicy: PolicyReject, HasSP: true, PSD: 'u', DKIM: Relaxed, SPF: Relaxed, Percent: 100, FO: "0"}},
		{in: " v = DMARC1 ; p = reject ; p=none ;", want: &Record{ValidP: true, Policy: PolicyReject, SubPolicy: PolicyReject, NPPolicy: PolicyReject, PSD: 'u', DKIM: Relaxed, SPF: Relaxed, Percent: 100, FO: "0"}},
		{in: "p=reject; v=DMARC1", err: ErrNotDMARC},
		{in: "v=DMARC2; p=reject", err: ErrNotDMARC},
		{in: "v=spf1 -all", err: ErrNotDMARC},
		{in: "", err: ErrNotDMARC},
	}
	for _, tc := range tests {
		got, err := Parse(tc.in)
		if !errors.Is(err, tc.err) {
			t.Errorf("Parse(%q) err = %v, want %v", tc.in, err, tc.err)
			continue
		}
		if err != nil {
			continue
		}
		got.Raw = ""
		if !reflect.DeepEqual(got, tc.want) {
			t.Errorf("Parse(%q) =\n%+v\nwant\n%+v", tc.in, got, tc.want)
		}
	}
}

func TestMailtoAddrs(t *testing.T) {
	got := MailtoAddrs([]string{"mailto:a@x.example!10m", "MAILTO:b@y.example", "https://x", "mailto:nope"})
	want := []string{"a@x.example", "b@y.example"}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("MailtoAddrs = %v, want %v", got, want)
	}
}

func FuzzParse(f *testing.F) {
	for _, s := range []string{"v=DMARC1; p=reject", "v=DMARC1;p=quarantine;sp=none;np=reject;adkim=s;aspf=s;pct=20;rua=mailto:a@x!10m;psd=y;t=y",
		"v=DMARC1; p=none; rua=mailto:dmarc_agg@vali.email,mailto:x@y.example; ruf=mailto:z@y.example; fo=1"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		r, err := Parse(s)
		if err != nil {
			return
		}
		if _, ok := parsePolicy(string(r.Policy)); !ok {
			t.Fatalf("Parse(%q): policy %q", s, r.Policy)
		}
		if _, ok := parsePolicy(string(r.NPPolicy)); !ok || r.Percent < 0 || r.Percent > 100 {
			t.Fatalf("Parse(%q): bad record %+v", s, r)
		}
		_ = MailtoAddrs(r.RUA)
	})
}
