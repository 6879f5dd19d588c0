// Package dovecotauth implements the server side of Dovecot's authentication
// protocol (auth protocol v1.2, doc "Design/AuthProtocol", src
// src/auth/auth-client-connection.c and auth-request-handler.c of Dovecot
// 2.3.19) exactly as Postfix 3.7's smtpd uses it with smtpd_sasl_type =
// dovecot (src/xsasl/xsasl_dovecot_server.c), and the auth-userdb / master
// protocol (USER, PASS, LIST) Dovecot's LMTP, LDA and doveadm use.
//
// A sample client exchange (→ = from Postfix):
//
//	VERSION	1	2
//	MECH	PLAIN	plaintext
//	MECH	LOGIN	plaintext
//	SPID	4242
//	CUID	1
//	COOKIE	5f0c...
//	DONE
//	→ VERSION	1	0
//	→ CPID	1234
//	→ AUTH	1	PLAIN	service=smtp	nologin	lip=127.0.0.1	rip=192.0.2.1	resp=AGFsaWNlAHNlY3JldA==
//	OK	1	user=alice
//
// Failures never say whether the user exists. A temporary failure of the
// credential store closes the connection (by default), because Postfix
// ignores FAIL's code=temp_fail and only answers 454 when the auth server
// goes away (PROTOCOLS.md §1.5).
package dovecotauth
