// Package dns is the stub resolver shared by every gomilter daemon (SPF,
// DKIM, DMARC, DNSBL, iprev lookups).
//
// It speaks plain DNS (RFC 1035) to the configured recursive resolvers with
// github.com/miekg/dns: UDP first with an EDNS0 (RFC 6891) buffer of 1232
// bytes, falling back to TCP when the answer is truncated (RFC 7766). Answers
// are cached per (name, type) honouring their TTLs; negative answers are
// cached per RFC 2308 (the SOA minimum in the authority section). Identical
// concurrent lookups share one upstream query.
//
// Errors fall in three classes a mail-authentication caller needs (RFC 7208
// section 2.6 "none"/"temperror", RFC 7489 section 6.6.3):
//
//   - ErrNotFound: NXDOMAIN, the name does not exist;
//   - ErrNoData: the name exists but has no record of that type;
//   - ErrTemporary: timeout, SERVFAIL, REFUSED or a network error.
//
// Test code uses the local authoritative server in internal/dnstest.
package dns
