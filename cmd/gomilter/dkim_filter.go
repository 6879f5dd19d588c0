package main

import (
	"context"
	"errors"

	"github.com/gomilter/gomilter/internal/authres"
	"github.com/gomilter/gomilter/internal/mailmsg"
	"github.com/gomilter/gomilter/milter"
	"github.com/gomilter/gomilter/milter/dkim"
)

// maxDKIMMessage bounds the message a DKIM-only milter keeps in memory.
const maxDKIMMessage = 64 << 20

// dkimFilter is a DKIM-only milter (OpenDKIM's job, nothing else): it
// collects the message and, at end of message, signs or verifies.
type dkimFilter struct {
	milter.NoOpMilter
	signer   *dkim.Signer
	verifier *dkim.Verifier
	opts     *dkim.Options
	authID   string
	env      mailmsg.Envelope
	msg      mailmsg.Message
	size     int
}

var errTooBig = errors.New("dkim milter: message too large")

func (f *dkimFilter) Connect(_ context.Context, c milter.ConnectInfo, m *milter.Macros) (milter.Response, error) {
	f.env = mailmsg.Envelope{ClientAddr: c.Addr, ClientName: c.Host, DaemonName: m.Get("{daemon_name}")}
	if f.opts.IsPeer(&f.env) {
		return milter.Accept, nil
	}
	return milter.Continue, nil
}

func (f *dkimFilter) MailFrom(_ context.Context, from string, _ []string, m *milter.Macros) (milter.Response, error) {
	f.msg, f.size = mailmsg.Message{}, 0
	f.env.MailFrom, f.env.Rcpts, f.env.AuthUser = from, nil, m.Get("{auth_authen}")
	return milter.Continue, nil
}

func (f *dkimFilter) RcptTo(_ context.Context, rcpt string, _ []string, _ *milter.Macros) (milter.Response, error) {
	f.env.Rcpts = append(f.env.Rcpts, rcpt)
	return milter.Continue, nil
}

func (f *dkimFilter) Header(_ context.Context, name, value string, _ *milter.Macros) (milter.Response, error) {
	if f.size += len(name) + len(value); f.size > maxDKIMMessage {
		return milter.TempFail, errTooBig
	}
	f.msg.Header = append(f.msg.Header, milter.HeaderField(name, value))
	return milter.Continue, nil
}

func (f *dkimFilter) BodyChunk(_ context.Context, chunk []byte, _ *milter.Macros) (milter.Response, error) {
	if f.size += len(chunk); f.size > maxDKIMMessage {
		return milter.TempFail, errTooBig
	}
	f.msg.Body = append(f.msg.Body, chunk...)
	return milter.Continue, nil
}

func (f *dkimFilter) EndOfMessage(ctx context.Context, mod *milter.Modifier, _ *milter.Macros) (milter.Response, error) {
	if reqs := f.signer.ShouldSign(&f.env, &f.msg); reqs != nil {
		fields, _ := f.signer.Sign(ctx, &f.msg, reqs) // failures are logged and counted
		for i := len(fields) - 1; i >= 0; i-- {
			if err := mod.InsertHeader(0, fields[i].Name, fields[i].Value); err != nil {
				return milter.TempFail, err
			}
		}
		return milter.Continue, nil
	}
	if f.opts.Mode&dkim.ModeVerify == 0 {
		return milter.Continue, nil
	}
	// Delete forged A-R fields claiming our authserv-id (1-based index
	// among A-R fields), then add ours on top.
	n := 0
	forged := map[int]bool{}
	for _, i := range dkim.FindAR(f.msg.Header, f.authID) {
		forged[i] = true
	}
	for i, h := range f.msg.Header {
		if h.Name == authres.HeaderName || forged[i] {
			n++
			if forged[i] {
				mod.ChangeHeader(n, h.Name, "")
			}
		}
	}
	results := f.verifier.Verify(ctx, &f.msg)
	if results != nil || f.opts.AlwaysAddARHeader {
		var rs []authres.Result
		for _, r := range results {
			rs = append(rs, authres.DKIM(authres.DKIMSig{Result: string(r.Status), Reason: r.Reason, Domain: r.Domain,
				Identity: r.Identity, Selector: r.Selector, Algorithm: r.Algorithm, B: r.B}))
		}
		if rs == nil {
			rs = []authres.Result{authres.DKIM(authres.DKIMSig{Result: "none"})}
		}
		ar := authres.Field(f.authID, rs)
		if err := mod.InsertHeader(0, ar.Name, ar.Value); err != nil {
			return milter.TempFail, err
		}
	}
	return actionResponse(f.opts.Action(results)), nil
}

func actionResponse(a dkim.Action) milter.Response {
	switch a {
	case dkim.ActionReject:
		return milter.Reject
	case dkim.ActionTempfail:
		return milter.TempFail
	case dkim.ActionDiscard:
		return milter.Discard
	case dkim.ActionQuarantine:
		return milter.Quarantine("DKIM verification")
	}
	return milter.Continue
}
