package dmarc

import (
	"compress/gzip"
	"encoding/xml"
	"fmt"
	"io"
	"sort"
	"strings"
	"time"
)

// Namespace of RFC 9990 aggregate reports.
const Namespace = "urn:ietf:params:xml:ns:dmarc-2.0"

// Feedback is one aggregate report (RFC 9990 section 3 schema; element
// order as in its xs:sequence types, which RFC 7489 appendix C shares).
type Feedback struct {
	XMLName   xml.Name       `xml:"feedback"`
	NS        string         `xml:"xmlns,attr"`
	Version   string         `xml:"version"`
	Metadata  ReportMetadata `xml:"report_metadata"`
	Published PolicyXML      `xml:"policy_published"`
	Records   []RecordXML    `xml:"record"`
}

// ReportMetadata is report_metadata.
type ReportMetadata struct {
	OrgName      string    `xml:"org_name"`
	Email        string    `xml:"email"`
	ExtraContact string    `xml:"extra_contact_info,omitempty"`
	ReportID     string    `xml:"report_id"`
	DateRange    DateRange `xml:"date_range"`
}

// DateRange is the UTC range covered, in seconds since the epoch.
type DateRange struct {
	Begin int64 `xml:"begin"`
	End   int64 `xml:"end"`
}

// PolicyXML is policy_published.
type PolicyXML struct {
	Domain    string `xml:"domain"`
	Discovery string `xml:"discovery_method,omitempty"`
	P         string `xml:"p"`
	SP        string `xml:"sp,omitempty"`
	NP        string `xml:"np,omitempty"`
	ADKIM     string `xml:"adkim,omitempty"`
	ASPF      string `xml:"aspf,omitempty"`
	FO        string `xml:"fo,omitempty"`
	Testing   string `xml:"testing,omitempty"`
}

// RecordXML is one record: a row with its count, identifiers and results.
type RecordXML struct {
	Row         RowXML         `xml:"row"`
	Identifiers IdentifiersXML `xml:"identifiers"`
	AuthResults AuthResultsXML `xml:"auth_results"`
}

// RowXML is row.
type RowXML struct {
	SourceIP  string             `xml:"source_ip"`
	Count     int                `xml:"count"`
	Evaluated PolicyEvaluatedXML `xml:"policy_evaluated"`
}

// PolicyEvaluatedXML is policy_evaluated.
type PolicyEvaluatedXML struct {
	Disposition string      `xml:"disposition"`
	DKIM        string      `xml:"dkim"`
	SPF         string      `xml:"spf"`
	Reasons     []ReasonXML `xml:"reason,omitempty"`
}

// ReasonXML is a policy override reason.
type ReasonXML struct {
	Type    string `xml:"type"`
	Comment string `xml:"comment,omitempty"`
}

// IdentifiersXML is identifiers.
type IdentifiersXML struct {
	EnvelopeTo   string `xml:"envelope_to,omitempty"`
	EnvelopeFrom string `xml:"envelope_from"`
	HeaderFrom   string `xml:"header_from"`
}

// AuthResultsXML holds every DKIM result and the SPF result.
type AuthResultsXML struct {
	DKIM []DKIMResultXML `xml:"dkim,omitempty"`
	SPF  SPFResultXML    `xml:"spf"`
}

// DKIMResultXML is one DKIM signature result.
type DKIMResultXML struct {
	Domain   string `xml:"domain"`
	Selector string `xml:"selector,omitempty"`
	Result   string `xml:"result"`
}

// SPFResultXML is the SPF result.
type SPFResultXML struct {
	Domain string `xml:"domain"`
	Scope  string `xml:"scope,omitempty"`
	Result string `xml:"result"`
}

// Reporter names us in reports.
type Reporter struct {
	OrgName      string // report_metadata/org_name, e.g. "Example Org"
	Email        string // report_metadata/email, e.g. "dmarc-noreply@example.org"
	ExtraContact string // optional
	Domain       string // receiver domain used in file names and report ids
}

// Aggregate groups entries by policy domain into one report each, rows
// being identical (source, identifiers, results, disposition) entries
// with a count. Reports come sorted by policy domain.
func Aggregate(entries []Entry, rep Reporter, begin, end time.Time) []*Feedback {
	byDomain := map[string][]Entry{}
	for _, e := range entries {
		byDomain[e.Published.Domain] = append(byDomain[e.Published.Domain], e)
	}
	domains := make([]string, 0, len(byDomain))
	for d := range byDomain {
		domains = append(domains, d)
	}
	sort.Strings(domains)
	out := make([]*Feedback, 0, len(domains))
	for _, d := range domains {
		es := byDomain[d]
		f := &Feedback{NS: Namespace, Version: "1.0",
			Metadata: ReportMetadata{OrgName: rep.OrgName, Email: rep.Email, ExtraContact: rep.ExtraContact,
				ReportID:  fmt.Sprintf("%s!%s!%d", rep.Domain, d, begin.Unix()),
				DateRange: DateRange{Begin: begin.Unix(), End: end.Unix()}},
			Published: publishedXML(es[len(es)-1].Published), // the newest record seen
			Records:   rows(es)}
		out = append(out, f)
	}
	return out
}

func publishedXML(p Published) PolicyXML {
	x := PolicyXML{Domain: p.Domain, Discovery: p.Discovery, P: string(p.Policy), SP: string(p.SubPolicy),
		NP: string(p.NPPolicy), ADKIM: string(p.DKIM), ASPF: string(p.SPF), FO: p.FO}
	if p.Testing {
		x.Testing = "y"
	} else {
		x.Testing = "n"
	}
	return x
}

// rows merges equal records, keeping first-seen order.
func rows(es []Entry) []RecordXML {
	var out []RecordXML
	index := map[string]int{}
	for _, e := range es {
		r := recordXML(e)
		k := fmt.Sprintf("%#v", r)
		if i, ok := index[k]; ok {
			out[i].Row.Count++
			continue
		}
		r.Row.Count = 1
		index[k] = len(out)
		out = append(out, r)
	}
	return out
}

func recordXML(e Entry) RecordXML {
	r := RecordXML{
		Row: RowXML{SourceIP: e.SourceIP.String(), Evaluated: PolicyEvaluatedXML{
			Disposition: string(e.Disposition), DKIM: passFail(e.DKIMAligned), SPF: passFail(e.SPFAligned)}},
		Identifiers: IdentifiersXML{EnvelopeTo: e.EnvelopeTo, EnvelopeFrom: e.EnvelopeFrom, HeaderFrom: e.HeaderFrom},
		AuthResults: AuthResultsXML{SPF: SPFResultXML{Domain: e.SPF.Domain, Scope: spfScope(e.SPF.Scope), Result: resultOr(e.SPF.Result)}},
	}
	for _, o := range e.Overrides {
		r.Row.Evaluated.Reasons = append(r.Row.Evaluated.Reasons, ReasonXML(o))
	}
	for _, d := range e.DKIM {
		r.AuthResults.DKIM = append(r.AuthResults.DKIM, DKIMResultXML{Domain: d.Domain, Selector: d.Selector, Result: resultOr(d.Result)})
	}
	return r
}

func passFail(ok bool) string {
	if ok {
		return "pass"
	}
	return "fail"
}

func spfScope(s string) string {
	if strings.EqualFold(s, "helo") {
		return "helo"
	}
	return "mfrom"
}

func resultOr(s string) string {
	if s == "" {
		return "none"
	}
	return strings.ToLower(s)
}

// Filename is the RFC 9990 section 2.1 / RFC 7489 section 7.2.1.1 name:
// receiver!policy-domain!begin!end.xml.gz
func (f *Feedback) Filename(receiver string) string {
	return fmt.Sprintf("%s!%s!%d!%d.xml.gz", receiver, f.Published.Domain,
		f.Metadata.DateRange.Begin, f.Metadata.DateRange.End)
}

// WriteGzip writes the report as gzip-compressed XML.
func (f *Feedback) WriteGzip(w io.Writer) error {
	zw := gzip.NewWriter(w)
	if err := f.WriteXML(zw); err != nil {
		return err
	}
	return zw.Close()
}

// WriteXML writes the XML document with its declaration.
func (f *Feedback) WriteXML(w io.Writer) error {
	if _, err := io.WriteString(w, xml.Header); err != nil {
		return err
	}
	enc := xml.NewEncoder(w)
	enc.Indent("", "  ")
	if err := enc.Encode(f); err != nil {
		return err
	}
	_, err := io.WriteString(w, "\n")
	return err
}
