// Package dmarc evaluates DMARC for one message: policy discovery,
// organizational domains, identifier alignment and the disposition the
// Domain Owner asked for, plus the local decision (reject, quarantine or
// only report) and the record kept for aggregate reports.
//
// Specs: RFC 9989 (DMARCbis: DNS tree walk, psd=, np=, t=, no pct) is the
// default; RFC 7489 records are understood as well (pct=, rf=, ri= are
// parsed; pct= sampling is honoured). With Config.Legacy the RFC 7489
// discovery is used instead of the tree walk: _dmarc.<author domain>, then
// _dmarc.<organizational domain> where the organizational domain comes
// from the Public Suffix List (golang.org/x/net/publicsuffix). RFC 9091
// (np=) is honoured in both modes.
//
// Evaluate is pure apart from DNS: the caller hands in the From domain and
// the SPF and DKIM results it already has (see In); Decide turns a Result
// into what the milter does, applying local overrides (domains never
// rejected, trusted ARC sealers and forwarders: RFC 7960 cases).
//
// The record parser is our own: go-msgauth/dmarc v0.7.0 knows neither
// np=, psd= nor t=, and its Lookup queries only _dmarc.<domain>.
//
// Aggregate reports (RFC 9990, compatible with the RFC 7489 appendix C
// schema): every evaluated message with a policy becomes an Entry in a
// Store (bbolt by default, SQL optional); RunReports (`gomilter dmarc
// report`) aggregates them per policy domain into gzip XML files named
// receiver!policy-domain!begin!end.xml.gz and, when a relay is
// configured, mails them to the rua= addresses.
package dmarc
