// Package policy implements the server side of the Postfix SMTP access
// policy delegation protocol (Postfix SMTPD_POLICY_README, version 3.7;
// actions are access(5) right-hand sides).
//
// Postfix connects (check_policy_service inet:host:port), sends requests of
// "name=value" lines ended by an empty line, and reads one reply,
// "action=<value>" plus an empty line, per request. Connections are
// persistent: Postfix reuses one for many SMTP sessions and closes it after
// smtpd_policy_service_max_idle (300 s) or _max_ttl (1000 s).
//
// A Server reads requests with bounded line length, attribute count and
// request size, calls a Handler, and writes its Action. A malformed request
// is logged and the connection is closed without a reply, which makes
// Postfix retry (SMTPD_POLICY_README, "Protocol description"). A handler
// error becomes "action=defer_if_permit Service temporarily unavailable"
// unless the error carries its own Action (see Error).
//
// Example exchange:
//
//	request=smtpd_access_policy
//	protocol_state=RCPT
//	client_address=192.0.2.1
//	sender=alice@example.com
//	recipient=bob@example.org
//	...
//	<empty line>
//
//	action=DUNNO
//	<empty line>
package policy
