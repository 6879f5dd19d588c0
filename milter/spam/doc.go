// Package spam scores messages with SpamAssassin 4.0.1 rule files, as a
// drop-in replacement for spamass-milter/spamd in the gomilter pipeline.
//
// It reads the configuration SpamAssassin reads (Mail::SpamAssassin::Conf
// syntax) from the same places: *.pre and *.cf of /etc/spamassassin, the
// rules in /usr/share/spamassassin (or an sa-update directory), and an
// optional extra local.cf. Supported rule types are header (with :raw,
// :addr, :name, :first, :last, exists:, !~ and [if-unset: ...], pseudo
// headers ALL, ALL-TRUSTED/UNTRUSTED/INTERNAL/EXTERNAL, ToCc, EnvelopeFrom,
// MESSAGEID, X-Spam-Relays-*), body, rawbody, full, uri, mimeheader and meta
// (boolean and arithmetic, Perl semantics), plus score (four score sets; the
// set is net*1 + bayes*2, chosen per message), describe, tflags, priority,
// if/ifplugin/else/endif, ReplaceTags and the local.cf options listed on
// Conf. Unknown directives produce one warning each.
//
// Messages are decoded the way Mail::SpamAssassin::Message does: header
// values unfolded and RFC 2047 decoded, a lenient MIME walker, text parts
// decoded and HTML rendered to text (with the HTML statistics the HTMLEval
// rules use), the Subject prepended, paragraphs joined and long lines split
// at 2048 bytes. The Received chain is parsed into trusted and untrusted
// relays with trusted_networks/internal_networks or SA's inference.
//
// Perl regexes are translated to Go's RE2 syntax when possible and otherwise
// run on github.com/dlclark/regexp2 behind a looser RE2 approximation and
// with a per-match timeout. Mail bytes are matched as Latin-1 so that byte
// classes such as [\x80-\xff] keep their meaning. Each pattern has a lazily
// built DFA (dfa.go) that decides assertions as RE2 does: for an RE2 rule its
// "yes" is the hit, for a backtracking one its "no" spares regexp2. Body,
// rawbody, full and uri rules are scanned together, once per message and
// kind (lineset.go): a case-folded set of every rule's required literals and
// sets of the short loop-free patterns tell each rule the lines it could
// match, so most rules never look at the text.
//
// Eval functions are implemented for the HeaderEval, RelayEval, FreeMail,
// MIMEEval, HTMLEval, BodyEval, WLBLEval, ImageInfo, VBounce,
// HTTPSMismatch and Bayes plugins as far as the stock rules use them with
// a score; Engine.NotImpl lists the ones still missing (with network tests
// on: HashBL's body check, Pyzor and Razor2).
//
// The DKIM and SPF plugins' evals (DKIM_VALID_AU, SPF_PASS, the
// welcomelist_from_dkim/_spf welcomelists...) answer from the results a
// caller hands to Engine.CheckAuth (spam.Auth: the milter's own DKIM, SPF
// and ARC verdicts), as SpamAssassin does with caller-supplied signatures.
// What was not supplied is verified here when network tests are on (DKIM
// through milter/dkim, SPF through internal/spf against the first
// external relay, ARC through milter/arc); like SpamAssassin's, those
// rules are network rules and do not run otherwise.
//
// Options.Resolver turns the network tests on (score sets 1 and 3): the DNS
// blocklists of the DNSEval plugin (check_rbl* on the untrusted relays and
// sender addresses, RCVD_IN_*) and of URIDNSBL (urirhsbl/urirhssub and
// uridnsbl/uridnssub with tflags a on the message's URI hosts, URIBL_*).
// Their lookups start before the first rule, run in parallel within
// rbl_timeout and the time limit, and set their rules before the meta
// rules. Only answers in 127.0.0.0/8 count; a blocklist's "query refused"
// or error codes (dns_block_rule, Spamhaus 127.255.255.x, URIBL 127.0.0.1)
// are never listings and pause the zone for dns_block_time.
//
// Use:
//
//	eng, warnings, err := spam.Load(spam.Options{LocalCF: "/etc/gomilter/spam.cf"})
//	res := eng.Check(ctx, env, msg) // at end of message
//	// res.Err != nil: checking failed (recovered panic); accept unscored.
//	// Delete res.RemoveHeaders, add res.Headers in order (SA appends them
//	// to the header block), replace Subject with res.Subject when set.
//	// res.Rewrite(raw) does all of that on a raw message; for spam with
//	// report_safe 1 or 2 it returns SA's new message instead: the report
//	// with the original attached. res.Encapsulate(raw) gives a milter
//	// that rewrite as field deletions, fields to add and a new body.
//
// Options.TimeLimit bounds the work per message (SA's time_limit); the
// result then has TimedOut set. Options.BayesPath enables Bayes (a bbolt
// token database trained with Engine.Learn); once 200 spam and 200 ham are
// learned, messages are scored with the Bayes score sets and BAYES_* rules.
//
// report_safe follows the configuration (SA's default, and Debian's, is
// 1): with 1 or 2, spam is wrapped as SA does, the report (report
// template, _SUMMARY_, _PREVIEW_, unsafe_report for non-text mail) first
// and the original attached as message/rfc822 or text/plain; with 0 only
// headers change and spam gets X-Spam-Report. Result.Report is the report
// text either way (spamd's REPORT). The rule table lists hits in name
// order, without SA's per-rule log lines.
//
// References: Mail::SpamAssassin::Conf(3), Mail::SpamAssassin::PerMsgStatus(3),
// Mail::SpamAssassin::Plugin::Bayes(3) and the rule files of SpamAssassin 4.0.1.
package spam
