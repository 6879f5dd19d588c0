// Package spf evaluates Sender Policy Framework records as specified by
// RFC 7208 (check_host(), section 4; mechanisms, section 5; modifiers,
// section 6; macros, section 7; Received-SPF, section 9.1).
//
// A Checker is built once with a Resolver (internal/dns satisfies it) and is
// safe for concurrent use. Check evaluates the MAIL FROM identity, or the
// HELO identity when the reverse-path is null (RFC 7208 section 2.4);
// CheckHelo evaluates the HELO identity on its own (section 2.3).
//
// The evaluator enforces the processing limits of section 4.6.4: ten
// DNS-querying terms per evaluation, two void lookups, ten address lookups
// per "mx" term and ten names per "ptr" term. Any syntax error anywhere in a
// record is a permerror (section 4.6), found before any term is evaluated.
package spf
