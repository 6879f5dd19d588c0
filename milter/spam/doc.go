// Package spam scores messages with SpamAssassin 4.0.1 rule files, as a
// drop-in replacement for spamass-milter/spamd in the gomilter pipeline.
//
// It reads the same configuration SpamAssassin reads (Mail::SpamAssassin::Conf
// syntax: header, body, rawbody, full, uri, mimeheader and meta rules, score,
// describe, tflags, priority, if/ifplugin, ReplaceTags) from
// /usr/share/spamassassin and /etc/spamassassin, renders messages the way
// Mail::SpamAssassin::Message does (decoded text parts, HTML rendered to text,
// Subject prepended, paragraphs joined), runs the rules and the eval
// functions implemented here, and produces SpamAssassin's X-Spam-* headers.
//
// Perl regexes are translated to Go's RE2 syntax when possible and otherwise
// run on github.com/dlclark/regexp2 with a per-match timeout. Mail bytes are
// matched as Latin-1 so that byte classes such as [\x80-\xff] keep their
// meaning.
//
// References: Mail::SpamAssassin::Conf(3), Mail::SpamAssassin::PerMsgStatus(3)
// and the rule files of SpamAssassin 4.0.1.
package spam
