package sieve

import (
	"context"
	"errors"
)

// RunSequence runs scripts one after another on one message, as Dovecot
// runs sieve_before, the user's script and sieve_after: the next script
// runs only while a keep (implicit or explicit) is still in effect; the
// imap4flags internal flags and editheader changes carry over; the
// implicit keep happens once, at the end. A runtime error stops the
// sequence: actions of earlier scripts stand, the failing script's are
// dropped and the implicit keep stores the message as received. The
// actions of earlier scripts count as executed (Result.MarkExecuted): a
// later reject does not conflict with their deliveries, and after one of
// them sent a response it is Silent.
func RunSequence(ctx context.Context, scripts []*Script, in *Input) (*Result, error) {
	if len(scripts) == 0 {
		return nil, errors.New("sieve: no scripts to run")
	}
	res := &Result{}
	msg := in.Message
	var flags []string
	var last *Runtime
	for _, s := range scripts {
		step := *in
		step.Message = msg
		r := s.NewRuntime(ctx, &step)
		r.SetResult(res)
		r.SetFlags(flags)
		before := len(res.Actions)
		if err := r.Exec(); err != nil {
			res.Actions = res.Actions[:before]
			return r.finishSequenceError(err, in)
		}
		msg, flags, last = r.Message(), r.Flags(), r
		if !res.keepInEffect() {
			break
		}
		// Dovecot executes each script's result before the next script
		// runs; conflicts with those actions then resolve gracefully.
		res.MarkExecuted()
	}
	return last.Finish(nil)
}

// keepInEffect reports whether the message would still be kept.
func (res *Result) keepInEffect() bool {
	if !res.keepCancelled {
		return true
	}
	for _, a := range res.Actions {
		if a.Kind == ActKeep {
			return true
		}
	}
	return false
}

func (r *Runtime) finishSequenceError(err error, in *Input) (*Result, error) {
	res := r.res
	var e *Error
	if !errors.As(err, &e) {
		e = &Error{Script: r.script.name, Msg: err.Error()}
	}
	res.Errors = append(res.Errors, e)
	res.Aborted, res.ImplicitKeep, res.Message = true, true, in.Message
	res.Actions = append(res.Actions, &Action{Kind: ActKeep, Implicit: true, Message: in.Message})
	return res, e
}
