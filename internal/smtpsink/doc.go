// Package smtpsink is a small in-process SMTP server (RFC 5321) for tests:
// it listens on 127.0.0.1, accepts every message, records its envelope and
// raw data, and can be told to answer 4xx/5xx at any stage so tests can
// watch the MTA in front of it (Postfix, via internal/postfixtest) defer or
// bounce.
//
// It speaks EHLO/HELO, MAIL, RCPT, DATA, RSET, NOOP, VRFY and QUIT, announces
// PIPELINING, 8BITMIME and SMTPUTF8 (so Postfix never rewrites 8-bit bodies to
// quoted-printable, which would break signatures a test checks), and bounds
// every line and message size. It is not a mail server: no TLS, no AUTH, no
// queue.
package smtpsink
