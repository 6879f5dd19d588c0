// Package sieve compiles and runs Sieve mail filtering scripts.
//
// The language is RFC 5228 with the extensions Dovecot Pigeonhole 0.5
// users rely on: fileinto, reject/ereject (RFC 5429), envelope,
// encoded-character, copy (RFC 3894), body (RFC 5173), variables (RFC 5229),
// vacation and vacation-seconds (RFC 5230, RFC 6131), relational (RFC 5231),
// comparator-i;ascii-numeric (RFC 4790), subaddress (RFC 5233), imap4flags
// (RFC 5232), date and index (RFC 5260), editheader (RFC 5293), mailbox
// (RFC 5490), include (RFC 6609), duplicate (RFC 7352), spamtest,
// spamtestplus and virustest (RFC 5235), environment (RFC 5183), regex
// (draft-ietf-sieve-regex), mime and foreverypart (RFC 5703), enotify with
// the mailto method (RFC 5435, RFC 5436) and ihave (RFC 5463).
//
// Where the RFCs leave room, the package follows Pigeonhole: action
// conflicts and merged stores, implicit keep, byte-wise "?" in :matches and
// POSIX extended regular expressions with leftmost-longest matching.
//
// The package is pure: it never opens sockets, files or databases. The
// caller supplies the message, the envelope, an include resolver and
// lookups (mailbox existence, duplicate tracking) through interfaces, and
// receives a list of actions to perform.
//
//	s, err := sieve.Compile([]byte(src), sieve.Options{})
//	res, err := s.Run(ctx, &sieve.Input{Message: msg, Envelope: env})
//	for _, a := range res.Actions { ... }
package sieve
