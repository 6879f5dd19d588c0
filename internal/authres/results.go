package authres

import (
	"fmt"
	"net/netip"
	"strings"
)

// SPF returns the spf clause. identity is "mailfrom" or "helo"; value is
// the checked address or domain for mailfrom, the HELO name for helo.
func SPF(result, identity, value string) Result {
	name := "mailfrom"
	if strings.EqualFold(identity, "helo") {
		name = "helo"
	}
	return Result{Method: "spf", Value: lower(result, "none"), Props: []Prop{{"smtp", name, value}}}
}

// DKIMSig describes one checked DKIM signature for the dkim clause.
type DKIMSig struct {
	Result    string // pass, fail, neutral, policy, temperror, permerror
	Reason    string // optional human text, e.g. "body hash did not verify"
	Domain    string // d=
	Identity  string // i= (defaults to "@"+d in the output when empty)
	Selector  string // s=
	Algorithm string // a=
	B         string // b= value; the first 8 characters are written
}

// DKIM returns one dkim clause; a message with no signature gets
// DKIM(DKIMSig{Result: "none"}).
func DKIM(s DKIMSig) Result {
	r := Result{Method: "dkim", Value: lower(s.Result, "none"), Reason: s.Reason}
	if s.Domain == "" {
		return r
	}
	i := s.Identity
	if i == "" {
		i = "@" + s.Domain
	}
	b := stripWSP(s.B)
	if len(b) > 8 {
		b = b[:8] // RFC 6008: enough to tell signatures apart
	}
	r.Props = []Prop{{"header", "d", s.Domain}, {"header", "i", i},
		{"header", "s", s.Selector}, {"header", "a", s.Algorithm}, {"header", "b", b}}
	return r
}

// DMARC returns the dmarc clause with the "(p=... sp=... dis=...)"
// comment most receivers write; policy, subPolicy and disposition may be
// empty when no record was found.
func DMARC(result, policy, subPolicy, disposition, fromDomain string) Result {
	r := Result{Method: "dmarc", Value: lower(result, "none")}
	var c []string
	if policy != "" {
		c = append(c, "p="+strings.ToLower(policy))
	}
	if subPolicy != "" {
		c = append(c, "sp="+strings.ToLower(subPolicy))
	}
	if disposition != "" {
		c = append(c, "dis="+strings.ToLower(disposition))
	}
	r.Comment = strings.Join(c, " ")
	if fromDomain != "" {
		r.Props = []Prop{{"header", "from", fromDomain}}
	}
	return r
}

// ARC returns the arc clause (RFC 8617 section 10.1); oldestPass 0 is
// omitted, remoteIP is omitted when invalid.
func ARC(result string, remoteIP netip.Addr, oldestPass int) Result {
	r := Result{Method: "arc", Value: lower(result, "none")}
	if remoteIP.IsValid() {
		r.Props = append(r.Props, Prop{"smtp", "remote-ip", remoteIP.Unmap().String()})
	}
	if oldestPass > 0 {
		r.Props = append(r.Props, Prop{"header", "oldest-pass", fmt.Sprint(oldestPass)})
	}
	return r
}

func lower(s, def string) string {
	if s == "" {
		return def
	}
	return strings.ToLower(s)
}

func stripWSP(s string) string {
	return strings.Map(func(r rune) rune {
		if r == ' ' || r == '\t' || r == '\r' || r == '\n' {
			return -1
		}
		return r
	}, s)
}
