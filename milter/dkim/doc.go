// Package dkim signs and verifies DomainKeys Identified Mail signatures
// (RFC 6376, with RFC 8301's algorithm rules and RFC 8463's ed25519-sha256)
// over internal/mailmsg messages, and reads OpenDKIM 2.11's configuration
// (opendkim.conf(5): KeyTable, SigningTable with refile: wildcards,
// InternalHosts, ...) so that pointing gomilter at /etc/opendkim.conf is the
// whole migration.
//
// The milter pipeline calls it at end of message, after every other
// header change (a signature covers the final header list):
//
//	opts, warnings, err := dkim.LoadOpenDKIMConf("/etc/opendkim.conf")
//	opts.Logger, opts.Registerer = logger, reg
//	opts.Resolver, err = opts.TXTResolver(resolver) // TestPublicKeys or DNS
//	signer, err := dkim.NewSigner(opts)             // signer.Reload() on SIGHUP
//	verifier := dkim.NewVerifier(opts.Resolver, opts.VerifyOptions(signer.Metrics()))
//	if opts.IsPeer(env) { /* leave the message alone */ }
//	if reqs := signer.ShouldSign(env, msg); reqs != nil {
//		fields, err := signer.Sign(ctx, msg, reqs) // prepend fields
//	} else if opts.Mode&dkim.ModeVerify != 0 {
//		results := verifier.Verify(ctx, msg)      // one per signature
//		action := opts.Action(results)            // On-BadSignature etc.
//	}
//
// # Agreeing with OpenDKIM
//
// Canonicalization is our own (canon.go) rather than go-msgauth's, written
// from OpenDKIM's dkim-canon.c behaviour and checked against the real
// Debian OpenDKIM in both directions (interop tests): on bare CR bytes in
// bodies and on CR, VT or FF in header values go-msgauth v0.7.0 hashes
// different data than OpenDKIM. go-msgauth stays in the tests as an
// independent cross-check.
//
// Result names follow RFC 8601 and the project's PROTOCOLS.md where
// OpenDKIM differs: a malformed signature is "neutral" (OpenDKIM writes
// permerror), a revoked key "permerror" (OpenDKIM: fail). Like OpenDKIM,
// several From fields make every signature permerror.
//
// Debian's OpenDKIM 2.11 verifies Ed25519 signatures (gomilter's pass
// there), but cannot make usable ones with simple header
// canonicalization: it fails its own such signatures, and gomilter
// agrees. It also takes the algorithm from SignatureAlgorithm for every
// key, so it cannot sign with RSA and Ed25519 at once; gomilter takes the
// algorithm from each key and can.
package dkim
