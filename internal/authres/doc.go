// Package authres writes and reads Authentication-Results header fields
// (RFC 8601, with the "arc" method of RFC 8617 section 10.1 and the
// "header.oldest-pass" property).
//
// The milter adds exactly one Authentication-Results field per message,
// carrying our authserv-id and the results of spf, dkim, dmarc and arc in
// the shape the large receivers write them:
//
//	Authentication-Results: mx.example.org;
//		spf=pass smtp.mailfrom=sender@example.com;
//		dkim=pass header.d=example.com header.i=@example.com header.s=sel header.a=rsa-sha256 header.b=AbCdEf12;
//		dmarc=pass (p=reject dis=none) header.from=example.com;
//		arc=none
//
// Before adding ours, the pipeline must delete every incoming field that
// claims our authserv-id (RFC 8601 section 5): Forged finds them.
//
// go-msgauth/authres was not used for formatting: v0.7.0 sorts properties
// alphabetically, never folds, cannot write comments and formats an "arc"
// result without its method name; its parser splits on every ';' even
// inside comments and quoted strings. This package has its own tokenizer
// that follows the RFC 8601 section 2.2 grammar (CFWS, quoted strings).
package authres
