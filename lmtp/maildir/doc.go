// Package maildir delivers messages into Maildir++ directories the way
// Dovecot 2.3 writes them, so that a Dovecot IMAP server reading the same
// tree sees them as its own deliveries.
//
// References: D. J. Bernstein's Maildir description (cr.yp.to/proto/maildir.html),
// Courier's Maildir++ (folders as ".Name", "maildirfolder", "maildirsize"
// quota), and Dovecot's doc pages MailboxFormat/Maildir and Quota/Maildir
// (src lib-storage/index/maildir/maildir-filename.c, maildir-save.c,
// plugins/quota/quota-maildir.c). PROTOCOLS.md §6 summarises them.
//
// A delivery writes the file under tmp/, fsyncs it, renames it into new/
// (or cur/ when flags are set) and fsyncs the directory. The base name is
// unique per process ("<sec>.M<usec>P<pid>Q<n>.<host>") and carries S=
// (the stored size, LF line ends as Dovecot stores them) and W= (the
// RFC822.SIZE with CRLF line ends). No Dovecot index or uidlist is
// touched: Dovecot picks new files up by itself.
package maildir
