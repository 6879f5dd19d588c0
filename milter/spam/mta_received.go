package spam

import (
	"fmt"
	"strings"
	"time"

	"github.com/gomilter/gomilter/internal/mailmsg"
)

// mtaReceived returns the Received field Postfix adds for the current
// transaction, which milters never see (Postfix prepends it after them).
// Without it SpamAssassin's relay analysis would miss the hop from the
// connecting client: no RCVD_IN_* lookup of that address, no RDNS_NONE,
// and Bayes relay tokens unlike those of the same message learned later
// from a mailbox. spamass-milter rebuilds the field for the same reason.
// The format is Postfix smtpd's; nil for local submission or no client.
func mtaReceived(env *mailmsg.Envelope, host string, now time.Time) []byte {
	if env == nil || env.Local || !env.ClientAddr.IsValid() {
		return nil
	}
	name := env.ClientName
	if name == "" {
		name = "unknown"
	}
	helo := env.Helo
	if helo == "" {
		helo = name
	}
	with := "ESMTP"
	if env.AuthUser != "" {
		with = "ESMTPA" // SpamAssassin reads this as an authenticated hop
	}
	id := ""
	if env.QueueID != "" {
		id = " id " + env.QueueID
	}
	var b strings.Builder
	fmt.Fprintf(&b, "Received: from %s (%s [%s])\r\n\tby %s (Postfix) with %s%s", oneLine(helo), oneLine(name),
		env.ClientAddr.Unmap(), oneLine(host), with, id)
	if len(env.Rcpts) == 1 {
		fmt.Fprintf(&b, "\r\n\tfor <%s>", oneLine(env.Rcpts[0]))
	}
	fmt.Fprintf(&b, "; %s\r\n", now.Format("Mon, 2 Jan 2006 15:04:05 -0700 (MST)"))
	return []byte(b.String())
}

// oneLine keeps client-supplied text (HELO, addresses) from breaking the
// synthesized field across lines.
func oneLine(s string) string {
	return strings.Map(func(r rune) rune {
		if r == '\r' || r == '\n' {
			return ' '
		}
		return r
	}, s)
}
