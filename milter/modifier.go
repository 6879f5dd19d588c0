package milter

import (
	"errors"
	"fmt"
	"strings"
)

// ErrActionNotNegotiated is returned by Modifier methods whose action was
// not agreed in OPTNEG (see Options.Actions); the MTA would treat the
// request as a protocol error, so it is not sent.
var ErrActionNotNegotiated = errors.New("milter: action not negotiated")

// Modifier changes the message at end of message. Each call sends its
// request to the MTA at once (before the final response), in call order.
//
// Header values are the raw text after the colon, as in mailmsg.Field:
// give the leading space yourself (AddHeader("X-Foo", " bar") for
// "X-Foo: bar"). With HDR_LEADSPC negotiated (Postfix, protocol 6) the MTA
// writes name + ":" + value byte for byte, so a header built from a
// mailmsg.Field arrives exactly as its Raw() (what a DKIM or ARC signer
// hashed). An MTA without HDR_LEADSPC always inserts one space itself, so
// one leading space of ours is dropped and the result is the same for
// values that start with a space. CRLF in values is sent as LF, as the
// MTA expects for folded lines.
type Modifier struct {
	s    *session
	used bool // set after EndOfMessage returns; late calls are refused
}

func (m *Modifier) send(act OptAction, code Code, data []byte) error {
	if m.used {
		return errors.New("milter: Modifier used after EndOfMessage returned")
	}
	if act != 0 && m.s.neg.Actions&act == 0 {
		return fmt.Errorf("%w: %s", ErrActionNotNegotiated, code)
	}
	return m.s.writePacket(code, data)
}

// headerValue adjusts v for the wire as documented on Modifier.
func (m *Modifier) headerValue(v string) string {
	v = strings.ReplaceAll(v, "\r\n", "\n")
	if m.s.neg.Protocol&ProtoHdrLeadSpc != 0 {
		return v
	}
	return strings.TrimPrefix(v, " ")
}

func checkHeaderName(name string) error {
	if name == "" || strings.ContainsAny(name, ":\x00\r\n \t") {
		return fmt.Errorf("milter: invalid header name %q", name)
	}
	return nil
}

// AddHeader appends a header field at the end of the header (SMFIR_ADDHEADER).
func (m *Modifier) AddHeader(name, value string) error {
	if err := checkHeaderName(name); err != nil {
		return err
	}
	return m.send(ActAddHeader, RespAddHeader, EncodeStrings(name, m.headerValue(value)))
}

// InsertHeader inserts a header field at index (0 = the very top, above
// Postfix's own Received:) (SMFIR_INSHEADER).
func (m *Modifier) InsertHeader(index int, name, value string) error {
	if err := checkHeaderName(name); err != nil {
		return err
	}
	if index < 0 {
		return fmt.Errorf("milter: negative header index %d", index)
	}
	return m.send(ActAddHeader, RespInsHeader, EncodeIndexed(uint32(index), name, m.headerValue(value)))
}

// ChangeHeader replaces the index-th (1-based, counting only fields named
// name, as received) occurrence of name; an empty value deletes it
// (SMFIR_CHGHEADER).
func (m *Modifier) ChangeHeader(index int, name, value string) error {
	if err := checkHeaderName(name); err != nil {
		return err
	}
	if index < 1 {
		return fmt.Errorf("milter: header index %d, want >= 1", index)
	}
	if value != "" {
		value = m.headerValue(value)
	}
	return m.send(ActChangeHeader, RespChgHeader, EncodeIndexed(uint32(index), name, value))
}

// DeleteHeader deletes the index-th (1-based) field named name.
func (m *Modifier) DeleteHeader(index int, name string) error {
	return m.ChangeHeader(index, name, "")
}

func angle(addr string) string {
	if strings.HasPrefix(addr, "<") {
		return addr
	}
	return "<" + addr + ">"
}

// AddRcpt adds a recipient; with ESMTP args (e.g. "NOTIFY=NEVER") it uses
// SMFIR_ADDRCPT_PAR, which needs ActAddRcptPar.
func (m *Modifier) AddRcpt(rcpt string, esmtpArgs string) error {
	if esmtpArgs != "" {
		return m.send(ActAddRcptPar, RespAddRcptPar, EncodeStrings(angle(rcpt), esmtpArgs))
	}
	return m.send(ActAddRcpt, RespAddRcpt, EncodeStrings(angle(rcpt)))
}

// DelRcpt removes a recipient as given at RCPT (SMFIR_DELRCPT).
func (m *Modifier) DelRcpt(rcpt string) error {
	return m.send(ActDelRcpt, RespDelRcpt, EncodeStrings(angle(rcpt)))
}

// ChangeFrom replaces the envelope sender, optionally with ESMTP args
// (SMFIR_CHGFROM).
func (m *Modifier) ChangeFrom(from string, esmtpArgs string) error {
	if esmtpArgs != "" {
		return m.send(ActChangeFrom, RespChgFrom, EncodeStrings(angle(from), esmtpArgs))
	}
	return m.send(ActChangeFrom, RespChgFrom, EncodeStrings(angle(from)))
}

// ReplaceBody replaces the whole body (CRLF lines), sent in chunks of at
// most MaxBodyChunk bytes (SMFIR_REPLBODY).
func (m *Modifier) ReplaceBody(body []byte) error {
	if len(body) == 0 {
		return m.send(ActChangeBody, RespReplBody, nil)
	}
	for len(body) > 0 {
		n := min(len(body), MaxBodyChunk)
		if err := m.send(ActChangeBody, RespReplBody, body[:n]); err != nil {
			return err
		}
		body = body[n:]
	}
	return nil
}

// Quarantine puts the message on hold with reason (SMFIR_QUARANTINE).
func (m *Modifier) Quarantine(reason string) error {
	if strings.IndexByte(reason, 0) >= 0 {
		return errors.New("milter: NUL in quarantine reason")
	}
	m.s.tx.quarantined = true
	return m.send(ActQuarantine, RespQuarantine, EncodeStrings(reason))
}

// Progress tells the MTA to restart its timeout (SMFIR_PROGRESS); call it
// during long work at end of message.
func (m *Modifier) Progress() error {
	if err := m.send(0, RespProgress, nil); err != nil {
		return err
	}
	return m.s.flush()
}
