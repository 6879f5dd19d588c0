package policy

import (
	"context"
	"errors"
)

// Handler decides one policy request. ctx is cancelled when the server
// shuts down hard or the handler timeout expires. A returned error makes
// the server log it and reply GenericDefer, or the Action of an *Error in
// the chain.
type Handler interface {
	Check(ctx context.Context, req *Request) (Action, error)
}

// HandlerFunc adapts a function to Handler.
type HandlerFunc func(ctx context.Context, req *Request) (Action, error)

// Check calls f.
func (f HandlerFunc) Check(ctx context.Context, req *Request) (Action, error) { return f(ctx, req) }

var _ Handler = HandlerFunc(nil)

// Chain runs handlers in order, so that SPF, greylisting and rate limits
// can share one policy service. The first final action (anything but
// DUNNO, PREPEND, WARN or INFO) is the answer. Postfix accepts one action
// per reply, so the first PREPEND/WARN/INFO seen is remembered and returned
// only if no later handler decides; DUNNO if nothing was said. An error
// stops the chain.
type Chain []Handler

var _ Handler = Chain(nil)

// Check implements Handler.
func (c Chain) Check(ctx context.Context, req *Request) (Action, error) {
	var pending Action
	for _, h := range c {
		a, err := h.Check(ctx, req)
		if err != nil {
			return "", err
		}
		if a.final() {
			return a, nil
		}
		if pending == "" && a.Verb() != "dunno" {
			pending = a
		}
	}
	if pending == "" {
		return Dunno, nil
	}
	return pending, nil
}

// Error carries the reply a handler wants sent for a failure, together
// with the cause to log. The cause is never sent to Postfix.
type Error struct {
	Action Action
	Err    error
}

func (e *Error) Error() string {
	if e.Err == nil {
		return "policy: " + string(e.Action)
	}
	return e.Err.Error()
}

// Unwrap returns the cause.
func (e *Error) Unwrap() error { return e.Err }

// replyFor maps a handler error to the action sent (STYLE: errors.As, one
// place).
func replyFor(err error) Action {
	var pe *Error
	if errors.As(err, &pe) && pe.Action != "" {
		return pe.Action
	}
	return GenericDefer
}
