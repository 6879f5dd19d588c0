// Package spamd serves the SPAMC/SPAMD protocol (version 1.x, as spamc 4.0.1
// speaks it; see spamd/PROTOCOL in the SpamAssassin sources), so that spamc,
// Exim's spam condition, Rspamd proxies and other spamd clients can use the
// gomilter spam engine.
//
// One request per connection: a line "COMMAND SPAMC/1.5", header lines
// (Content-length, User, Compress: zlib, and for TELL Message-class, Set
// and Remove), a blank line, the message. The reply is "SPAMD/1.1 <code>
// <text>", headers (Spam: True ; 7.3 / 5.0, Content-length, DidSet,
// DidRemove), a blank line and a body that depends on the command:
//
//	CHECK          nothing; the Spam header is the answer
//	SYMBOLS        the rule names, comma-separated
//	REPORT         the report text; REPORT_IFSPAM only for spam
//	PROCESS        the rewritten message; HEADERS only its header block
//	PING           "SPAMD/1.5 0 PONG"
//	TELL           learn or forget the message (needs Options.AllowTell)
//	SKIP           closes the connection
//
// Example exchange:
//
//	C: CHECK SPAMC/1.5
//	C: User: alice
//	C: Content-length: 18
//	C:
//	C: Subject: hi
//	C:
//	C: body
//	S: SPAMD/1.1 0 EX_OK
//	S: Spam: False ; 1.2 / 5.0
//	S:
//
// The caller supplies the Scorer (the rule engine) and optionally a Learner
// (NewBayesLearner wraps an internal/bayes Classifier). Errors map to the
// sysexits codes of the protocol: a malformed request gets EX_PROTOCOL (76),
// an oversized one EX_DATAERR (65), TELL when not enabled EX_UNAVAILABLE
// (69, as spamd without --allow-tell), a scan timeout EX_TIMEOUT (79)
// and anything else EX_TEMPFAIL (75) with a generic text; details are only
// logged.
package spamd
