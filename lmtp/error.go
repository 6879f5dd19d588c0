package lmtp

import (
	"errors"
	"strings"

	"github.com/emersion/go-smtp"
)

// Reply is a per-recipient LMTP reply chosen by the server or a Backend.
// It is the only error text a client ever sees: every other error becomes
// "451 4.3.0 Temporary internal error" and is logged, never sent.
type Reply = smtp.SMTPError

// ErrUserNotFound is what a Backend returns for an unknown recipient
// (550 5.1.1, permanent).
var ErrUserNotFound = errors.New("lmtp: user not found")

// The replies Dovecot's LMTP sends, so Postfix logs and bounces read the
// same. Messages given at RCPT carry "<rcpt> " themselves; after DATA
// go-smtp prefixes each reply with the recipient.
func replyNoUser(rcpt, user string) *Reply {
	return &Reply{Code: 550, EnhancedCode: smtp.EnhancedCode{5, 1, 1}, Message: "<" + rcpt + "> User doesn't exist: " + user}
}

func replyTempRcpt(rcpt string) *Reply {
	return &Reply{Code: 451, EnhancedCode: smtp.EnhancedCode{4, 3, 0}, Message: "<" + rcpt + "> Temporary internal error"}
}

// replyTemp is the generic data-phase failure.
var replyTemp = &Reply{Code: 451, EnhancedCode: smtp.EnhancedCode{4, 3, 0}, Message: "Temporary internal error"}

// quotaMessage is Dovecot's default quota_exceeded_message.
const quotaMessage = "Quota exceeded (mailbox for user is full)"

func replyQuota(tempfail bool) *Reply {
	if tempfail {
		return &Reply{Code: 452, EnhancedCode: smtp.EnhancedCode{4, 2, 2}, Message: quotaMessage}
	}
	return &Reply{Code: 552, EnhancedCode: smtp.EnhancedCode{5, 2, 2}, Message: quotaMessage}
}

func replySaved(id string) *Reply {
	return &Reply{Code: 250, EnhancedCode: smtp.EnhancedCode{2, 0, 0}, Message: id + " Saved"}
}

// replyReject is a Sieve reject: the reason goes back to the sender.
func replyReject(reason string) *Reply {
	return &Reply{Code: 550, EnhancedCode: smtp.EnhancedCode{5, 7, 1}, Message: oneLine(reason)}
}

// oneLine keeps a reply to one line of printable text (a Sieve reason may
// hold newlines; go-smtp would turn them into a multi-line reply).
func oneLine(s string) string {
	b := make([]byte, 0, len(s))
	for i := 0; i < len(s) && len(b) < 400; i++ {
		c := s[i]
		if c == '\r' || c == '\n' || c == '\t' {
			c = ' '
		}
		if c < 0x20 || c == 0x7f {
			continue
		}
		b = append(b, c)
	}
	out := strings.Join(strings.Fields(string(b)), " ")
	if out == "" {
		return "Rejected"
	}
	return out
}

// asReply returns the Reply in err's chain, or nil.
func asReply(err error) *Reply {
	var r *Reply
	if errors.As(err, &r) {
		return r
	}
	return nil
}
