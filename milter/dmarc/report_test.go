package dmarc

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/xml"
	"io"
	"net/netip"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"
)

func sampleEntries(t0 time.Time) []Entry {
	pub := Published{Domain: "example.com", Policy: PolicyReject, SubPolicy: PolicyQuarantine, DKIM: Relaxed, SPF: Strict, FO: "0", Discovery: "treewalk", RUA: []string{"mailto:agg@example.com"}}
	ip := netip.MustParseAddr("192.0.2.10")
	pass := Entry{Time: t0, SourceIP: ip, HeaderFrom: "example.com", EnvelopeFrom: "example.com", Published: pub, Disposition: PolicyNone,
		DKIMAligned: true, SPFAligned: true, DKIM: []AuthResult{{Domain: "example.com", Selector: "s1", Result: "pass"}}, SPF: AuthResult{Domain: "example.com", Result: "pass"}}
	fail := pass
	fail.Time = t0.Add(time.Minute)
	fail.SourceIP = netip.MustParseAddr("2001:db8::25")
	fail.DKIMAligned, fail.SPFAligned, fail.Disposition = false, false, PolicyReject
	fail.DKIM = nil
	fail.SPF = AuthResult{Domain: "bounce.other.example", Scope: "mfrom", Result: "fail"}
	fwd := fail
	fwd.Disposition = PolicyNone
	fwd.Overrides = []Override{{Type: OverrideTrustedForwarder, Comment: "arc=pass as.d=lists.example.org"}}
	other := pass
	other.HeaderFrom, other.Published.Domain, other.Published.Testing = "b.example.net", "example.net", true
	return []Entry{pass, fail, pass, fwd, other}
}

func TestStoreAndAggregate(t *testing.T) {
	st, err := OpenBolt(filepath.Join(t.TempDir(), "dmarc.db"), time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	t0 := time.Date(2026, 11, 21, 0, 0, 0, 0, time.UTC)
	ctx := context.Background()
	for _, e := range sampleEntries(t0.Add(time.Hour)) {
		if err := st.Add(ctx, e); err != nil {
			t.Fatal(err)
		}
	}
	old := sampleEntries(t0.Add(-time.Hour))[0]
	if err := st.Add(ctx, old); err != nil {
		t.Fatal(err)
	}
	var got []Entry
	end := t0.Add(24 * time.Hour)
	if err := st.Each(ctx, t0, end, func(e Entry) error { got = append(got, e); return nil }); err != nil {
		t.Fatal(err)
	}
	if len(got) != 5 || !reflect.DeepEqual(got[4].Overrides, sampleEntries(t0)[3].Overrides) { // time order
		t.Fatalf("Each returned %d entries: %+v", len(got), got)
	}
	reps := Aggregate(got, Reporter{OrgName: "Receiver Org", Email: "dmarc@receiver.example", Domain: "receiver.example"}, t0, end)
	if len(reps) != 2 || reps[0].Published.Domain != "example.com" || len(reps[0].Records) != 3 || reps[0].Records[0].Row.Count != 2 {
		t.Fatalf("Aggregate = %d reports; first %+v", len(reps), reps[0])
	}
	if name := reps[0].Filename("receiver.example"); name != "receiver.example!example.com!1795219200!1795305600.xml.gz" {
		t.Errorf("Filename = %q", name)
	}
	if err := st.Prune(ctx, t0); err != nil {
		t.Fatal(err)
	}
	n := 0
	st.Each(ctx, time.Time{}, end, func(Entry) error { n++; return nil })
	if n != 5 {
		t.Errorf("after Prune %d entries, want 5", n)
	}
	checkXML(t, reps[0])
}

// schema lists, per element, the children in RFC 9990 / RFC 7489
// appendix C order; "?" marks optional, "*" repeatable.
var schema = map[string][]string{
	"feedback":         {"version", "report_metadata", "policy_published", "record*"},
	"report_metadata":  {"org_name", "email", "extra_contact_info?", "report_id", "date_range", "error*"},
	"date_range":       {"begin", "end"},
	"record":           {"row", "identifiers", "auth_results"},
	"row":              {"source_ip", "count", "policy_evaluated"},
	"policy_evaluated": {"disposition", "dkim", "spf", "reason*"},
	"reason":           {"type", "comment?"},
	"identifiers":      {"envelope_to?", "envelope_from", "header_from"},
	"auth_results":     {"dkim*", "spf"},
}

// checkXML writes the report gzip-compressed, reads it back and checks
// namespace, element order and required elements of every sequence type.
func checkXML(t *testing.T, f *Feedback) {
	t.Helper()
	var buf bytes.Buffer
	if err := f.WriteGzip(&buf); err != nil {
		t.Fatal(err)
	}
	zr, err := gzip.NewReader(&buf)
	if err != nil {
		t.Fatal(err)
	}
	raw, _ := io.ReadAll(zr)
	if !strings.HasPrefix(string(raw), "<?xml") {
		t.Errorf("no XML declaration")
	}
	var back Feedback
	if err := xml.Unmarshal(raw, &back); err != nil {
		t.Fatal(err)
	}
	if back.XMLName.Space != Namespace || back.Metadata.DateRange != f.Metadata.DateRange || len(back.Records) != len(f.Records) {
		t.Errorf("round trip lost data: %+v", back)
	}
	walkOrder(t, xml.NewDecoder(bytes.NewReader(raw)))
	pp := back.Published
	if pp.Domain == "" || pp.P == "" || pp.Discovery == "" || pp.Testing == "" {
		t.Errorf("policy_published misses required data: %+v", pp)
	}
}

func walkOrder(t *testing.T, d *xml.Decoder) {
	var stack []string
	children := map[int][]string{}
	for {
		tok, err := d.Token()
		if err == io.EOF {
			return
		}
		if err != nil {
			t.Fatal(err)
		}
		switch el := tok.(type) {
		case xml.StartElement:
			if len(stack) > 0 {
				children[len(stack)-1] = append(children[len(stack)-1], el.Name.Local)
			}
			stack = append(stack, el.Name.Local)
			children[len(stack)-1] = nil
		case xml.EndElement:
			name := stack[len(stack)-1]
			if want, ok := schema[name]; ok && !matchSeq(children[len(stack)-1], want) {
				t.Errorf("<%s> children %v do not match %v", name, children[len(stack)-1], want)
			}
			stack = stack[:len(stack)-1]
		}
	}
}

// matchSeq checks got against a sequence with ?/* markers.
func matchSeq(got, want []string) bool {
	i := 0
	for _, w := range want {
		name, mark := strings.TrimRight(w, "?*"), w[len(w)-1]
		n := 0
		for i < len(got) && got[i] == name {
			i++
			n++
		}
		switch {
		case mark == '*':
		case mark == '?' && n <= 1:
		case n != 1:
			return false
		}
	}
	return i == len(got)
}

func TestNewEntry(t *testing.T) {
	res := Evaluate(context.Background(), zone(), In{FromDomain: "example.com", SPF: AuthResult{Domain: "other.example", Result: "pass"}})
	d := Decide(res, Context{}, Options{})
	e, ok := NewEntry(time.Unix(100, 0), netip.MustParseAddr("192.0.2.1"), In{SPF: AuthResult{Domain: "other.example", Result: "pass"}}, res, d, false)
	if !ok || e.Disposition != PolicyReject || e.Published.Domain != "example.com" || e.SPFAligned || e.Published.NPPolicy != PolicyReject {
		t.Errorf("NewEntry = %+v, %v", e, ok)
	}
	if _, ok := NewEntry(time.Now(), netip.Addr{}, In{}, Result{Result: ResultNone}, Decision{}, false); ok {
		t.Errorf("entry for a message without policy")
	}
}

func TestMatchSeq(t *testing.T) {
	w := schema["identifiers"]
	for _, tc := range []struct {
		got []string
		ok  bool
	}{
		{[]string{"envelope_from", "header_from"}, true},
		{[]string{"envelope_to", "envelope_from", "header_from"}, true},
		{[]string{"header_from", "envelope_from"}, false},
		{[]string{"envelope_from"}, false},
		{[]string{"envelope_to", "envelope_to", "envelope_from", "header_from"}, false},
	} {
		if matchSeq(tc.got, w) != tc.ok {
			t.Errorf("matchSeq(%v) = %v", tc.got, !tc.ok)
		}
	}
}
