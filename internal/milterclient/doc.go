// Package milterclient is the MTA side of the milter protocol, speaking as
// Postfix 3.7's milter8 client does (src/milter/milter8.c, MILTER_README,
// PROTOCOLS.md §4): it offers version 6 with every action and protocol
// bit, honours the milter's answer (NR_* = no reply awaited, NO* = event
// not sent, v2/v3 milters get no DATA/UNKNOWN), follows SMFIR_SKIP and
// SMFIR_PROGRESS, sends Postfix's default macros per stage, and collects
// the end-of-message modifications.
//
// It exists for tests and the load generator (gomilter bench milter), so
// it favours fidelity to Postfix's wire behaviour over features.
package milterclient
