// Package passwd parses, verifies and generates stored passwords in the
// formats Dovecot 2.3 reads and writes ("{SCHEME}data", "{SCHEME.b64}data",
// "{SCHEME.hex}data", and unprefixed values under a default scheme).
//
// The scheme list and the data formats follow Dovecot's
// src/auth/password-scheme*.c (tag 2.3.19.1) as summarised in the project's
// PROTOCOLS.md §1.8. The crypt(3) family is implemented from the published
// algorithm descriptions: MD5-crypt (Poul-Henning Kamp's FreeBSD algorithm)
// and SHA-crypt (Ulrich Drepper, "Unix crypt using SHA-256 and SHA-512").
// bcrypt, Argon2 and PBKDF2 come from golang.org/x/crypto.
//
// Every comparison of secret material is constant-time.
package passwd
