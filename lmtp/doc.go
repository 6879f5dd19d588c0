// Package lmtp is a drop-in for Dovecot's LMTP service behind Postfix
// (virtual_transport = lmtp:unix:...): RFC 2033 LMTP with PIPELINING,
// 8BITMIME, ENHANCEDSTATUSCODES (RFC 2034/3463) and SMTPUTF8 (RFC 6531),
// one reply per accepted recipient after DATA, delivery into Maildir++
// (package lmtp/maildir) the way Dovecot 2.3 writes it, and users' Sieve
// scripts (package sieve) located as Pigeonhole 0.5 does.
//
// The protocol engine is github.com/emersion/go-smtp in LMTP mode; this
// package supplies its LMTPSession. Replies copy Dovecot's texts so that
// Postfix logs and bounces look the same:
//
//	250 2.0.0 <rcpt> <session id> Saved
//	550 5.1.1 <rcpt> User doesn't exist: <user>
//	552 5.2.2 <rcpt> Quota exceeded (mailbox for user is full)   (452 4.2.2 with QuotaFullTempfail)
//	550 5.7.1 <rcpt> <Sieve reject reason>
//	451 4.3.0 <rcpt> Temporary internal error                    (any other failure; logged, never sent)
//
// Users come from a Backend (UserDB wraps internal/userdb: passwd-file or
// a dovecot-sql.conf.ext user_query, PostfixAdmin's quota_rule included).
// Each delivered copy gets Return-Path, Delivered-To (single-recipient
// transactions only) and Received headers, as Dovecot's LMTP adds them.
//
// Sieve actions: keep and fileinto (flags become Maildir info letters,
// :create or MailboxAutocreate makes folders, a missing folder falls back
// to INBOX), discard, reject/ereject (a 550 for that recipient), redirect,
// vacation and notify (through Options.Relay, with vacation periods and
// duplicate IDs in a ResponseStore; without a relay redirect keeps). A
// runtime error keeps the message in INBOX and is logged.
//
// Metrics (on Options.Registerer): gomilter_lmtp_connections_total,
// gomilter_lmtp_connections_active, gomilter_lmtp_deliveries_total{result}
// (saved, unknown_user, over_quota, rejected, tempfail, too_large),
// gomilter_lmtp_delivery_duration_seconds, gomilter_lmtp_sieve_actions_total{action}
// and gomilter_lmtp_panics_total. Each recipient gets one log line with the
// session id, Postfix's queue id (from its Received header), Message-ID,
// user, result and folders.
//
// References: RFC 2033; PROTOCOLS.md §5-§7; Dovecot doc LMTP,
// MailboxFormat/Maildir, Quota; Pigeonhole doc Pigeonhole.Sieve.Configuration.
package lmtp
