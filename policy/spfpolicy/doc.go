// Package spfpolicy is a policy.Handler that checks SPF (RFC 7208) at
// RCPT time, as Debian's postfix-policyd-spf-python (policyd-spf) does:
// it prepends a Received-SPF header (RFC 7208 section 9.1) for results it
// accepts, answers "550 5.7.23" with the domain's explanation for results
// configured to reject (fail by default), "550 5.7.24" for rejected
// permerrors, and DEFER_IF_PERMIT 4.7.24 for results configured to defer
// (temperror by default).
//
// Exempt from checking: SASL-authenticated clients, internal networks and
// whitelisted client networks or sender domains. Results are cached per
// Postfix "instance" (one message on one connection) together with the
// client address, HELO name and sender, so a message with many recipients
// costs one evaluation and gets one header.
package spfpolicy
