package authres

import (
	"net/netip"
	"reflect"
	"strings"
	"testing"

	"github.com/gomilter/gomilter/internal/mailmsg"
)

func TestFormat(t *testing.T) {
	got := Format("mx.example.org", []Result{
		SPF("pass", "mailfrom", "sender@example.com"),
		DKIM(DKIMSig{Result: "pass", Domain: "example.com", Selector: "sel", Algorithm: "rsa-sha256", B: "AbCdEf12 345"}),
		DMARC("pass", "reject", "", "none", "example.com"),
		ARC("pass", netip.MustParseAddr("192.0.2.1"), 1),
	})
	want := " mx.example.org;\r\n" +
		"\tspf=pass smtp.mailfrom=sender@example.com;\r\n" +
		"\tdkim=pass header.d=example.com header.i=@example.com header.s=sel\r\n\t header.a=rsa-sha256 header.b=AbCdEf12;\r\n" +
		"\tdmarc=pass (p=reject dis=none) header.from=example.com;\r\n" +
		"\tarc=pass smtp.remote-ip=192.0.2.1 header.oldest-pass=1"
	if got != want {
		t.Errorf("Format =\n%q\nwant\n%q", got, want)
	}
	for _, line := range strings.Split(HeaderName+":"+got, "\r\n") {
		if len(line) > maxLine+8 {
			t.Errorf("line too long (%d): %q", len(line), line)
		}
	}
	if got := Format("mx", nil); got != " mx; none" {
		t.Errorf("Format(no results) = %q", got)
	}
}

func TestFormatQuoting(t *testing.T) {
	got := Format("mx", []Result{{Method: "dkim", Value: "fail", Reason: `bad "sig"`,
		Comment: "a (nested) c", Props: []Prop{{"header", "d", "ex ample"}}}})
	want := " mx;\r\n\tdkim=fail (a \\(nested\\) c) reason=\"bad \\\"sig\\\"\" header.d=\"ex ample\""
	if got != want {
		t.Errorf("got %q want %q", got, want)
	}
	id, rs, err := Parse(got)
	if err != nil || id != "mx" || len(rs) != 1 || rs[0].Reason != `bad "sig"` ||
		rs[0].Comment != "a (nested) c" || rs[0].Prop("header", "d") != "ex ample" {
		t.Errorf("Parse(%q) = %q %+v %v", got, id, rs, err)
	}
}

func TestRoundTrip(t *testing.T) {
	in := []Result{
		SPF("softfail", "helo", "mail.example.com"),
		DKIM(DKIMSig{Result: "fail", Reason: "body hash mismatch", Domain: "d.example", Identity: "u@d.example", Selector: "s1", Algorithm: "ed25519-sha256", B: "abc/+=de"}),
		DMARC("fail", "quarantine", "none", "quarantine", "d.example"),
		ARC("fail", netip.Addr{}, 0),
	}
	id, out, err := Parse(Format("Mx.Example", in))
	if err != nil || id != "Mx.Example" {
		t.Fatalf("Parse: %q %v", id, err)
	}
	for i := range in {
		in[i].Props = nonEmpty(in[i].Props)
	}
	if !reflect.DeepEqual(in, out) {
		t.Errorf("round trip:\n%+v\n%+v", in, out)
	}
}

func nonEmpty(ps []Prop) []Prop {
	var out []Prop
	for _, p := range ps {
		if p.Value != "" {
			out = append(out, p)
		}
	}
	return out
}

func TestParse(t *testing.T) {
	tests := []struct {
		in      string
		id      string
		n       int
		method  string
		value   string
		prop    string
		wantErr bool
	}{
		{in: " mx.google.com;\r\n       dkim=pass header.i=@example.com header.s=20230601 header.b=XoJ1VX4v;\r\n       spf=pass (google.com: domain of a@b.example designates 1.2.3.4 as permitted sender) smtp.mailfrom=a@b.example",
			id: "mx.google.com", n: 2, method: "dkim", value: "pass", prop: "@example.com"},
		{in: "example.net 1; none", id: "example.net", n: 0},
		{in: "(c) \"quoted.id\" ; spf = pass smtp . mailfrom = x@y", id: "quoted.id", n: 1, method: "spf", value: "pass"},
		{in: "mx; dkim/1=pass header.i=@x (comment; with semicolon)", id: "mx", n: 1, method: "dkim", value: "pass", prop: "@x"},
		{in: "mx; junk", id: "mx", wantErr: true},
		{in: "mx; spf=pass (unbalanced", wantErr: true},
		{in: "   ", wantErr: true},
		{in: "mx junk; spf=pass", id: "mx", wantErr: true},
	}
	for _, tc := range tests {
		id, rs, err := Parse(tc.in)
		if (err != nil) != tc.wantErr {
			t.Errorf("Parse(%q) err = %v, wantErr %v", tc.in, err, tc.wantErr)
			continue
		}
		if tc.wantErr {
			continue
		}
		if id != tc.id || len(rs) != tc.n {
			t.Errorf("Parse(%q) = %q, %d results, want %q, %d", tc.in, id, len(rs), tc.id, tc.n)
			continue
		}
		if tc.n > 0 && (rs[0].Method != tc.method || rs[0].Value != tc.value) {
			t.Errorf("Parse(%q)[0] = %+v", tc.in, rs[0])
		}
		if tc.prop != "" && rs[0].Prop("header", "i") != tc.prop {
			t.Errorf("Parse(%q) header.i = %q, want %q", tc.in, rs[0].Prop("header", "i"), tc.prop)
		}
	}
}

func TestForged(t *testing.T) {
	h := []mailmsg.Field{
		{Name: "Received", Value: " from x"},
		{Name: "Authentication-Results", Value: " MX.Example.ORG; spf=pass smtp.mailfrom=a@b"},
		{Name: "authentication-results", Value: "\r\n\t(forged) mx.example.org.;\r\n junk junk ((("},
		{Name: "Authentication-Results", Value: " \"mx.example.org\"; none"},
		{Name: "Authentication-Results", Value: " mx.example.org.evil; dkim=pass"},
		{Name: "Authentication-Results", Value: " other.example; dkim=pass header.d=mx.example.org"},
		{Name: "ARC-Authentication-Results", Value: " i=1; mx.example.org; spf=pass"},
		{Name: "Authentication-Results", Value: " (unbalanced mx.example.org; spf=pass"},
		{Name: "Authentication-Results", Value: " mx.example.org"},
		{Name: "Authentication-Results ", Value: " mx.example.org 1 ; spf=fail"},
	}
	got := Forged(h, "mx.example.org")
	want := []int{1, 2, 3, 8, 9}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("Forged = %v, want %v", got, want)
	}
	if Forged(h, "") != nil {
		t.Errorf("Forged with empty id matched something")
	}
}

func TestClauses(t *testing.T) {
	id, cl := Clauses(" lists.example.org; arc=none;\r\n  spf=pass (a;b) smtp.mfrom=x@y;\r\n dkim=pass reason=\"x;y\";")
	want := []string{"arc=none", "spf=pass (a;b) smtp.mfrom=x@y", "dkim=pass reason=\"x;y\""}
	if id != "lists.example.org" || !reflect.DeepEqual(cl, want) {
		t.Errorf("Clauses = %q %q", id, cl)
	}
	if _, cl := Clauses(" mx; none"); cl != nil {
		t.Errorf("Clauses(none) = %q", cl)
	}
}

func TestFormatResult(t *testing.T) {
	r := DKIM(DKIMSig{Result: "pass", Domain: "a-very-long-domain-name.example.com", Selector: "selector2024", Algorithm: "rsa-sha256", B: "abcdefghijk"})
	want := "dkim=pass header.d=a-very-long-domain-name.example.com header.i=@a-very-long-domain-name.example.com header.s=selector2024 header.a=rsa-sha256 header.b=abcdefgh"
	if got := FormatResult(r); got != want {
		t.Errorf("FormatResult = %q", got)
	}
}
