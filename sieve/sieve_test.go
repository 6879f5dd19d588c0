package sieve

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

const testMsg = "From: Alice <alice@example.org>\r\nTo: bob+work@example.com\r\nSubject: Re: [proj] status\r\nX-Spam-Level: ******\r\nDate: Sat, 01 Jun 2002 10:00:00 +0200\r\n\r\nhello world\r\n"

func run(t *testing.T, src string, opts Options) (*Result, error) {
	t.Helper()
	s, err := Compile([]byte(src), opts)
	if err != nil {
		return nil, err
	}
	return s.Run(context.Background(), &Input{Message: ParseMessage([]byte(testMsg)),
		Envelope: Envelope{From: "alice@example.org", To: "bob+work@example.com"}})
}

func summary(res *Result) string {
	var parts []string
	for _, a := range res.Actions {
		s := string(a.Kind)
		switch a.Kind {
		case ActFileinto:
			s += ":" + a.Mailbox
		case ActRedirect:
			s += ":" + a.Address
		case ActReject:
			s += ":" + a.Reason
		}
		if len(a.Flags) > 0 {
			s += fmt.Sprint(a.Flags)
		}
		parts = append(parts, s)
	}
	return strings.Join(parts, ",")
}

func TestRunActions(t *testing.T) {
	tests := []struct{ name, src, want string }{
		{"implicit keep", `if false { discard; }`, "keep"},
		{"fileinto", `require "fileinto"; fileinto "A";`, "fileinto:A"},
		{"fileinto copy", `require ["fileinto","copy"]; fileinto :copy "A";`, "fileinto:A,keep"},
		{"merged store", `require "fileinto"; keep; fileinto "INBOX"; fileinto "inbox";`, "keep"},
		{"redirect dedup", `redirect "x@example.net"; redirect "X <x@example.net>";`, "redirect:x@example.net"},
		{"subaddress", `require ["subaddress","fileinto"]; if address :detail "to" "work" { fileinto "W"; }`, "fileinto:W"},
		{"matches vars", `require ["variables","fileinto"]; if header :matches "Subject" "*[*]*" { fileinto "${2}"; }`, "fileinto:proj"},
		{"regex vars", `require ["regex","variables","fileinto"]; if header :regex "subject" "\\[([a-z]+)\\]" { fileinto "r-${1}"; }`, "fileinto:r-proj"},
		{"relational", `require ["relational","comparator-i;ascii-numeric","fileinto"]; if header :count "eq" :comparator "i;ascii-numeric" "to" "1" { fileinto "one"; }`, "fileinto:one"},
		{"flags", `require ["imap4flags"]; addflag ["\\Seen", "$X"]; removeflag "$X";`, "keep[\\Seen]"},
		{"date", `require ["date","fileinto"]; if date :is :originalzone "date" "year" "2002" { fileinto "y"; }`, "fileinto:y"},
		{"stop", `require "fileinto"; fileinto "a"; stop; fileinto "b";`, "fileinto:a"},
		{"elsif chain", `require "fileinto"; if false {} elsif true { fileinto "b"; } else { fileinto "c"; }`, "fileinto:b"},
		{"reject", `require "reject"; reject "no";`, "reject:no"},
		{"body", `require ["body","fileinto"]; if body :contains "world" { fileinto "w"; }`, "fileinto:w"},
		{"encoded-character", `require ["encoded-character","fileinto"]; fileinto "${hex:41 42}${unicode:43}";`, "fileinto:ABC"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			res, err := run(t, tc.src, Options{})
			if err != nil {
				t.Fatalf("run(%q) error: %v", tc.src, err)
			}
			if got := summary(res); got != tc.want {
				t.Errorf("run(%q) = %s, want %s", tc.src, got, tc.want)
			}
		})
	}
}

func TestCompileErrors(t *testing.T) {
	tests := []struct {
		src, want string
		line, col int
	}{
		{"keep", "expected end of command ';'", 1, 5},
		{"\n  frobnicate;", "unknown command 'frobnicate'", 2, 3},
		{`fileinto "x";`, "unknown command 'fileinto'", 1, 1},
		{`require "nosuch";`, "unknown Sieve capability", 1, 9},
		{"if true {\n keep;\n", "expected end of compound block '}'", 3, 1},
		{`if header :bogus "a" "b" {}`, "unknown tagged argument ':bogus'", 1, 11},
		{`if size 10 {}`, "requires either the :under or the :over", 1, 4},
		{`if header "a" {}`, "requires 2 positional argument(s)", 1, 4},
		{"\"unterminated", "end of file before end of quoted string", 1, 1},
		{"/* open", "bracket comment", 1, 1},
		{"keep; require \"fileinto\";", "require commands can only be placed", 1, 7},
		{`if header :is :contains "a" "b" {}`, "duplicate MATCH-TYPE", 1, 15},
		{`require "relational"; if header :value "xx" "a" "b" {}`, "requires a constant string argument being one of", 1, 40},
		{`require "regex"; if header :regex "a" "(" {}`, "invalid regular expression", 1, 39},
		{"if true { if true { if true { keep; } } }", "nest", 1, 29},
	}
	for _, tc := range tests {
		_, err := Compile([]byte(tc.src), Options{MaxNesting: 2})
		var ce *CompileError
		if !errors.As(err, &ce) {
			t.Errorf("Compile(%q) = %v, want CompileError", tc.src, err)
			continue
		}
		e := ce.Errors[0]
		if !strings.Contains(e.Msg, tc.want) || e.Pos.Line != tc.line || e.Pos.Col != tc.col {
			t.Errorf("Compile(%q) = %d:%d %q, want %d:%d containing %q", tc.src, e.Pos.Line, e.Pos.Col, e.Msg, tc.line, tc.col, tc.want)
		}
	}
}

func TestLimits(t *testing.T) {
	many := strings.Repeat(`require "fileinto";`, 1) + func() string {
		var b strings.Builder
		for i := 0; i < 40; i++ {
			fmt.Fprintf(&b, "fileinto \"f%d\";\n", i)
		}
		return b.String()
	}()
	tests := []struct {
		name, src, want string
	}{
		{"actions", many, "total number of actions exceeds policy limit"},
		{"redirects", `redirect "a@x.org"; redirect "b@x.org"; redirect "c@x.org"; redirect "d@x.org"; redirect "e@x.org";`, "number of redirect actions exceeds"},
		{"reject conflict", `require ["reject","fileinto"]; fileinto "x"; reject "no";`, "conflicts with other action"},
		{"steps", `require "variables"; ` + strings.Repeat(`if string :matches "${a}" "*a*a*a*a*a*b" { }`, 50), "CPU time limit"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			res, err := run(t, tc.src, Options{MaxSteps: 60})
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("run = %v, want error containing %q", err, tc.want)
			}
			if summary(res) != "keep" || !res.ImplicitKeep {
				t.Errorf("after runtime error actions = %s, want the implicit keep only", summary(res))
			}
		})
	}
}

func TestHostileMatchIsBounded(t *testing.T) {
	long := strings.Repeat("a", 5000)
	start := time.Now()
	if _, ok := globMatch(strings.Repeat("*a", 30)+"b", long, false, true); ok {
		t.Fatal("pattern must not match")
	}
	if d := time.Since(start); d > 2*time.Second {
		t.Fatalf(":matches took %v; backtracking is not bounded", d)
	}
}

func TestVariableSizeLimit(t *testing.T) {
	src := `require ["variables","fileinto"]; set "a" "` + strings.Repeat("x", 100) + `"; set :length "n" "${a}"; fileinto "${n}";`
	res, err := run(t, src, Options{MaxVariableSize: 10})
	if err != nil {
		t.Fatal(err)
	}
	if got := summary(res); got != "fileinto:10" {
		t.Errorf("variable not truncated: %s", got)
	}
}

type mapResolver map[string]string

func (m mapResolver) Include(name string, global bool) ([]byte, string, error) {
	s, ok := m[name]
	if !ok {
		return nil, "", ErrNotFound
	}
	return []byte(s), name, nil
}

func TestInclude(t *testing.T) {
	inc := mapResolver{
		"spam": `require ["fileinto","variables","include"]; global "box"; fileinto "${box}"; return; fileinto "never";`,
		"loop": `require "include"; include "loop";`,
	}
	src := `require ["include","variables"]; global "box"; set "box" "Junk"; include "spam"; include :once "spam"; include :optional "missing";`
	res, err := run(t, src, Options{Include: inc})
	if err != nil {
		t.Fatal(err)
	}
	if got := summary(res); got != "fileinto:Junk" {
		t.Errorf("include result = %s", got)
	}
	if _, err := run(t, `require "include"; include "loop";`, Options{Include: inc}); err == nil || !strings.Contains(err.Error(), "circular") {
		t.Errorf("include loop: %v, want circular include error", err)
	}
	if _, err := Compile([]byte(`require "include"; include "missing";`), Options{Include: inc}); err == nil {
		t.Error("missing include compiled")
	}
}

func TestCacheReloadsOnChange(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "a.sieve")
	if err := os.WriteFile(p, []byte("keep;"), 0o644); err != nil {
		t.Fatal(err)
	}
	c := NewCache(Options{}, 0)
	s1, err := c.Load(p)
	if err != nil {
		t.Fatal(err)
	}
	if s2, _ := c.Load(p); s2 != s1 {
		t.Error("unchanged script was recompiled")
	}
	if err := os.WriteFile(p, []byte("discard; keep;"), 0o644); err != nil {
		t.Fatal(err)
	}
	future := time.Now().Add(time.Hour)
	if err := os.Chtimes(p, future, future); err != nil {
		t.Fatal(err)
	}
	s3, err := c.Load(p)
	if err != nil || s3 == s1 {
		t.Errorf("changed script not recompiled (err %v)", err)
	}
}

func TestOptionsSet(t *testing.T) {
	var o Options
	for _, kv := range [][2]string{{"sieve_max_actions", "5"}, {"sieve_vacation_min_period", "1h"},
		{"sieve_extensions", "+editheader"}, {"sieve_spamtest_status_header", "X-Spam-Score"},
		{"recipient_delimiter", "-"}, {"sieve_max_cpu_time", "2s"}} {
		if err := o.Set(kv[0], kv[1]); err != nil {
			t.Errorf("Set(%q, %q) = %v", kv[0], kv[1], err)
		}
	}
	if o.MaxActions != 5 || o.VacationMinPeriod != time.Hour || !o.enabled("editheader") || !o.enabled("fileinto") ||
		o.SpamTest.StatusHeader != "X-Spam-Score" || o.RecipientDelimiter != "-" || o.MaxCPUTime != 2*time.Second {
		t.Errorf("settings not applied: %+v", o)
	}
	if err := o.Set("sieve_max_actions", ""); err != nil || o.MaxActions != 32 {
		t.Errorf("reset sieve_max_actions = %d, %v; want default 32", o.MaxActions, err)
	}
	if err := o.Set("no_such_setting", "1"); err == nil {
		t.Error("unknown setting accepted")
	}
	if err := o.Set("sieve_max_actions", "many"); err == nil {
		t.Error("bad number accepted")
	}
}

func TestRunSequence(t *testing.T) {
	compile := func(src string) *Script {
		s, err := Compile([]byte(src), Options{Extensions: []string{"fileinto", "imap4flags", "editheader"}})
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	before := compile(`require ["imap4flags","editheader"]; addflag "$Before"; addheader "X-Before" "1";`)
	user := compile(`require "fileinto"; if exists "X-Before" { fileinto "Seen-Before"; }`)
	after := compile(`require "fileinto"; fileinto "After";`)
	in := &Input{Message: ParseMessage([]byte(testMsg)), Envelope: Envelope{From: "a@example.org", To: "b@example.com"}}
	res, err := RunSequence(context.Background(), []*Script{before, user, after}, in)
	if err != nil {
		t.Fatal(err)
	}
	// user's fileinto cancelled the keep, so "after" must not run.
	if got := summary(res); got != "fileinto:Seen-Before[$Before]" {
		t.Errorf("sequence = %s", got)
	}
	errScript := compile(`require "fileinto"; fileinto "Y"; redirect "a@b.example"; redirect "c@d.example"; redirect "e@f.example"; redirect "g@h.example"; redirect "i@j.example";`)
	res, err = RunSequence(context.Background(), []*Script{compile(`keep;`), errScript}, in)
	if err == nil || !res.Aborted {
		t.Fatalf("expected a runtime error, got %v", err)
	}
	if got := summary(res); got != "keep,keep" {
		t.Errorf("after error = %s, want the first script's keep plus the implicit keep", got)
	}
}

func TestPanicBecomesRuntimeError(t *testing.T) {
	boom := &Extension{Name: "x-boom", Specs: []*Spec{{Name: "boom", Ext: "x-boom",
		Run: func(r *Runtime, n *Node) error { panic("kaboom") }}}}
	res, err := run(t, `require "x-boom"; boom;`, Options{Extra: []*Extension{boom}})
	if err == nil || !strings.Contains(err.Error(), "kaboom") {
		t.Fatalf("err = %v, want the panic as a runtime error", err)
	}
	if summary(res) != "keep" {
		t.Errorf("actions = %s, want the implicit keep", summary(res))
	}
}

func TestCharsets(t *testing.T) {
	tests := []struct{ raw, want string }{
		{"=?koi8-r?B?8NLJ18XU?=", "Привет"},
		{"=?iso-8859-1?Q?caf=E9?=", "café"},
		{"=?windows-1252?Q?=80uro?=", "€uro"},
		{"=?iso-2022-jp?B?GyRCJDMkcyRLJEEkTxsoQg==?=", "こんにちは"},
		{"=?x-unknown?Q?abc?=", "=?x-unknown?Q?abc?="},
	}
	for _, tc := range tests {
		if got := decodeHeader(tc.raw); got != tc.want {
			t.Errorf("decodeHeader(%q) = %q, want %q", tc.raw, got, tc.want)
		}
	}
}

func TestMatchesMemoryBound(t *testing.T) {
	big := strings.Repeat("x", 2<<20)
	if !globTooBig(strings.Repeat("*a", 20), big) {
		t.Error("40-wildcard pattern on 2 MiB not refused")
	}
	if globTooBig("*spam*", big) {
		t.Error("a short pattern on a large body must stay allowed")
	}
}
