package sieve

import (
	"strings"
	"time"

	"github.com/gomilter/gomilter/internal/mailmsg"
)

// ActionKind names an action. The names are the ones Pigeonhole prints.
type ActionKind string

// The actions a script can produce.
const (
	ActKeep     ActionKind = "keep"
	ActFileinto ActionKind = "fileinto"
	ActRedirect ActionKind = "redirect"
	ActReject   ActionKind = "reject"
	ActEreject  ActionKind = "ereject"
	ActDiscard  ActionKind = "discard"
	ActVacation ActionKind = "vacation"
	ActNotify   ActionKind = "notify"
)

// Action is one thing the delivery agent must do. Only the fields of the
// kind are set.
type Action struct {
	Kind   ActionKind
	Pos    Pos
	Script string

	Mailbox    string   // fileinto
	Create     bool     // fileinto :create
	SpecialUse string   // fileinto :specialuse
	Flags      []string // keep/fileinto: IMAP flags to set
	Copy       bool     // fileinto/redirect :copy
	Address    string   // redirect
	Reason     string   // reject/ereject
	Silent     bool     // reject/ereject: send no response (one was sent already)
	Implicit   bool     // keep: the implicit keep

	Vacation *Vacation
	Notify   *Notify

	// Message is the message as edited (editheader) when the action was
	// taken; the store or redirect must use these bytes.
	Message *mailmsg.Message
}

// Vacation is an auto-reply to send (RFC 5230).
type Vacation struct {
	To        string // the sender being answered
	From      string // :from, or "" for the recipient
	Subject   string // final subject (default "Auto: <original subject>")
	Reason    string
	MIME      bool
	Period    time.Duration // :days/:seconds after limits
	Handle    string        // identifies the reply for the period tracking
	Addresses []string
	InReplyTo string // Message-ID of the original
}

// Notify is an enotify notification (RFC 5435).
type Notify struct {
	Method     string
	From       string
	Importance string
	Options    []string
	Message    string
}

// DuplicateMark asks the caller to record id for period after delivery.
type DuplicateMark struct {
	ID     string
	Period time.Duration
}

// Result is the outcome of a run.
type Result struct {
	Actions      []*Action
	ImplicitKeep bool
	Message      *mailmsg.Message
	Errors       []*Error
	Duplicates   []DuplicateMark
	// Aborted is set when a runtime error stopped the script; Actions then
	// hold only the implicit keep of the unmodified message.
	Aborted bool

	keepCancelled bool
	redirects     int
	executed      int // Actions[:executed] were carried out already
}

// MarkExecuted records that the actions so far were carried out. When
// more scripts then add to the same result (Pigeonhole's multiscript
// execution), conflicts with executed actions resolve gracefully: a
// reject after a delivery is still allowed, a reject after a response
// was sent rejects silently, and a second reject is dropped.
func (res *Result) MarkExecuted() { res.executed = len(res.Actions) }

func (res *Result) isExecuted(a *Action) bool {
	for _, x := range res.Actions[:res.executed] {
		if x == a {
			return true
		}
	}
	return false
}

// KeepCancelled reports whether the implicit keep has been cancelled.
func (res *Result) KeepCancelled() bool { return res.keepCancelled }

func isInbox(m string) bool { return strings.EqualFold(m, "INBOX") }

// storeTarget is the mailbox a keep or fileinto stores to.
func (a *Action) storeTarget() (string, bool) {
	switch a.Kind {
	case ActKeep:
		return "INBOX", true
	case ActFileinto:
		if isInbox(a.Mailbox) {
			return "INBOX", true
		}
		return a.Mailbox, true
	}
	return "", false
}

func (a *Action) triesDeliver() bool {
	return a.Kind == ActKeep || a.Kind == ActFileinto || a.Kind == ActRedirect
}

func (a *Action) sendsResponse() bool {
	return a.Kind == ActReject || a.Kind == ActEreject || a.Kind == ActVacation
}

// AddAction adds an action with Pigeonhole's duplicate merging, conflict
// checks and limits. cancelsKeep says whether the implicit keep goes away.
func (r *Runtime) AddAction(n *Node, a *Action, cancelsKeep bool) error {
	res := r.res
	a.Pos, a.Script = n.Pos, r.script.name
	a.Message = r.msg.snapshot()
	if err := r.checkConflicts(n, a); err != nil {
		return err
	}
	if dup := r.findDuplicate(a); dup != nil {
		if (dup.Kind == ActReject || dup.Kind == ActEreject) && !res.isExecuted(dup) {
			return r.errorf(n.Pos, "duplicate reject/ereject action not allowed (previously triggered one was here: %s)", dup.Pos)
		}
		mergeFlags(dup, a)
		if a.Kind == ActKeep && dup.Kind == ActFileinto {
			// A keep takes over a fileinto "INBOX" (Pigeonhole).
			dup.Kind, dup.Mailbox, dup.Create, dup.SpecialUse = ActKeep, "", false, ""
			dup.Pos, dup.Script = a.Pos, a.Script
		}
		if cancelsKeep {
			res.keepCancelled = true
		}
		return nil
	}
	if len(res.Actions)+1 > r.opts.MaxActions {
		return r.errorf(n.Pos, "total number of actions exceeds policy limit (%d > %d)", len(res.Actions)+1, r.opts.MaxActions)
	}
	if a.Kind == ActRedirect {
		if res.redirects+1 > r.opts.MaxRedirects {
			return r.errorf(n.Pos, "number of redirect actions exceeds policy limit (%d > %d)", res.redirects+1, r.opts.MaxRedirects)
		}
		res.redirects++
	}
	res.Actions = append(res.Actions, a)
	if cancelsKeep {
		res.keepCancelled = true
	}
	return nil
}

func (r *Runtime) checkConflicts(n *Node, a *Action) error {
	for _, o := range r.res.Actions {
		if o.Implicit {
			continue
		}
		for _, pair := range [2][2]*Action{{a, o}, {o, a}} {
			x, y := pair[0], pair[1]
			if !isReject(x.Kind) || (x != a && r.res.isExecuted(x)) {
				continue
			}
			if y.Kind == ActReject || y.Kind == ActEreject {
				continue // duplicates: findDuplicate
			}
			done := r.res.isExecuted(y)
			if y.triesDeliver() && !done {
				return r.errorf(n.Pos, "%s action conflicts with other action: the %s action (%s) tries to deliver the message", x.Kind, y.Kind, y.Pos)
			}
			if y.sendsResponse() {
				if !done {
					return r.errorf(n.Pos, "%s action conflicts with other action: the %s action (%s) also sends a response to the sender", x.Kind, y.Kind, y.Pos)
				}
				x.Silent = true // the response went out already
			}
		}
		if a.Kind == ActVacation && o.Kind == ActVacation {
			return r.errorf(n.Pos, "duplicate vacation action not allowed (previously triggered one was here: %s)", o.Pos)
		}
	}
	return nil
}

func (r *Runtime) findDuplicate(a *Action) *Action {
	for _, o := range r.res.Actions {
		if o.Implicit {
			continue
		}
		if t1, ok := a.storeTarget(); ok {
			if t2, ok2 := o.storeTarget(); ok2 && t1 == t2 {
				return o
			}
			continue
		}
		if a.Kind != o.Kind && !(isReject(a.Kind) && isReject(o.Kind)) {
			continue
		}
		switch a.Kind {
		case ActReject, ActEreject:
			return o
		case ActRedirect:
			if strings.EqualFold(a.Address, o.Address) {
				return o
			}
		case ActDiscard:
			return o
		case ActNotify:
			if a.Notify.Method == o.Notify.Method {
				return o
			}
		}
	}
	return nil
}

// mergeFlags folds a duplicate store into the earlier one: the last flag
// list wins (RFC 5232 section 5).
func mergeFlags(dst, src *Action) {
	if dst.Kind == ActKeep || dst.Kind == ActFileinto {
		dst.Flags = src.Flags
		dst.Copy = dst.Copy && src.Copy
	}
}

func isReject(k ActionKind) bool { return k == ActReject || k == ActEreject }

func containsFold(list []string, s string) bool {
	for _, x := range list {
		if strings.EqualFold(x, s) {
			return true
		}
	}
	return false
}
