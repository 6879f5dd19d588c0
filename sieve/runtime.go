package sieve

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"strings"
	"time"

	"github.com/gomilter/gomilter/internal/mailmsg"
)

// Envelope is the SMTP envelope as one Sieve run sees it: one recipient.
type Envelope struct {
	From   string // reverse-path without brackets; "" for the null sender
	To     string // the recipient this script runs for
	OrigTo string // original recipient (ORCPT), if known
	Auth   string // authenticated sender, if any
}

// DuplicateTracker remembers message IDs for the duplicate test
// (RFC 7352). Seen reports whether id was recorded within its period;
// recording happens after delivery from Result.Duplicates.
type DuplicateTracker interface {
	Seen(ctx context.Context, id string) (bool, error)
}

// MailboxChecker answers mailboxexists (RFC 5490).
type MailboxChecker interface {
	MailboxExists(ctx context.Context, name string) (bool, error)
}

// Input is everything one run reads.
type Input struct {
	Message  *mailmsg.Message
	Envelope Envelope
	// Environment items (RFC 5183): "domain", "host", "location", "name",
	// "phase", "remote-host", "remote-ip", "version"... Missing items
	// fall back to defaults.
	Environment map[string]string
	Now         time.Time // zero means time.Now()
	Duplicates  DuplicateTracker
	Mailboxes   MailboxChecker
}

// Runtime is the state of one run; extensions outside the package see it
// through its methods.
type Runtime struct {
	ctx        context.Context
	root       *Script
	script     *Script
	opts       *Options
	in         *Input
	msg        *msgState
	vars       *varStore
	global     map[string]string
	matchVals  []string
	regexCache map[string]*regexp.Regexp
	steps      int
	res        *Result
	flags      []string
	once       map[string]bool
	active     map[string]bool
	incDepth   int
	nincludes  int
	part       *mimePart // current foreverypart part
	loopDepth  int
	now        time.Time
	started    time.Time

	// Ext holds state of non-standard extensions (the test suite).
	Ext map[string]any
}

var (
	errStop   = errors.New("stop")
	errReturn = errors.New("return")
)

type breakErr struct{ name string }

func (b *breakErr) Error() string { return "break" }

// Run executes the script. A runtime error is returned and also recorded in
// the result, whose actions then hold only the implicit keep (Pigeonhole's
// behaviour).
func (s *Script) Run(ctx context.Context, in *Input) (*Result, error) {
	r := s.NewRuntime(ctx, in)
	err := r.Exec()
	return r.Finish(err)
}

// NewRuntime prepares a run without starting it (used by the test suite).
func (s *Script) NewRuntime(ctx context.Context, in *Input) *Runtime {
	o := s.opts
	r := &Runtime{ctx: ctx, root: s, script: s, opts: &o, in: in,
		global: map[string]string{}, regexCache: map[string]*regexp.Regexp{},
		res: &Result{}, once: map[string]bool{}, active: map[string]bool{s.id: true}, Ext: map[string]any{}}
	r.now, r.started = in.Now, time.Now()
	if r.now.IsZero() {
		r.now = time.Now()
	}
	r.SetMessage(in.Message)
	r.vars = r.newScope(s)
	return r
}

// Exec runs the script's commands. A panic inside an extension becomes a
// runtime error, so a bad script or message never takes delivery down.
func (r *Runtime) Exec() (err error) {
	defer func() {
		if p := recover(); p != nil {
			err = &Error{Script: r.script.name, Msg: fmt.Sprintf("internal error: %v", p)}
		}
	}()
	err = r.ExecBlock(r.script.cmds)
	if errors.Is(err, errStop) || errors.Is(err, errReturn) {
		err = nil
	}
	return err
}

func (r *Runtime) newScope(s *Script) *varStore {
	return &varStore{enabled: s.required["variables"], local: map[string]string{},
		global: r.global, globals: map[string]bool{}}
}

// Finish completes the result: implicit keep, final message, errors.
func (r *Runtime) Finish(err error) (*Result, error) {
	res := r.res
	res.Message = r.msg.snapshot()
	if err != nil {
		var e *Error
		if !errors.As(err, &e) {
			e = &Error{Script: r.script.name, Msg: err.Error()}
		}
		res.Errors = append(res.Errors, e)
		res.Aborted = true
		// The implicit keep after a failure stores the message as received,
		// without editheader changes.
		res.Message = r.in.Message
		res.Actions = []*Action{{Kind: ActKeep, Implicit: true, Flags: nil, Message: r.in.Message}}
		res.ImplicitKeep = true
		return res, e
	}
	if !res.keepCancelled {
		res.ImplicitKeep = true
		res.Actions = append(res.Actions, &Action{Kind: ActKeep, Implicit: true,
			Flags: r.implicitFlags(), Message: res.Message})
	}
	return res, nil
}

// Options returns the live options of the run (the test suite changes
// settings between steps).
func (r *Runtime) Options() *Options { return r.opts }

// Context returns the run's context.
func (r *Runtime) Context() context.Context { return r.ctx }

// Result returns the result collected so far.
func (r *Runtime) Result() *Result { return r.res }

// ResetResult starts a fresh result (test_result_reset).
func (r *Runtime) ResetResult() { r.res = &Result{} }

// SetResult replaces the result collected so far.
func (r *Runtime) SetResult(res *Result) { r.res = res }

// ImplicitKeepFlags returns the flags an implicit keep would set now.
func (r *Runtime) ImplicitKeepFlags() []string { return r.implicitFlags() }

// Input returns the input of the run.
func (r *Runtime) Input() *Input { return r.in }

// SetMessage replaces the message the run sees (test_set "message").
func (r *Runtime) SetMessage(m *mailmsg.Message) {
	if m == nil {
		m = &mailmsg.Message{}
	}
	r.msg = newMsgState(m)
}

// Message returns the message as edited so far.
func (r *Runtime) Message() *mailmsg.Message { return r.msg.snapshot() }

func (r *Runtime) errorf(p Pos, format string, args ...any) error {
	return &Error{Pos: p, Script: r.script.name, Msg: fmt.Sprintf(format, args...)}
}

// Errorf returns a runtime error at p.
func (r *Runtime) Errorf(p Pos, format string, args ...any) error {
	return r.errorf(p, format, args...)
}

// step counts work and enforces the CPU bound and cancellation.
func (r *Runtime) step() error {
	r.steps++
	if r.steps > r.opts.MaxSteps {
		return &Error{Script: r.script.name, Msg: "execution exceeded CPU time limit"}
	}
	if time.Since(r.started) > r.opts.MaxCPUTime {
		return &Error{Script: r.script.name, Msg: "execution exceeded CPU time limit"}
	}
	if r.steps%1024 == 0 {
		if err := r.ctx.Err(); err != nil {
			return &Error{Script: r.script.name, Msg: "execution aborted: " + err.Error()}
		}
	}
	return nil
}

// ExecBlock runs commands, handling if/elsif/else chains.
func (r *Runtime) ExecBlock(cmds []*Node) error {
	done := false // an earlier branch of the current if chain ran
	for _, n := range cmds {
		if err := r.step(); err != nil {
			return err
		}
		switch n.Spec.Name {
		case "if", "elsif", "else":
			if n.Spec.Name == "if" {
				done = false
			}
			if done {
				continue
			}
			ok := true
			if n.Spec.Name != "else" {
				var err error
				if ok, err = r.Eval(n.Tests[0]); err != nil {
					return err
				}
			}
			if ok {
				done = true
				if err := r.ExecBlock(n.Block); err != nil {
					return err
				}
			}
			continue
		}
		if err := n.Spec.Run(r, n); err != nil {
			return err
		}
	}
	return nil
}

// Eval evaluates a test.
func (r *Runtime) Eval(n *Node) (bool, error) {
	if err := r.step(); err != nil {
		return false, err
	}
	return n.Spec.Eval(r, n)
}

// Strings expands variables in a value's strings.
func (r *Runtime) Strings(v *Value) []string {
	if v == nil {
		return nil
	}
	if !r.vars.enabled {
		return v.Strs
	}
	out := make([]string, len(v.Strs))
	for i, s := range v.Strs {
		out[i] = r.expand(s)
	}
	return out
}

// String expands the single string of a value.
func (r *Runtime) String(v *Value) string {
	if v == nil || len(v.Strs) == 0 {
		return ""
	}
	return r.expand(v.Strs[0])
}

// MatchValues matches values against keys with the node's match type.
func (r *Runtime) MatchValues(n *Node, values []string, keys *Value) (bool, error) {
	return r.matchValues(n, values, keys.Strs)
}

// CompileMatch prepares match type/comparator tags for extension tests.
func (c *Compiler) CompileMatch(n *Node, keyArg int) { c.compileMatch(n, keyArg) }

// MatchTags returns the standard match-type and comparator tags.
func MatchTags() []TagDef { return append([]TagDef(nil), matchTags...) }

func lowerAll(ss []string) []string {
	out := make([]string, len(ss))
	for i, s := range ss {
		out[i] = strings.ToLower(s)
	}
	return out
}

// SetFlags replaces the internal imap4flags variable.
func (r *Runtime) SetFlags(f []string) { r.flags = append([]string(nil), f...) }
