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
// Aggregate reports (RFC 9990, compatible with the RFC 7489 appendix C
// schema) are in report.go and store.go.
package dmarc
