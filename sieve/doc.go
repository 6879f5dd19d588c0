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
// the mailto method (RFC 5435, RFC 5436) and ihave (RFC 5463), plus
// Pigeonhole's deprecated vnd.dovecot.duplicate alias of duplicate.
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
//
// The pieces a delivery agent uses:
//
//   - Compile (or Cache.Load, which compiles a file once per mtime/size)
//     turns source into a *Script; compile errors are a *CompileError with
//     line:column positions. Like Pigeonhole, the parser recovers from a
//     syntax error (skipping to the end of the broken string list, test
//     list, command or block) and the validator goes on after a bad
//     command, so one compile lists every error, with Pigeonhole's
//     wording and counts and a final "parse failed", "validation failed"
//     or "code generation failed" entry. Includes resolve through
//     Options.Include (DirResolver reads "<dir>/<name>.sieve") and are
//     compiled after the including script validated.
//   - Script.Run runs one script; RunSequence runs sieve_before, user and
//     sieve_after scripts the way Dovecot chains them.
//   - Result.Actions lists keep, fileinto, redirect, reject/ereject,
//     discard, vacation and notify actions; the last keep may be the
//     implicit one. Each action carries the message as edited by
//     editheader at that point. Result.Duplicates lists duplicate-test IDs
//     to record after delivery.
//   - ComposeRedirect, ComposeVacation (with VacationSkipReason) and
//     ComposeNotify build the outgoing messages with Pigeonhole's headers,
//     loop checks and envelope senders.
//   - ParsePath turns an SMTP MAIL FROM/RCPT TO path into the address
//     form Envelope expects. Result.MarkExecuted records that actions
//     were carried out before more scripts add to the result; conflicts
//     with executed actions then resolve as in Pigeonhole's multiscript.
//   - Options.Set accepts Pigeonhole's plugin setting names
//     (sieve_max_actions, sieve_spamtest_status_header, ...).
//
// Limits (Options): script size, block and test nesting, actions,
// redirects, include depth and count, variable size and count, regex
// pattern length, evaluation steps and wall-clock time per run. :matches
// runs in O(pattern*subject) and regexes use RE2, so a hostile script is
// refused at compile time or stopped with a runtime error; a runtime error
// leaves only the implicit keep of the unmodified message.
package sieve
