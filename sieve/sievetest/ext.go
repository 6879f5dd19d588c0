package sievetest

import (
	"errors"
	"strconv"

	"github.com/gomilter/gomilter/internal/mailmsg"
	"github.com/gomilter/gomilter/sieve"
)

const extName = "vnd.dovecot.testsuite"

func (s *suite) extension() *sieve.Extension {
	cmd := func(name string, args []sieve.ValType, run func(r *sieve.Runtime, n *sieve.Node) error) *sieve.Spec {
		return &sieve.Spec{Name: name, Ext: extName, Args: args, Run: run}
	}
	str := sieve.TString
	specs := []*sieve.Spec{
		{Name: "test", Ext: extName, Args: []sieve.ValType{str}, Block: 1, Run: s.runTest},
		cmd("test_fail", []sieve.ValType{str}, func(r *sieve.Runtime, n *sieve.Node) error {
			return s.fail(r.String(n.Args[0]))
		}),
		cmd("test_set", []sieve.ValType{str, str}, s.runSet),
		cmd("test_result_reset", nil, func(r *sieve.Runtime, n *sieve.Node) error {
			r.ResetResult()
			// Pigeonhole keeps the imap4flags internal variable in the
			// result and starts it from the flags of the message current
			// when it is first used.
			r.SetFlags(s.msgFlags)
			s.flagsFromMsg = true
			s.execIdx, s.smtp = 0, nil
			return nil
		}),
		cmd("test_result_print", nil, func(r *sieve.Runtime, n *sieve.Node) error { return nil }),
		cmd("test_config_set", []sieve.ValType{str, str}, func(r *sieve.Runtime, n *sieve.Node) error {
			k, v := r.String(n.Args[0]), r.String(n.Args[1])
			s.settings[k] = v
			_ = r.Options().Set(k, v)
			return nil
		}),
		cmd("test_config_unset", []sieve.ValType{str}, func(r *sieve.Runtime, n *sieve.Node) error {
			k := r.String(n.Args[0])
			delete(s.settings, k)
			_ = r.Options().Set(k, "")
			return nil
		}),
		{Name: "test_config_reload", Ext: extName, Tags: []sieve.TagDef{{Name: "extension", Param: str}},
			Run: func(r *sieve.Runtime, n *sieve.Node) error { return nil }},
	}
	specs = append(specs, s.moreSpecs()...)
	return &sieve.Extension{Name: extName, Specs: specs, Namespaces: []string{"tst"},
		Lookup: func(ns, name string) string {
			if name == "path" {
				return s.dir // the directory of the test file, as in Pigeonhole
			}
			return ""
		}}
}

// moreSpecs are the mailbox, binary, message and result commands and tests.
func (s *suite) moreSpecs() []*sieve.Spec {
	cmd := func(name string, args []sieve.ValType, run func(r *sieve.Runtime, n *sieve.Node) error) *sieve.Spec {
		return &sieve.Spec{Name: name, Ext: extName, Args: args, Run: run}
	}
	test := func(name string, args []sieve.ValType, eval func(r *sieve.Runtime, n *sieve.Node) (bool, error)) *sieve.Spec {
		return &sieve.Spec{Name: name, Ext: extName, IsTest: true, Args: args, Eval: eval}
	}
	str, strs, num := sieve.TString, sieve.TStringList, sieve.TNumber
	return []*sieve.Spec{
		cmd("test_mailbox_create", []sieve.ValType{str}, func(r *sieve.Runtime, n *sieve.Node) error {
			s.mailboxes[r.String(n.Args[0])] = true
			return nil
		}),
		cmd("test_binary_save", []sieve.ValType{str}, func(r *sieve.Runtime, n *sieve.Node) error { return nil }),
		cmd("test_binary_load", []sieve.ValType{str}, func(r *sieve.Runtime, n *sieve.Node) error { return nil }),
		{Name: "test_imap_metadata_set", Ext: extName, Tags: []sieve.TagDef{{Name: "mailbox", Param: str}},
			Args: []sieve.ValType{str, str}, Run: func(r *sieve.Runtime, n *sieve.Node) error { return nil }},
		{Name: "test_message", Ext: extName, Tags: []sieve.TagDef{{Name: "smtp", Group: "src"},
			{Name: "folder", Param: str, Group: "src"}}, Args: []sieve.ValType{num}, Run: s.runMessage},
		{Name: "test_message", Ext: extName, IsTest: true, Tags: []sieve.TagDef{{Name: "smtp", Group: "src"},
			{Name: "folder", Param: str, Group: "src"}}, Args: []sieve.ValType{num},
			Eval: func(r *sieve.Runtime, n *sieve.Node) (bool, error) {
				err := s.runMessage(r, n)
				return err == nil, nil
			}},
		test("test_script_compile", []sieve.ValType{str}, func(r *sieve.Runtime, n *sieve.Node) (bool, error) {
			return s.compile(r.String(n.Args[0])), nil
		}),
		{Name: "test_script_run", Ext: extName, IsTest: true, Tags: []sieve.TagDef{{Name: "append_result"}},
			Eval: func(r *sieve.Runtime, n *sieve.Node) (bool, error) { return s.run(n.Tag("append_result")), nil }},
		test("test_multiscript", []sieve.ValType{strs}, s.evalMultiscript),
		{Name: "test_error", Ext: extName, IsTest: true, Tags: append(sieve.MatchTags(),
			sieve.TagDef{Name: "index", Param: num}), Args: []sieve.ValType{strs},
			Check: func(c *sieve.Compiler, n *sieve.Node) { c.CompileMatch(n, 0) }, Eval: s.evalError},
		{Name: "test_result_action", Ext: extName, IsTest: true, Tags: append(sieve.MatchTags(),
			sieve.TagDef{Name: "index", Param: num}), Args: []sieve.ValType{strs},
			Check: func(c *sieve.Compiler, n *sieve.Node) { c.CompileMatch(n, 0) }, Eval: s.evalResultAction},
		test("test_result_execute", nil, func(r *sieve.Runtime, n *sieve.Node) (bool, error) {
			return s.execute(r), nil
		}),
	}
}

func (s *suite) runTest(r *sieve.Runtime, n *sieve.Node) error {
	name := r.String(n.Args[0])
	err := r.ExecBlock(n.Block)
	var fe *failErr
	switch {
	case errors.As(err, &fe):
		s.out.Tests = append(s.out.Tests, Outcome{Name: name, Reason: fe.msg})
		return nil
	case err != nil && err.Error() == "stop":
		s.out.Tests = append(s.out.Tests, Outcome{Name: name, Passed: true})
		return err
	case err != nil:
		s.out.Tests = append(s.out.Tests, Outcome{Name: name, Reason: "runtime error: " + err.Error()})
		return err
	}
	s.out.Tests = append(s.out.Tests, Outcome{Name: name, Passed: true})
	return nil
}

func (s *suite) runSet(r *sieve.Runtime, n *sieve.Node) error {
	item, val := r.String(n.Args[0]), r.String(n.Args[1])
	env := &r.Input().Envelope
	switch item {
	case "message":
		setMessage(r, sieve.ParseMessage([]byte(val)))
		s.msgFlags = nil
		if s.flagsFromMsg {
			r.SetFlags(nil)
		}
	case "envelope.from":
		// Like Pigeonhole's testsuite, an invalid path leaves no address.
		env.From, _ = sieve.ParsePath(val, true)
	case "envelope.to":
		env.To, _ = sieve.ParsePath(val, false)
		env.OrigTo = env.To
	case "envelope.orig_to":
		env.OrigTo, _ = sieve.ParsePath(val, false)
	case "envelope.auth":
		env.Auth = val
	default:
		return r.Errorf(n.Pos, "test_set: unknown item %q", item)
	}
	return nil
}

func (s *suite) runMessage(r *sieve.Runtime, n *sieve.Node) error {
	idx := int(n.Args[0].Num)
	if n.Tag("smtp") {
		if idx >= len(s.smtp) {
			return s.fail("no outgoing SMTP message with index " + strconv.Itoa(idx))
		}
		m := s.smtp[idx]
		setMessage(r, m.msg)
		r.Input().Envelope.From, r.Input().Envelope.To = m.from, m.to
		return nil
	}
	box := r.String(n.TagValue("folder"))
	msgs := s.folders[box]
	if idx >= len(msgs) {
		return s.fail("no message with index " + strconv.Itoa(idx) + " in folder " + box)
	}
	setMessage(r, msgs[idx].msg)
	s.msgFlags = msgs[idx].flags
	r.SetFlags(msgs[idx].flags)
	return nil
}

// setMessage replaces the message and derives the envelope from it the way
// Pigeonhole's testsuite does: recipient from Envelope-To or To, sender
// from Return-Path, Sender or From.
func setMessage(r *sieve.Runtime, m *mailmsg.Message) {
	r.SetMessage(m)
	r.Input().Message = m
	first := func(names ...string) string {
		for _, n := range names {
			if v, ok := m.Get(n); ok {
				if a := sieve.FirstAddress(v); a != "" {
					return a
				}
			}
		}
		return ""
	}
	env := &r.Input().Envelope
	env.To = first("Envelope-To", "To")
	if env.To == "" {
		env.To = "recipient@example.com"
	}
	env.From = first("Return-Path", "Sender", "From")
	if env.From == "" {
		env.From = "sender@example.com"
	}
	env.OrigTo, env.Auth = env.To, ""
}

func (s *suite) evalMultiscript(r *sieve.Runtime, n *sieve.Node) (bool, error) {
	r.ResetResult()
	s.execIdx = 0
	ok := true
	for _, p := range r.Strings(n.Args[0]) {
		if r.Result().KeepCancelled() {
			break
		}
		if !s.compile(p) || !s.run(true) {
			ok = false
			break
		}
	}
	return ok && s.execute(r), nil
}

func (s *suite) evalError(r *sieve.Runtime, n *sieve.Node) (bool, error) {
	var msgs []string
	for _, e := range s.errs {
		msgs = append(msgs, e.Msg)
	}
	if v := n.TagValue("index"); v != nil {
		i := int(v.Num) - 1
		if i < 0 || i >= len(msgs) {
			return false, nil
		}
		msgs = msgs[i : i+1]
	}
	return r.MatchValues(n, msgs, n.Args[0])
}

func (s *suite) evalResultAction(r *sieve.Runtime, n *sieve.Node) (bool, error) {
	var names []string
	for _, a := range explicit(r.Result().Actions) {
		names = append(names, actionName(a))
	}
	if v := n.TagValue("index"); v != nil {
		i := int(v.Num) - 1
		if i < 0 || i >= len(names) {
			return false, nil
		}
		names = names[i : i+1]
	}
	return r.MatchValues(n, names, n.Args[0])
}

func cloneMsg(m *mailmsg.Message) *mailmsg.Message {
	return &mailmsg.Message{Header: append([]mailmsg.Field(nil), m.Header...), Body: m.Body}
}
