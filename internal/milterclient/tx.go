package milterclient

import (
	"context"
	"fmt"

	"github.com/gomilter/gomilter/milter"
)

// Reply is the milter's answer to one event.
type Reply struct {
	// Code is RespContinue, RespAccept, RespReject, RespTempFail,
	// RespDiscard, RespReplyCode or (body only) RespSkip; 0 when no reply
	// was awaited (NR_*) or the event was not sent (NO*).
	Code milter.Code
	Text string // the SMTP reply of RespReplyCode
}

// Final reports whether the reply ends the message (or connection).
func (r Reply) Final() bool {
	switch r.Code {
	case milter.RespAccept, milter.RespReject, milter.RespTempFail, milter.RespDiscard, milter.RespReplyCode:
		return true
	}
	return false
}

// Result names the reply: continue, accept, reject, tempfail, discard,
// skip, or "" for no reply. A 4xx ReplyCode is tempfail, 5xx reject.
func (r Reply) Result() string {
	switch r.Code {
	case 0:
		return ""
	case milter.RespContinue:
		return "continue"
	case milter.RespAccept:
		return "accept"
	case milter.RespReject:
		return "reject"
	case milter.RespTempFail:
		return "tempfail"
	case milter.RespDiscard:
		return "discard"
	case milter.RespSkip:
		return "skip"
	case milter.RespReplyCode:
		if len(r.Text) > 0 && r.Text[0] == '4' {
			return "tempfail"
		}
		return "reject"
	}
	return "unknown"
}

// Modification is one end-of-message request from the milter.
type Modification struct {
	Code  milter.Code // RespAddHeader, RespInsHeader, RespChgHeader, RespAddRcpt, ...
	Index uint32      // for insert/change header
	Name  string      // header name, or the address for rcpt/from changes
	Value string      // header value as sent (LF folding), or ESMTP args
	Body  []byte      // RespReplBody chunk
}

// Tx is one mail transaction to replay.
type Tx struct {
	From     string   // envelope sender without <> ("" = null sender)
	FromArgs []string // ESMTP MAIL parameters, e.g. "SIZE=1234"
	Rcpts    []string // without <>
	AuthUser string   // {auth_authen}; set for an authenticated submission
	AuthType string   // {auth_type}; "PLAIN" when AuthUser is set and this is empty
	QueueID  string   // macro i, sent from RCPT on as Postfix does
	Message  []byte   // raw message, header and body (LF or CRLF)
}

// Result is what the milter decided for a transaction.
type Result struct {
	Reply       Reply       // the decision: EOM's reply, or what ended the message early
	Stage       milter.Code // event that produced Reply
	Rcpts       []Reply     // one per Tx.Rcpts entry
	Mods        []Modification
	Quarantined bool
	Quarantine  string // reason
	Skipped     bool   // the milter sent SMFIR_SKIP during the body
}

// Outcome is the decision as one word: accept (continue or accept at
// EOM), reject, tempfail, discard or quarantine (accepted on hold).
func (r *Result) Outcome() string {
	o := r.Reply.Result()
	if o == "continue" || o == "" {
		o = "accept"
	}
	if o == "accept" && r.Quarantined {
		return "quarantine"
	}
	return o
}

// HeadersAdded returns the added and inserted header fields.
func (r *Result) HeadersAdded() []Modification {
	var out []Modification
	for _, m := range r.Mods {
		if m.Code == milter.RespAddHeader || m.Code == milter.RespInsHeader {
			out = append(out, m)
		}
	}
	return out
}

// eventSpec says which NO*/NR_* bits govern an event.
type eventSpec struct {
	cmd    milter.Code
	no, nr milter.OptProtocol
	res    *Result // collects quarantine and (at EOM) modifications
}

// event sends the macros, then the event unless NO* suppresses it (the
// macros still go, as Postfix does), then reads the reply unless NR_*.
func (c *Conn) event(ctx context.Context, spec eventSpec, data []byte, kv ...string) (Reply, error) {
	if c.broken != nil {
		return Reply{}, c.broken
	}
	c.deadline(ctx)
	if err := c.macros(spec.cmd, kv...); err != nil {
		return Reply{}, c.fail(err)
	}
	if c.neg.Protocol&spec.no != 0 {
		return Reply{}, nil
	}
	if err := c.send(spec.cmd, data); err != nil {
		return Reply{}, c.fail(err)
	}
	if c.neg.Protocol&spec.nr != 0 {
		return Reply{}, nil
	}
	if err := c.w.Flush(); err != nil {
		return Reply{}, c.fail(err)
	}
	return c.readReply(spec)
}

func (c *Conn) fail(err error) error {
	c.broken = fmt.Errorf("%w: %v", ErrConnectionDone, err)
	return c.broken
}

func (c *Conn) readReply(spec eventSpec) (Reply, error) {
	for {
		p, err := c.read()
		if err != nil {
			return Reply{}, c.fail(err)
		}
		switch p.Code {
		case milter.RespProgress:
			continue
		case milter.RespQuarantine:
			args, err := milter.DecodeStrings(p.Data)
			if err != nil || len(args) != 1 {
				return Reply{}, c.fail(fmt.Errorf("bad QUARANTINE %q", p.Data))
			}
			if spec.res != nil {
				spec.res.Quarantined, spec.res.Quarantine = true, args[0]
			}
			continue
		case milter.RespContinue, milter.RespAccept, milter.RespReject, milter.RespTempFail, milter.RespDiscard:
			return c.final(spec, Reply{Code: p.Code})
		case milter.RespReplyCode:
			args, err := milter.DecodeStrings(p.Data)
			if err != nil || len(args) != 1 || len(args[0]) < 4 || (args[0][0] != '4' && args[0][0] != '5') {
				return Reply{}, c.fail(fmt.Errorf("bad REPLYCODE %q", p.Data))
			}
			return c.final(spec, Reply{Code: p.Code, Text: args[0]})
		case milter.RespSkip:
			if spec.cmd == milter.CmdBody && c.neg.Protocol&milter.ProtoSkip != 0 {
				return Reply{Code: p.Code}, nil
			}
		default:
			if spec.cmd == milter.CmdEOB && spec.res != nil {
				m, err := decodeMod(p)
				if err != nil {
					return Reply{}, c.fail(err)
				}
				spec.res.Mods = append(spec.res.Mods, m)
				continue
			}
		}
		return Reply{}, c.fail(fmt.Errorf("unexpected reply %s to %s", p.Code, spec.cmd))
	}
}

// final notes connection-level decisions: after accept/reject/tempfail
// at CONNECT or HELO Postfix stops talking to the milter.
func (c *Conn) final(spec eventSpec, r Reply) (Reply, error) {
	if (spec.cmd == milter.CmdConnect || spec.cmd == milter.CmdHelo) && r.Final() {
		c.broken = fmt.Errorf("%w: %s at %s", ErrConnectionDone, r.Code, spec.cmd)
	}
	return r, nil
}

func decodeMod(p milter.Packet) (Modification, error) {
	m := Modification{Code: p.Code}
	var err error
	switch p.Code {
	case milter.RespAddHeader:
		m.Name, m.Value, err = milter.DecodeHeader(p.Data)
	case milter.RespInsHeader, milter.RespChgHeader:
		m.Index, m.Name, m.Value, err = milter.DecodeIndexed(p.Data)
	case milter.RespAddRcpt, milter.RespDelRcpt, milter.RespAddRcptPar, milter.RespChgFrom:
		var args []string
		args, err = milter.DecodeStrings(p.Data)
		if err == nil && (len(args) < 1 || len(args) > 2) {
			err = fmt.Errorf("%s with %d strings", p.Code, len(args))
		}
		if err == nil {
			m.Name = args[0]
			if len(args) == 2 {
				m.Value = args[1]
			}
		}
	case milter.RespReplBody:
		m.Body = append([]byte(nil), p.Data...)
	default:
		err = fmt.Errorf("unexpected reply %s at end of message", p.Code)
	}
	return m, err
}
