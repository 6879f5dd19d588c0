package dmarc

import (
	"context"
	"reflect"
	"testing"
)

func TestParent(t *testing.T) {
	tests := map[string]string{
		"a.b.example.com":         "b.example.com",
		"com":                     "",
		"example.com":             "com",
		"1.2.3.4.5.6.7.8.example": "3.4.5.6.7.8.example", // 9 labels: jump to 7
		"2.3.4.5.6.7.8.example":   "3.4.5.6.7.8.example", // 8 labels: jump to 7
		"3.4.5.6.7.8.example":     "4.5.6.7.8.example",
	}
	for in, want := range tests {
		if got := parent(in); got != want {
			t.Errorf("parent(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestOrgDomainTreeWalk(t *testing.T) {
	r := newFake().
		add("_dmarc.example.com", "v=DMARC1; p=reject").
		add("_dmarc.mail.example.com", "v=DMARC1; p=none").
		add("_dmarc.gov.example", "v=DMARC1; p=reject; psd=y").
		add("_dmarc.dept.gov.example", "v=DMARC1; p=none").
		add("_dmarc.psdn.example", "v=DMARC1; p=none; psd=n").
		add("_dmarc.example.net", "v=DMARC1; p=none", "v=DMARC1; p=reject"). // duplicates: ignored
		add("_dmarc.net", "v=DMARC1; p=none")                                // a record at a TLD without psd=
	tests := []struct{ in, want string }{
		{"example.com", "example.com"},
		{"a.b.mail.example.com", "example.com"}, // fewest labels with a record
		{"x.dept.gov.example", "dept.gov.example"},
		{"a.b.c.gov.example", "c.gov.example"}, // one label below the psd=y domain
		{"gov.example", "gov.example"},         // a PSD is its own org domain
		{"a.b.psdn.example", "psdn.example"},   // psd=n stops the walk
		{"nothing.example.org", "nothing.example.org"},
		{"a.example.net", "net"},
		{"A.Example.COM.", "example.com"},
	}
	var c Config
	for _, tc := range tests {
		got, err := c.OrgDomain(context.Background(), r, tc.in)
		if err != nil || got != tc.want {
			t.Errorf("OrgDomain(%q) = %q, %v, want %q", tc.in, got, err, tc.want)
		}
	}
}

func TestOrgDomainPSL(t *testing.T) {
	c := Config{Legacy: true}
	tests := map[string]string{
		"a.b.example.com":    "example.com",
		"mail.example.co.uk": "example.co.uk",
		"co.uk":              "co.uk",
		"x.github.io":        "x.github.io", // PRIVATE section of the PSL
		"host.unknowntld":    "host.unknowntld",
	}
	for in, want := range tests {
		if got, _ := c.OrgDomain(context.Background(), newFake(), in); got != want {
			t.Errorf("legacy OrgDomain(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestWalkQueries(t *testing.T) {
	r := newFake().add("_dmarc.example", "v=DMARC1; p=reject")
	var c Config
	f, err := c.discover(context.Background(), r, "1.2.3.4.5.6.7.8.9.example")
	if err != nil || f.domain != "example" {
		t.Fatalf("discover = %+v, %v", f, err)
	}
	want := []string{"_dmarc.1.2.3.4.5.6.7.8.9.example", "_dmarc.4.5.6.7.8.9.example", "_dmarc.5.6.7.8.9.example",
		"_dmarc.6.7.8.9.example", "_dmarc.7.8.9.example", "_dmarc.8.9.example", "_dmarc.9.example", "_dmarc.example"}
	if !reflect.DeepEqual(r.queries, want) {
		t.Errorf("queries =\n%q\nwant\n%q", r.queries, want)
	}
	// Legacy: two queries at most.
	r = newFake().add("_dmarc.example.com", "v=DMARC1; p=reject")
	c.Legacy = true
	f, err = c.discover(context.Background(), r, "a.b.example.com")
	if err != nil || f.domain != "example.com" || len(r.queries) != 2 {
		t.Errorf("legacy discover = %+v, %v, queries %q", f, err, r.queries)
	}
}
