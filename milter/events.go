package milter

import (
	"strings"
	"time"
)

// scope says what a final response ends: the connection (CONNECT, HELO),
// one recipient (RCPT) or the message (everything from MAIL on).
type scope int

const (
	scopeConn scope = iota
	scopeRcpt
	scopeMsg
)

// handle dispatches one packet: decode, check state, call the Milter,
// reply. It reports quit when the MTA said QUIT.
func (s *session) handle(p Packet) (quit bool, err error) {
	if s.state == stateOptNeg && p.Code != CmdOptNeg {
		return false, protoErrorf("%s before OPTNEG", p.Code)
	}
	switch p.Code {
	case CmdOptNeg:
		return false, s.optneg(p.Data)
	case CmdMacro:
		return false, s.macro(p.Data)
	case CmdConnect:
		return false, s.connect(p.Data)
	case CmdHelo:
		return false, s.helo(p.Data)
	case CmdMail:
		return false, s.mail(p.Data)
	case CmdRcpt:
		return false, s.rcpt(p.Data)
	case CmdData:
		return false, s.txEvent("data", ProtoNRData, scopeMsg, func() (Response, error) {
			return s.milter.Data(s.ctx, &s.macros)
		})
	case CmdHeader:
		return false, s.header(p.Data)
	case CmdEOH:
		return false, s.txEvent("eoh", ProtoNREOH, scopeMsg, func() (Response, error) {
			return s.milter.EndOfHeaders(s.ctx, &s.macros)
		})
	case CmdBody:
		return false, s.body(p.Data)
	case CmdEOB:
		return false, s.eom(p.Data)
	case CmdAbort:
		s.abortTx(true)
		s.macros.abort()
		return false, nil
	case CmdUnknown:
		return false, s.reply(Continue, s.neg.Protocol&ProtoNRUnknown != 0, scopeConn, "unknown")
	case CmdQuit:
		return true, nil
	case CmdQuitNC:
		return false, s.quitNC()
	}
	return false, protoErrorf("unexpected command %s", p.Code)
}

func (s *session) optneg(data []byte) error {
	if s.state != stateOptNeg {
		return protoErrorf("second OPTNEG")
	}
	mta, err := DecodeOptNeg(data)
	if err != nil {
		return err
	}
	if mta.Version < minProtocolVersion {
		return protoErrorf("MTA offers milter protocol version %d, need >= %d", mta.Version, minProtocolVersion)
	}
	o := s.srv.opts
	want := ProtoHdrLeadSpc | ProtoSkip | ProtoNoUnknown | o.NoEvents | o.NoReply
	s.neg = OptNeg{
		Version:  min(mta.Version, maxProtocolVersion),
		Actions:  o.Actions & mta.Actions,
		Protocol: want & mta.Protocol,
	}
	reply := s.neg
	if len(o.SymLists) > 0 && mta.Actions&ActSetSymList != 0 {
		s.neg.Actions |= ActSetSymList
		reply.Actions = s.neg.Actions
		reply.SymLists = o.SymLists
	}
	s.tl.neg = s.neg
	s.state = stateConn
	if err := s.writePacket(CmdOptNeg, reply.Encode()); err != nil {
		return err
	}
	return s.flush()
}

func (s *session) macro(data []byte) error {
	code, kv, err := DecodeMacros(data)
	if err != nil {
		return err
	}
	if st, ok := stageOf(code); ok {
		s.macros.set(st, kv)
	} // macros for a command we do not know are ignored, as libmilter does
	return nil
}

func (s *session) connect(data []byte) error {
	if s.connected || s.state != stateConn {
		return protoErrorf("CONNECT in state %s", s.state)
	}
	ci, err := DecodeConnect(data)
	if err != nil {
		return err
	}
	s.connected = true
	s.client = ci.Host
	if ci.Addr.IsValid() && ci.Host != "["+ci.Addr.String()+"]" {
		s.client += " [" + ci.Addr.String() + "]"
	}
	r := s.call("connect", func() (Response, error) { return s.milter.Connect(s.ctx, ci, &s.macros) })
	return s.reply(r, s.neg.Protocol&ProtoNRConnect != 0, scopeConn, "connect")
}

func (s *session) helo(data []byte) error {
	args, err := DecodeStrings(data)
	if err != nil {
		return err
	}
	if len(args) < 1 {
		return protoErrorf("HELO without name")
	}
	s.abortTx(true) // a new EHLO ends any transaction (RFC 5321 4.1.4)
	r := s.call("helo", func() (Response, error) { return s.milter.Helo(s.ctx, args[0], &s.macros) })
	return s.reply(r, s.neg.Protocol&ProtoNRHelo != 0, scopeConn, "helo")
}

// trimAngle turns "<a@b>" into "a@b" and "<>" into "".
func trimAngle(a string) string {
	if len(a) >= 2 && a[0] == '<' && a[len(a)-1] == '>' {
		return a[1 : len(a)-1]
	}
	return a
}

func (s *session) mail(data []byte) error {
	args, err := DecodeStrings(data)
	if err != nil {
		return err
	}
	if len(args) < 1 {
		return protoErrorf("MAIL without address")
	}
	// A MAIL without ABORT after an unfinished transaction: end it, but
	// keep the MAIL macros that just arrived.
	s.abortTx(false)
	s.state = stateTx
	s.tx = txState{start: time.Now(), from: trimAngle(args[0])}
	s.tl.attrs = nil
	return s.txEvent("mail", ProtoNRMail, scopeMsg, func() (Response, error) {
		return s.milter.MailFrom(s.ctx, s.tx.from, args[1:], &s.macros)
	})
}

func (s *session) rcpt(data []byte) error {
	args, err := DecodeStrings(data)
	if err != nil {
		return err
	}
	if len(args) < 1 {
		return protoErrorf("RCPT without address")
	}
	return s.txEvent("rcpt", ProtoNRRcpt, scopeRcpt, func() (Response, error) {
		r, err := s.milter.RcptTo(s.ctx, trimAngle(args[0]), args[1:], &s.macros)
		if err == nil && !refusesRcpt(r) {
			s.tx.rcpts++
		}
		return r, err
	})
}

func refusesRcpt(r Response) bool {
	switch r.Code() {
	case RespReject, RespTempFail, RespReplyCode:
		return true
	}
	return false
}

func (s *session) header(data []byte) error {
	name, value, err := DecodeHeader(data)
	if err != nil {
		return err
	}
	// Without HDR_LEADSPC the MTA removed one space after the colon; put
	// it back so the Milter always sees the raw value. (A value that
	// starts with a tab or is empty had no space removed by Postfix.)
	if s.neg.Protocol&ProtoHdrLeadSpc == 0 && value != "" && value[0] != '\t' {
		value = " " + value
	}
	return s.txEvent("header", ProtoNRHeader, scopeMsg, func() (Response, error) {
		return s.milter.Header(s.ctx, name, value, &s.macros)
	})
}

func (s *session) body(chunk []byte) error {
	return s.txEvent("body", ProtoNRBody, scopeMsg, func() (Response, error) {
		if s.tx.skipBody {
			return Continue, nil
		}
		return s.milter.BodyChunk(s.ctx, chunk, &s.macros)
	})
}

// txEvent runs an event inside a transaction: a held decision is sent
// at the first event with a reply, and after a decision the Milter is not
// called again for this message.
func (s *session) txEvent(stage string, nr OptProtocol, sc scope, f func() (Response, error)) error {
	if s.state != stateTx {
		return protoErrorf("%s outside a transaction", strings.ToUpper(stage))
	}
	noReply := s.neg.Protocol&nr != 0
	if s.tx.held != nil {
		if noReply {
			return nil
		}
		r := *s.tx.held
		s.tx.held = nil
		s.finishTx(r.result())
		return s.sendResponse(r)
	}
	if s.tx.done {
		if noReply {
			return nil
		}
		return s.sendResponse(Continue)
	}
	r := s.call(stage, f)
	if r.Code() == RespSkip {
		return s.skip(noReply)
	}
	return s.reply(r, noReply, sc, stage)
}

// skip handles Skip from BodyChunk: tell the MTA if it understands
// SMFIR_SKIP and expects a reply, and stop calling BodyChunk either way.
func (s *session) skip(noReply bool) error {
	s.tx.skipBody = true
	switch {
	case noReply:
		return nil
	case s.neg.Protocol&ProtoSkip != 0:
		return s.sendResponse(Skip)
	}
	return s.sendResponse(Continue)
}

// reply sends r, or holds it when the event has no reply.
func (s *session) reply(r Response, noReply bool, sc scope, stage string) error {
	if r.Code() == RespSkip {
		r = Continue
	}
	msgFinal := r.final() && (sc == scopeMsg || sc == scopeRcpt && (r.Code() == RespAccept || r.Code() == RespDiscard))
	if noReply {
		switch {
		case msgFinal:
			held := r // copy: taking &r would move every response to the heap
			s.tx.held = &held
		case r.Code() == RespQuarantine && sc != scopeConn:
			reason := r.text
			s.tx.quarantined = true
			s.tx.quarReason = &reason
		case r.Code() != RespContinue:
			s.log.Warn("milter response dropped: event has no reply", "stage", stage, "response", r.String(), "client", s.client)
		}
		return nil
	}
	if msgFinal {
		s.finishTx(r.result())
	}
	return s.sendResponse(r)
}

// eom handles end of message. Postfix sends it empty; libmilter allows a
// last body chunk in it (Sendmail), which goes to BodyChunk first.
func (s *session) eom(last []byte) error {
	if s.state != stateTx {
		return protoErrorf("BODYEOB outside a transaction")
	}
	defer func() { s.state = stateConn }()
	if len(last) > 0 && s.tx.held == nil && !s.tx.done && !s.tx.skipBody {
		if r := s.call("body", func() (Response, error) { return s.milter.BodyChunk(s.ctx, last, &s.macros) }); r.final() {
			s.tx.held = &r
		}
	}
	if s.tx.held != nil || s.tx.done {
		return s.txEvent("eom", 0, scopeMsg, nil)
	}
	mod := &Modifier{s: s}
	r := s.call("eom", func() (Response, error) { return s.milter.EndOfMessage(s.ctx, mod, &s.macros) })
	mod.used = true
	if r.Code() == RespSkip {
		r = Continue
	}
	s.finishTx(r.result())
	return s.sendResponse(r)
}

// abortTx ends an open transaction (ABORT, or implicitly by a new HELO
// or MAIL) and calls Milter.Abort.
func (s *session) abortTx(clearMacros bool) {
	if s.state != stateTx {
		return
	}
	s.finishTx("aborted")
	s.state = stateConn
	s.tx = txState{}
	if clearMacros {
		s.macros.abort()
	}
	func() {
		defer func() {
			if p := recover(); p != nil {
				s.panicked("abort", p)
			}
		}()
		if err := s.milter.Abort(s.ctx, &s.macros); err != nil {
			s.log.Error("milter abort failed", "client", s.client, "err", err)
		}
	}()
}

// quitNC ends the SMTP session but keeps the milter connection: a new
// CONNECT follows, served by a fresh Milter.
func (s *session) quitNC() error {
	s.closeMilter()
	s.state, s.tx = stateConn, txState{}
	s.macros.reset()
	s.connected = false
	s.client = ""
	s.milter = s.newMilter()
	if s.milter == nil {
		return protoErrorf("cannot create Milter after QUIT_NC")
	}
	return nil
}
