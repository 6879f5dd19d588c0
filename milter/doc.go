// Package milter implements the server (filter) side of the Sendmail milter
// protocol, version 6 as Postfix 3.7 speaks it, with its own session and
// packet codec instead of emersion/go-milter's.
//
// Specs: Sendmail's libmilter (mfdef.h, the "milter-protocol.txt" notes
// shipped with go-milter), Postfix MILTER_README and src/milter/milter8.c;
// project notes in PROTOCOLS.md §4.
//
// What differs from go-milter v0.5.0 and why:
//   - the MTA's version offer (2..6) is answered with min(offer, 6), so
//     Postfix sends DATA and honours SMFIP_SKIP;
//   - one Milter value lives for the whole connection (state from CONNECT
//     and HELO survives accept/reject of a message);
//   - macros are kept per stage (Macros.Get looks from the newest stage
//     back), ABORT drops only the transaction's stages;
//   - header values arrive byte-exact (SMFIP_HDR_LEADSPC), which DKIM
//     "simple" canonicalization needs;
//   - events the milter never answers are negotiated as SMFIP_NR_* (no
//     round trip per header or body chunk);
//   - callbacks get a context, errors and panics become SMFIR_TEMPFAIL,
//     logging is an injected *slog.Logger, metrics an injected Registerer,
//     and Shutdown drains open sessions.
//
// A session on the wire (MTA lines first, milter replies indented):
//
//	O  version=6 actions=0x1ff protocol=0x1fffff
//	   O  version=6 actions=0x31 protocol=0x1f0580 (LEADSPC, NR_*, SKIP, NOUNKNOWN)
//	D  C j=mx.example {daemon_name}=mx.example
//	C  mail.client.example 4 port=40000 192.0.2.1
//	   c
//	H  client.example      -> c
//	M  <a@client.example>  -> c
//	R  <b@example.org>     -> c
//	T                      -> c
//	L  Subject " hi"       (no reply)
//	N                      (no reply)
//	B  "body\r\n"          (no reply)
//	E                      -> h "Authentication-Results" " mx; none", c
//	Q
package milter
