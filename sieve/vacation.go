package sieve

import (
	"math"
	"strings"
	"time"

	"github.com/gomilter/gomilter/internal/mailmsg"
)

// vacation (RFC 5230) and vacation-seconds (RFC 6131).

func vacationSpecs() []*Spec {
	return []*Spec{{Name: "vacation", Ext: "vacation", Tags: []TagDef{
		{Name: "days", Param: TNumber, Group: "period"},
		{Name: "seconds", Param: TNumber, Group: "period", Ext: "vacation-seconds"},
		{Name: "subject", Param: TString}, {Name: "from", Param: TString},
		{Name: "addresses", Param: TStringList}, {Name: "mime"}, {Name: "handle", Param: TString}},
		Args: []ValType{TString}, Check: checkVacation, Run: runVacation}}
}

func checkVacation(c *Compiler, n *Node) {
	if f := n.TagValue("from"); f != nil && c.ConstString(f.Str()) {
		if p := parseSieveAddress(f.Str()); p.err != "" {
			c.Errorf(f.Pos, "specified :from address '%s' is invalid for vacation action: %s", sanitize(f.Str(), 128), p.err)
		}
	}
	if a := n.TagValue("addresses"); a != nil {
		for _, s := range a.Strs {
			if c.ConstString(s) {
				if p := parseSieveAddress(s); p.err != "" {
					c.Errorf(a.Pos, "specified :addresses item '%s' is invalid for vacation action: %s", sanitize(s, 128), p.err)
				}
			}
		}
	}
}

func (r *Runtime) vacationPeriod(n *Node) time.Duration {
	var d time.Duration
	switch {
	case n.Tag("seconds"):
		d = durationOf(n.TagValue("seconds").Num, time.Second)
		if d == 0 {
			return 0 // RFC 6131: zero means always reply
		}
	case n.Tag("days"):
		d = durationOf(n.TagValue("days").Num, 24*time.Hour)
	default:
		return r.opts.VacationDefaultPeriod
	}
	if d < r.opts.VacationMinPeriod {
		d = r.opts.VacationMinPeriod
	}
	if r.opts.VacationMaxPeriod > 0 && d > r.opts.VacationMaxPeriod {
		d = r.opts.VacationMaxPeriod
	}
	return d
}

func runVacation(r *Runtime, n *Node) error {
	v := &Vacation{
		To:        r.in.Envelope.From,
		From:      r.String(n.TagValue("from")),
		Subject:   r.vacationSubject(r.String(n.TagValue("subject"))),
		Reason:    r.String(n.Args[0]),
		MIME:      n.Tag("mime"),
		Period:    r.vacationPeriod(n),
		Handle:    r.String(n.TagValue("handle")),
		Addresses: r.Strings(n.TagValue("addresses")),
	}
	if v.Handle == "" {
		v.Handle = r.String(n.TagValue("subject")) + "\x00" + v.From + "\x00" + v.Reason
		if v.MIME {
			v.Handle += "\x00mime"
		}
	}
	if ids := fieldValues(r.msg.header, "Message-ID", false); len(ids) > 0 {
		v.InReplyTo = ids[0]
	}
	return r.AddAction(n, &Action{Kind: ActVacation, Vacation: v}, false)
}

// VacationSkipReason tells why no reply must be sent for the message and
// the user's addresses, or "" if the reply may go out (RFC 5230 section
// 4.5 plus Pigeonhole's checks). The caller still applies the period.
func VacationSkipReason(a *Action, env Envelope, opts *Options) string {
	v := a.Vacation
	msg := a.Message
	sender := strings.ToLower(v.To)
	if sender == "" {
		return "null envelope sender"
	}
	local, _, _ := splitAddr(sender)
	for _, p := range []string{"mailer-daemon", "listserv", "majordomo", "owner-"} {
		if strings.HasPrefix(local, p) {
			return "sender is a system address"
		}
	}
	if strings.HasSuffix(local, "-request") {
		return "sender is a list request address"
	}
	if why := autoReplyBlocked(msg); why != "" {
		return why
	}
	own := append([]string{env.To}, v.Addresses...)
	if opts.VacationUseOriginalRecipient && env.OrigTo != "" {
		own = append(own, env.OrigTo)
	}
	if opts.UserEmail != "" {
		own = append(own, opts.UserEmail)
	}
	if containsFold(own, sender) {
		return "sender is the recipient"
	}
	if opts.VacationDontCheckRecipient {
		return ""
	}
	for _, h := range []string{"To", "Cc", "Bcc", "Resent-To", "Resent-Cc", "Resent-Bcc"} {
		for _, raw := range fieldValues(msg.Header, h, false) {
			addrs, _ := parseAddressList(raw)
			for _, ad := range addrs {
				if containsFold(own, ad) {
					return ""
				}
			}
		}
	}
	return "recipient not found in the message's addresses"
}

// autoReplyBlocked checks the headers that forbid automatic replies
// (RFC 3834 section 2, list headers, Precedence, Microsoft's
// X-Auto-Response-Suppress).
func autoReplyBlocked(msg *mailmsg.Message) string {
	for _, f := range fieldValues(msg.Header, "Auto-Submitted", false) {
		if !strings.EqualFold(strings.TrimSpace(f), "no") {
			return "message is auto-submitted"
		}
	}
	for _, h := range []string{"List-Id", "List-Owner", "List-Unsubscribe", "List-Post", "List-Help", "List-Subscribe", "List-Archive"} {
		if len(fieldValues(msg.Header, h, false)) > 0 {
			return "message is from a mailing list"
		}
	}
	for _, p := range fieldValues(msg.Header, "Precedence", false) {
		switch strings.ToLower(strings.TrimSpace(p)) {
		case "bulk", "list", "junk":
			return "message has a bulk precedence"
		}
	}
	for _, f := range fieldValues(msg.Header, "X-Auto-Response-Suppress", false) {
		for _, tok := range strings.FieldsFunc(strings.ToLower(f), func(c rune) bool { return c == ',' || c == ' ' }) {
			if tok == "all" || tok == "oof" {
				return "message asks not to be auto-answered"
			}
		}
	}
	return ""
}

// durationOf is n units, saturating instead of overflowing (numbers in
// scripts go up to 2^64-1).
func durationOf(n uint64, unit time.Duration) time.Duration {
	if n > uint64(math.MaxInt64/int64(unit)) {
		return math.MaxInt64
	}
	return time.Duration(n) * unit
}
