package dmarc

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
)

// Policy is a requested handling: none, quarantine or reject.
type Policy string

// The policies, weakest first.
const (
	PolicyNone       Policy = "none"
	PolicyQuarantine Policy = "quarantine"
	PolicyReject     Policy = "reject"
)

// weaker returns the next weaker policy (t=y, pct sampling).
func (p Policy) weaker() Policy {
	switch p {
	case PolicyReject:
		return PolicyQuarantine
	default:
		return PolicyNone
	}
}

func parsePolicy(s string) (Policy, bool) {
	switch p := Policy(strings.ToLower(s)); p {
	case PolicyNone, PolicyQuarantine, PolicyReject:
		return p, true
	}
	return "", false
}

// Alignment is an identifier alignment mode.
type Alignment string

// Alignment modes (adkim=, aspf=).
const (
	Relaxed Alignment = "r"
	Strict  Alignment = "s"
)

// Record is a parsed DMARC policy record. Tags that were absent hold
// their defaults; Has* tell whether sp= and np= were given.
type Record struct {
	Policy    Policy    // p= (none when absent or invalid: RFC 9989 section 4.7)
	SubPolicy Policy    // sp=; equals Policy when absent
	NPPolicy  Policy    // np=; equals SubPolicy when absent
	HasSP     bool      // sp= present
	HasNP     bool      // np= present
	ValidP    bool      // p= present with a valid value
	PSD       byte      // psd=: 'y', 'n' or 'u' (default)
	Testing   bool      // t=y
	DKIM      Alignment // adkim=
	SPF       Alignment // aspf=
	Percent   int       // pct= (RFC 7489), 100 when absent
	RUA       []string  // rua= URIs
	RUF       []string  // ruf= URIs
	FO        string    // fo=, "0" when absent
	Raw       string    // the TXT text, for logs and reports
}

// ErrNotDMARC means the text does not start with v=DMARC1 and so is not a
// DMARC record at all (it is skipped, it does not count as a duplicate).
var ErrNotDMARC = errors.New("dmarc: not a DMARC1 record")

// maxRecord bounds what we parse; real records are under 500 bytes.
const maxRecord = 4096

// Parse reads a DMARC TXT record (RFC 9989 section 4.7; RFC 7489 section
// 6.3). Unknown tags and invalid values of optional tags are ignored, as
// the RFC asks; only a missing or wrong v= tag is an error.
func Parse(txt string) (*Record, error) {
	if len(txt) > maxRecord {
		return nil, fmt.Errorf("dmarc: record longer than %d bytes", maxRecord)
	}
	tags := strings.Split(txt, ";")
	k, v, _ := strings.Cut(tags[0], "=")
	if strings.TrimSpace(k) != "v" || strings.TrimSpace(v) != "DMARC1" {
		return nil, ErrNotDMARC
	}
	r := &Record{Policy: PolicyNone, PSD: 'u', DKIM: Relaxed, SPF: Relaxed, Percent: 100, FO: "0", Raw: txt}
	seen := map[string]bool{}
	for _, t := range tags[1:] {
		k, v, ok := strings.Cut(t, "=")
		k, v = strings.ToLower(strings.TrimSpace(k)), strings.TrimSpace(v)
		if !ok || seen[k] {
			continue // empty trailing tag or a repeated one: first wins
		}
		seen[k] = true
		r.set(k, v)
	}
	if !r.HasSP {
		r.SubPolicy = r.Policy
	}
	if !r.HasNP {
		r.NPPolicy = r.SubPolicy
	}
	return r, nil
}

func (r *Record) set(k, v string) {
	switch k {
	case "p":
		if p, ok := parsePolicy(v); ok {
			r.Policy, r.ValidP = p, true
		}
	case "sp":
		r.SubPolicy, r.HasSP = parsePolicy(v)
	case "np":
		r.NPPolicy, r.HasNP = parsePolicy(v)
	case "psd":
		if v = strings.ToLower(v); v == "y" || v == "n" || v == "u" {
			r.PSD = v[0]
		}
	case "t":
		r.Testing = strings.EqualFold(v, "y")
	case "adkim", "aspf":
		a := Alignment(strings.ToLower(v))
		if a != Relaxed && a != Strict {
			return
		}
		if k == "adkim" {
			r.DKIM = a
		} else {
			r.SPF = a
		}
	case "pct":
		if n, err := strconv.Atoi(v); err == nil && n >= 0 && n <= 100 {
			r.Percent = n
		}
	case "rua":
		r.RUA = uriList(v)
	case "ruf":
		r.RUF = uriList(v)
	case "fo":
		r.FO = v
	}
}

// uriList splits a comma list of DMARC URIs, dropping empty items.
func uriList(v string) []string {
	var out []string
	for _, u := range strings.Split(v, ",") {
		if u = strings.TrimSpace(u); u != "" {
			out = append(out, u)
		}
	}
	return out
}

// MailtoAddrs returns the addresses of the mailto: URIs in uris, with any
// "!size" suffix (RFC 7489 section 6.2) removed; other schemes are skipped.
func MailtoAddrs(uris []string) []string {
	var out []string
	for _, u := range uris {
		if len(u) < 7 || !strings.EqualFold(u[:7], "mailto:") {
			continue
		}
		a := u[7:]
		if i := strings.LastIndexByte(a, '!'); i > 0 {
			a = a[:i]
		}
		if strings.Contains(a, "@") {
			out = append(out, a)
		}
	}
	return out
}
