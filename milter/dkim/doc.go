// Package dkim signs and verifies DomainKeys Identified Mail signatures
// (RFC 6376, with RFC 8301's algorithm rules and RFC 8463's ed25519-sha256)
// over internal/mailmsg messages, and reads OpenDKIM 2.11's configuration
// (opendkim.conf(5): KeyTable, SigningTable with refile: wildcards,
// InternalHosts, ...) so that pointing gomilter at /etc/opendkim.conf is the
// whole migration.
//
// The milter pipeline calls it at end of message:
//
//	opts, warnings, err := dkim.LoadOpenDKIMConf("/etc/opendkim.conf")
//	opts.Resolver, opts.Logger, opts.Registerer = resolver, logger, reg
//	signer, err := dkim.NewSigner(opts)          // signer.Reload() on SIGHUP
//	verifier := dkim.NewVerifier(resolver, opts.VerifyOptions(signer.Metrics()))
//	if reqs := signer.ShouldSign(env, msg); reqs != nil {
//		fields, err := signer.Sign(ctx, msg, reqs) // prepend fields
//	} else if opts.Mode&dkim.ModeVerify != 0 {
//		results := verifier.Verify(ctx, msg)      // one per signature
//		action := opts.Action(results)
//	}
//
// Canonicalization is our own (canon.go) rather than go-msgauth's: on bodies
// with bare CR bytes go-msgauth v0.7.0 and OpenDKIM hash different data, and
// gomilter must agree with the OpenDKIM it replaces. go-msgauth is kept as
// an independent cross-check in the tests.
package dkim
