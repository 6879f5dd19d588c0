// Package sievetest implements Pigeonhole's vnd.dovecot.testsuite Sieve
// extension so the upstream .svtest files can run against package sieve.
// It is test-only: the commands it adds (test, test_fail, test_set,
// test_script_compile, test_result_execute...) are described in
// Pigeonhole's tests/ directory and in our testsuites README.
package sievetest

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/gomilter/gomilter/internal/mailmsg"
	"github.com/gomilter/gomilter/sieve"
)

// Outcome is the result of one test block.
type Outcome struct {
	Name   string
	Passed bool
	Reason string
}

// FileResult is the result of one .svtest file. Err is set when the file
// failed to compile or aborted with a runtime error.
type FileResult struct {
	Path  string
	Tests []Outcome
	Err   error
}

// sent is a message produced by test_result_execute for SMTP.
type sent struct {
	from, to string
	msg      *mailmsg.Message
}

// stored is a message in the in-memory mail store with its IMAP flags.
type stored struct {
	msg   *mailmsg.Message
	flags []string
}

// suite is the state of one .svtest run.
type suite struct {
	dir       string
	settings  map[string]string
	main      *sieve.Runtime
	script    *sieve.Script
	errs      []*sieve.Error
	execIdx   int // actions before this index were executed already
	mailboxes map[string]bool
	folders   map[string][]stored
	smtp      []sent
	dups      map[string]bool
	out       *FileResult
	envDirty  bool
	// msgFlags are the IMAP flags of the current message (one loaded
	// from a folder); flagsFromMsg is set after test_result_reset, when
	// the internal flags still follow the current message.
	msgFlags     []string
	flagsFromMsg bool
}

type failErr struct{ msg string }

func (f *failErr) Error() string { return "test failed: " + f.msg }

// DefaultMessage is the message tests see before any test_set "message".
const DefaultMessage = "From: sender@example.com\r\nTo: recipient@example.org\r\nSubject: Frop!\r\n\r\nFriep!\r\n"

// allExtensions enables every capability, as Pigeonhole's testsuite does.
var allExtensions = []string{"fileinto", "reject", "ereject", "envelope", "encoded-character",
	"copy", "body", "variables", "vacation", "vacation-seconds", "relational",
	"comparator-i;ascii-numeric", "subaddress", "imap4flags", "date", "index", "editheader",
	"mailbox", "include", "duplicate", "spamtest", "spamtestplus", "virustest", "environment",
	"regex", "mime", "foreverypart", "extracttext", "enotify", "ihave", "vnd.dovecot.duplicate"}

// RunFile runs one .svtest file.
func RunFile(ctx context.Context, path string) FileResult {
	res := FileResult{Path: path}
	src, err := os.ReadFile(path)
	if err != nil {
		res.Err = err
		return res
	}
	s := &suite{dir: filepath.Dir(path), settings: map[string]string{}, mailboxes: map[string]bool{"INBOX": true},
		folders: map[string][]stored{}, dups: map[string]bool{}, out: &res}
	opts := s.options()
	opts.Name = filepath.Base(path)
	opts.Extra = []*sieve.Extension{s.extension(), debugExtension()}
	script, err := sieve.Compile(src, opts)
	if err != nil {
		res.Err = err
		return res
	}
	in := &sieve.Input{Message: sieve.ParseMessage([]byte(DefaultMessage)),
		Envelope: sieve.Envelope{From: "sender@example.com", To: "recipient@example.org"},
		Now:      time.Now(), Mailboxes: s, Duplicates: s, Environment: map[string]string{"location": "MS"}}
	s.main = script.NewRuntime(ctx, in)
	if err := s.main.Exec(); err != nil {
		res.Err = err
	}
	return res
}

// options builds compile options from the current settings.
func (s *suite) options() sieve.Options {
	o := sieve.Options{Extensions: append([]string(nil), allExtensions...), Include: suiteResolver{s}}
	for k, v := range s.settings {
		_ = o.Set(k, v)
	}
	return o
}

// suiteResolver finds included scripts where the settings "sieve"
// (:personal) and "sieve_global" point, as test_config_set may change
// them: a "file:" directory or a "dict:file:" dictionary. By default
// :personal scripts are in included/ and :global ones in
// included-global/ next to the test file (the upstream layout).
type suiteResolver struct{ s *suite }

func (d suiteResolver) Include(name string, global bool) ([]byte, string, error) {
	loc, sub := d.s.settings["sieve"], "included"
	if global {
		loc, sub = d.s.settings["sieve_global"], "included-global"
	}
	loc, _, _ = strings.Cut(loc, ";") // drop location options
	var p string
	switch {
	case strings.HasPrefix(loc, "dict:file:"):
		return dictScript(strings.TrimPrefix(loc, "dict:file:"), name)
	case strings.HasPrefix(loc, "file:"):
		p = filepath.Join(strings.TrimPrefix(loc, "file:"), name+".sieve")
	default:
		p = filepath.Join(d.s.dir, sub, name+".sieve")
	}
	b, err := os.ReadFile(p)
	if errors.Is(err, os.ErrNotExist) {
		return nil, "", sieve.ErrNotFound
	}
	return b, p, err
}

// dictScript reads a script from a Dovecot file dictionary: lines of key
// and value alternate; priv/sieve/name/<name> gives the id of the script
// stored under priv/sieve/data/<id>.
func dictScript(path, name string) ([]byte, string, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, "", err
	}
	dict := map[string]string{}
	lines := strings.Split(strings.ReplaceAll(string(b), "\r\n", "\n"), "\n")
	for i := 0; i+1 < len(lines); i += 2 {
		dict[lines[i]] = lines[i+1]
	}
	id, ok := dict["priv/sieve/name/"+name]
	if !ok {
		return nil, "", sieve.ErrNotFound
	}
	src, ok := dict["priv/sieve/data/"+id]
	if !ok {
		return nil, "", sieve.ErrNotFound
	}
	return []byte(src), "dict:" + path + ":" + id, nil
}

func (s *suite) MailboxExists(_ context.Context, name string) (bool, error) {
	return s.mailboxes[name], nil
}

func (s *suite) Seen(_ context.Context, id string) (bool, error) { return s.dups[id], nil }

// compile compiles a script file relative to the test directory.
func (s *suite) compile(rel string) bool {
	p := filepath.Join(s.dir, rel)
	src, err := os.ReadFile(p)
	s.errs, s.script = nil, nil
	if err != nil {
		s.errs = []*sieve.Error{{Msg: err.Error()}}
		return false
	}
	o := s.options()
	// Sub-test scripts may use the testsuite extension too.
	o.Extra = []*sieve.Extension{s.extension(), debugExtension()}
	o.Name = strings.TrimSuffix(filepath.Base(rel), ".sieve")
	sc, err := sieve.Compile(src, o)
	if err != nil {
		var ce *sieve.CompileError
		if errors.As(err, &ce) {
			s.errs = ce.Errors
		} else {
			s.errs = []*sieve.Error{{Msg: err.Error()}}
		}
		return false
	}
	s.script = sc
	return true
}

// run runs the compiled script on the current message and envelope.
func (s *suite) run(appendResult bool) bool {
	if s.script == nil {
		return false
	}
	in := *s.main.Input()
	in.Message = s.main.Message()
	rt := s.script.NewRuntime(s.main.Context(), &in)
	if appendResult {
		rt.SetResult(s.main.Result())
		rt.SetFlags(s.main.Flags())
	} else {
		s.execIdx = 0
	}
	err := rt.Exec()
	s.errs = nil
	if err != nil {
		res, _ := rt.Finish(err)
		s.errs = res.Errors
		s.main.SetResult(res)
		return false
	}
	s.errs = rt.Result().Errors
	s.main.SetResult(rt.Result())
	s.main.SetFlags(rt.Flags())
	s.main.SetMessage(rt.Message())
	return true
}

func explicit(acts []*sieve.Action) []*sieve.Action {
	var out []*sieve.Action
	for _, a := range acts {
		if !a.Implicit {
			out = append(out, a)
		}
	}
	return out
}

// actionName is the name Pigeonhole gives an action in results.
func actionName(a *sieve.Action) string {
	switch a.Kind {
	case sieve.ActFileinto:
		return "store"
	case sieve.ActEreject:
		return "reject"
	}
	return string(a.Kind)
}

func (s *suite) fail(msg string) error { return &failErr{msg: msg} }

func fmtErrs(errs []*sieve.Error) string {
	var b strings.Builder
	for _, e := range errs {
		fmt.Fprintf(&b, "%s; ", e)
	}
	return b.String()
}

// debugExtension is Pigeonhole's vnd.dovecot.debug: debug_log only
// writes to the log, which the suite does not check.
func debugExtension() *sieve.Extension {
	return &sieve.Extension{Name: "vnd.dovecot.debug", Specs: []*sieve.Spec{{Name: "debug_log",
		Ext: "vnd.dovecot.debug", Args: []sieve.ValType{sieve.TString},
		Run: func(r *sieve.Runtime, n *sieve.Node) error { return nil }}}}
}
