// Package bayes is a naive-Bayes spam classifier in the manner of
// SpamAssassin 4.0's Bayes plugin (Mail::SpamAssassin::Plugin::Bayes and
// Mail::SpamAssassin::Bayes::CombineChi), written from its documented
// behaviour:
//
//   - Tokens come from selected header fields (prefixed "H<name>:", frequent
//     names shortened, e.g. "H*r:" for Received), the decoded and rendered
//     body text (Subject line first, HTML rendered to text) and the URIs
//     and mail addresses in the body. Words shorter than 3 bytes and English
//     stopwords are dropped, words longer than 15 bytes become
//     "sk:<first 7 chars>" skip tokens, long 8-bit words "u8:" characters,
//     addresses U*/D* tokens and host names UD: tokens. Each token is stored
//     as the last 5 bytes of its SHA-1, as SpamAssassin does, so the
//     database never holds message text.
//   - A token's probability is Robinson's f(w), tokens with |p-0.5| < 0.346
//     are ignored and at most the 150 strongest are combined with Fisher's
//     chi-squared method. Robinson's s and x default to 0.160 and 0.5;
//     SpamAssassin 4.0.1 uses 0.030 and 0.538 (SAConstantsS/X), which
//     cross-validated worse on the shared corpus.
//   - No answer is given until 200 spam and 200 ham messages were learned
//     (bayes_min_spam_num / bayes_min_ham_num).
//   - Each learned message is remembered by a message id (a hash of its
//     Message-ID and body, like SpamAssassin's "seen" database): learning it
//     again as the same class is a no-op, as the other class moves it.
//   - Expire bounds a database to Options.MaxTokens (150000,
//     bayes_expiry_max_db_size) by dropping the least recently learned
//     tokens.
//
// Rule and InRange map a probability to the BAYES_xx rules of
// SpamAssassin's 23_bayes.cf. Header fields other filters and mailbox
// software add (SpamAssassin's IGNORED_HDRS: X-Spam-Status, X-Bogosity,
// List-*, Date...) never become tokens. Options.IgnoreHeaders
// (bayes_ignore_header), Options.Metadata (the relay analysis as
// x-spam-relays-* pseudo-fields, tokenized as H*RT:, H*RU:...) and
// Options.Skip (bayes_ignore_from/to) come from the rule engine
// (milter/spam's Engine.BayesOptions), which knows the configuration and
// the trusted networks; learning and scoring must use the same settings.
//
// Storage is behind the Store interface: NewMemoryStore for tests,
// OpenBolt (an embedded go.etcd.io/bbolt file, the default) and
// NewRedisStore (several MX hosts sharing one database). Every store keeps
// per-user data apart; the user "" is the global database.
package bayes
