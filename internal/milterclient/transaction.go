package milterclient

import (
	"context"

	"github.com/gomilter/gomilter/milter"
)

// Transaction replays one message: MAIL, RCPTs, DATA, headers, EOH, body
// chunks and end of message, with Postfix's macros, and returns the
// decision and modifications. A decision before end of message ends the
// transaction early and sends ABORT, as Postfix's smtpd does.
func (c *Conn) Transaction(ctx context.Context, tx Tx) (*Result, error) {
	res := &Result{}
	done, err := c.envelope(ctx, tx, res)
	if err != nil || done {
		return res, err
	}
	hdrs, body := splitMessage(tx.Message, c.neg.Protocol&milter.ProtoHdrLeadSpc != 0)
	steps := []func() (Reply, milter.Code, error){
		func() (Reply, milter.Code, error) {
			r, err := c.event(ctx, eventSpec{cmd: milter.CmdData, no: milter.ProtoNoData, nr: milter.ProtoNRData, res: res}, nil, "i", tx.QueueID)
			return r, milter.CmdData, err
		},
		func() (Reply, milter.Code, error) { return c.headers(ctx, hdrs, tx.QueueID, res) },
		func() (Reply, milter.Code, error) {
			r, err := c.event(ctx, eventSpec{cmd: milter.CmdEOH, no: milter.ProtoNoEOH, nr: milter.ProtoNREOH, res: res}, nil, "i", tx.QueueID)
			return r, milter.CmdEOH, err
		},
		func() (Reply, milter.Code, error) { return c.body(ctx, body, tx.QueueID, res) },
	}
	for _, step := range steps {
		r, stage, err := step()
		if err != nil {
			return res, err
		}
		if r.Final() {
			return c.endEarly(ctx, res, r, stage)
		}
	}
	// End of message: no NO*/NR_* bit exists for it.
	r, err := c.event(ctx, eventSpec{cmd: milter.CmdEOB, res: res}, nil, "i", tx.QueueID)
	res.Reply, res.Stage = r, milter.CmdEOB
	if err == nil {
		err = c.w.Flush()
	}
	return res, err
}

// envelope sends MAIL and the RCPTs; done means the transaction ended.
func (c *Conn) envelope(ctx context.Context, tx Tx, res *Result) (bool, error) {
	authType := tx.AuthType
	if tx.AuthUser != "" && authType == "" {
		authType = "PLAIN"
	}
	args := append([]string{"<" + tx.From + ">"}, tx.FromArgs...)
	r, err := c.event(ctx, eventSpec{cmd: milter.CmdMail, no: milter.ProtoNoMail, nr: milter.ProtoNRMail, res: res},
		milter.EncodeStrings(args...), "{auth_type}", authType, "{auth_authen}", tx.AuthUser, "{mail_addr}", tx.From)
	if err != nil {
		return true, err
	}
	if r.Final() {
		_, err := c.endEarly(ctx, res, r, milter.CmdMail)
		return true, err
	}
	accepted := 0
	var last Reply
	for _, rcpt := range tx.Rcpts {
		r, err := c.event(ctx, eventSpec{cmd: milter.CmdRcpt, no: milter.ProtoNoRcpt, nr: milter.ProtoNRRcpt, res: res},
			milter.EncodeStrings("<"+rcpt+">"), "i", tx.QueueID, "{rcpt_addr}", rcpt)
		if err != nil {
			return true, err
		}
		res.Rcpts = append(res.Rcpts, r)
		switch r.Code {
		case milter.RespAccept, milter.RespDiscard: // decides the whole message
			_, err := c.endEarly(ctx, res, r, milter.CmdRcpt)
			return true, err
		case milter.RespReject, milter.RespTempFail, milter.RespReplyCode:
			last = r // only this recipient is refused
		default:
			accepted++
		}
	}
	if accepted == 0 && len(tx.Rcpts) > 0 {
		_, err := c.endEarly(ctx, res, last, milter.CmdRcpt)
		return true, err
	}
	return false, nil
}

func (c *Conn) headers(ctx context.Context, hdrs []header, qid string, res *Result) (Reply, milter.Code, error) {
	for _, h := range hdrs {
		r, err := c.event(ctx, eventSpec{cmd: milter.CmdHeader, no: milter.ProtoNoHeaders, nr: milter.ProtoNRHeader, res: res},
			milter.EncodeStrings(h.name, h.value), "i", qid)
		if err != nil || r.Final() {
			return r, milter.CmdHeader, err
		}
	}
	return Reply{}, milter.CmdHeader, nil
}

func (c *Conn) body(ctx context.Context, body []byte, qid string, res *Result) (Reply, milter.Code, error) {
	for _, chunk := range chunks(body, milter.MaxBodyChunk) {
		r, err := c.event(ctx, eventSpec{cmd: milter.CmdBody, no: milter.ProtoNoBody, nr: milter.ProtoNRBody, res: res},
			chunk, "i", qid)
		if err != nil || r.Final() {
			return r, milter.CmdBody, err
		}
		if r.Code == milter.RespSkip {
			res.Skipped = true
			break
		}
	}
	return Reply{}, milter.CmdBody, nil
}

// endEarly records a decision made before end of message and sends
// ABORT so the milter resets for the next transaction.
func (c *Conn) endEarly(ctx context.Context, res *Result, r Reply, stage milter.Code) (*Result, error) {
	res.Reply, res.Stage = r, stage
	return res, c.Abort(ctx)
}

// Abort sends ABORT (no reply is expected).
func (c *Conn) Abort(ctx context.Context) error {
	if c.broken != nil {
		return nil
	}
	c.deadline(ctx)
	if err := c.send(milter.CmdAbort); err != nil {
		return c.fail(err)
	}
	if err := c.w.Flush(); err != nil {
		return c.fail(err)
	}
	return nil
}
