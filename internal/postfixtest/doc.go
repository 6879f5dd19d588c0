// Package postfixtest runs Debian's real Postfix (3.7) as a private,
// throw-away instance inside a Go test, with an in-process SMTP sink
// (internal/smtpsink) as its relayhost, so integration tests can drive mail
// through Postfix and our milter / policy / auth daemons and look at what
// came out.
//
//	inst := postfixtest.Start(t, postfixtest.Options{
//		MainCF: map[string]string{"smtpd_milters": "inet:127.0.0.1:" + port},
//	})
//	if err := inst.Send(t, "a@example.com", []string{"b@example.org"}, msg); err != nil {
//		t.Fatal(err) // postfixtest.Code(err) is the SMTP reply code
//	}
//	got := inst.Sink().WaitMessages(t, 1, 10*time.Second)
//
// The configuration follows the Postfix documentation (postconf(5),
// master(5), MAILLOG_README for postlogd, MILTER_README,
// SMTPD_POLICY_README, SASL_README) and the notes in
// shared/reference/PRIVATE-INSTANCES.md.
//
// # Layout
//
// Each instance lives in its own os.MkdirTemp("", "pftest-") tree, mode
// 0755: etc/ (config_directory: main.cf, master.cf), spool/
// (queue_directory, root-owned), lib/ (data_directory, postfix 0700) and
// maillog (maillog_file, written by postlogd). Stop removes it.
//
// # Pitfalls found while writing this (beyond PRIVATE-INSTANCES.md)
//
//   - Every Postfix command that finds main.cf modified in the current
//     second sleeps 300 ms and rereads it until it is older: a freshly
//     written main.cf made "postfix start" take ~2 s. The harness backdates
//     the mtime of main.cf and master.cf.
//   - "postfix start" hands its stdout/stderr to the daemonized master; Go's
//     CombinedOutput (a pipe) then waits for master to let go. Commands'
//     output goes to a temp file instead.
//   - "postfix check" (post-install create-missing and the find-based
//     permission checks of postfix-script) takes 1-10 s on a loaded 2-core
//     box. The harness creates the queue tree itself, as postfix-files
//     prescribes, and touches queue_directory/quick-start, which makes
//     postfix-script skip both checks once.
//   - qmgr may reorder a message's recipients: compare RCPT lists as sets.
//     More than 50 recipients reach the sink as several transactions
//     (smtp_destination_recipient_limit).
//   - "postfix stop" polls master with "sleep 1"; Stop instead sends
//     SIGTERM to master itself and polls /proc, then SIGKILLs whatever of
//     the instance is left (found by master PID, parent PID, cwd inside the
//     instance tree, or MAIL_CONFIG in the environment). Daemons chdir to
//     queue_directory, which is how orphans are recognised.
//   - The sink must announce 8BITMIME, or Postfix converts 8-bit bodies to
//     quoted-printable on the way out (disable_mime_output_conversion is
//     also set).
//   - The sink's greeting name must differ from myhostname, or the smtp
//     client reports "mail for ... loops back to myself".
//   - Dovecot daemonizes the same way: exec it with stdout/stderr on a file,
//     never CombinedOutput, or the test blocks until the daemon exits.
//   - Readiness: master binds the inet listeners before "postfix start"
//     (master -w) returns and forks smtpd on the first connection, so Start
//     polls /proc/net/tcp for the LISTEN socket instead of connecting; a
//     probing connection would make a real SMTP session, a milter connect
//     and "lost connection after CONNECT" log lines the test never asked for.
//   - net/smtp's Client.Mail adds SMTPUTF8 whenever the server offers it,
//     and Postfix then stamps "with UTF8SMTP" in Received; Session.Mail
//     adds it only for non-ASCII addresses.
//   - A main.cf error found by the postfix command itself (e.g.
//     inet_interfaces naming a foreign address) is printed only when stderr
//     is a terminal; with no syslog and postlogd not yet up it is otherwise
//     lost, and "postfix start" just exits 1. Start then reruns it under
//     script(1) to put the reason in the test failure.
//   - When a bind fails, "postfix start" takes ~3 s to report it; Start
//     retries with fresh ports (up to 5 times).
//   - Dovecot penalises a failed AUTH from an IP for the next attempts
//     (seconds): do wrong-password checks last in a test.
//   - A unix socket that smtpd must reach (milter, SASL, policy) has to be
//     in a 0755 directory (SocketDir) and be writable by postfix (0666).
//   - A test binary killed by its timeout leaves its instance running; the
//     next binary's first Start stops and removes instances whose owner
//     process (recorded as PID + start time in BaseDir()/owner) is gone.
//
// # Defaults worth knowing
//
// mynetworks = 127.0.0.0/8 (NoLocalNetworks: 192.0.2.0/24), empty
// mydestination/relay_domains, relayhost = the sink, in_flow_delay = 0,
// queue_run_delay = minimal_backoff_time = 1s, maximal_backoff_time = 2s,
// smtpd error sleeps and anvil limits off, milter timeouts 5s/10s/30s,
// disable_mime_output_conversion = yes. Everything in Options.MainCF wins.
//
// # Limits
//
// Instances need root (they chown to postfix). Start fails (or skips, off
// CI) when postfix is not installed, through internal/testenv.
package postfixtest
