// Package arc verifies and adds Authenticated Received Chain sets
// (RFC 8617): ARC-Authentication-Results (AAR), ARC-Message-Signature
// (AMS) and ARC-Seal (AS).
//
// Verify returns the chain validation status of a received message
// (none, pass or fail, RFC 8617 section 5.2) with the sealing domains, for
// the "arc=" Authentication-Results clause and for DMARC local policy
// (trusted sealers). A Sealer adds the next set after our own checks ran
// (section 5.1): AAR copied from our Authentication-Results, AMS over the
// body and the configured headers, AS over all sets.
//
// go-msgauth/dkim keeps its canonicalization and key parsing unexported,
// so this package has its own: relaxed and simple header and body
// canonicalization (RFC 6376 section 3.4), the strict tag-list parser
// (section 3.2) and DKIM key records (section 3.6.1), RSA (>= 1024 bits,
// RFC 8301) and Ed25519 (RFC 8463).
//
// Interoperability is checked against the ValiMail ARC test suite
// (draft-ietf-dmarc-arc-protocol-18 rules, same as RFC 8617) in
// ../../shared/testsuites/arc; see arc_suite_test.go.
package arc
