package bayes

import (
	"net/mail"
	"strings"
	"time"

	"github.com/gomilter/gomilter/internal/mailmsg"
)

// messageTime is when msg was received, as SpamAssassin's receive_date
// judges it: the date of the topmost Received field, else the Date field;
// now when neither parses or the date lies in the future. Tokens are
// stamped with it, so that expiry drops the tokens of the oldest mail,
// not those learned first: learning all spam and then all ham must not
// make the ham run expire the spam.
func messageTime(msg *mailmsg.Message, now time.Time) uint32 {
	var cands []string
	if rs := msg.All("Received"); len(rs) > 0 {
		v := mailmsg.Unfold(rs[0].Value)
		if i := strings.LastIndexByte(v, ';'); i >= 0 {
			cands = append(cands, v[i+1:])
		}
	}
	if d, ok := msg.Get("Date"); ok {
		cands = append(cands, mailmsg.Unfold(d))
	}
	for _, c := range cands {
		t, err := mail.ParseDate(strings.TrimSpace(c))
		if err != nil || t.Unix() <= 0 || t.After(now) || t.Unix() > int64(^uint32(0)) {
			continue
		}
		return uint32(t.Unix())
	}
	return uint32(now.Unix())
}
