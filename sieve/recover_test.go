package sieve

import (
	"errors"
	"testing"
)

// TestSyntaxErrorRecovery checks that a compile reports every syntax
// error, in Pigeonhole's words and number (verified against sievec of
// Pigeonhole 0.5.19), and goes on after lexical errors.
func TestSyntaxErrorRecovery(t *testing.T) {
	tests := []struct {
		name, src string
		want      []string // messages; the last is the summary
	}{
		{"missing semicolons", "keep\nstop;\ndiscard\nkeep;\n", []string{
			"missing semicolon ';' after keep command",
			"missing semicolon ';' after discard command",
			"validation failed"}},
		{"block ends", "if true {\n  keep\n}\nif true { stop; keep }\n", []string{
			"expected end of command ';' or the beginning of a compound block '{', but found '}'",
			"expected end of command ';' or the beginning of a compound block '{', but found '}'",
			"parse failed"}},
		{"comma in test list", "if anyof(true, false,) { keep; }\n", []string{
			"expecting test identifier after ',' in test list, but found ')'", "parse failed"}},
		{"string lists", "if header [\"a\", ] \"x\" { keep; }\nif header [1] \"x\" { keep; }\n", []string{
			"expecting string after ',' in string list, but found ']'",
			"expecting string after '[' in string list, but found number", "parse failed"}},
		{"garbage", "keep $$$ ;\nfrop @@ ;\n", []string{
			"unexpected character(s) starting with '$'",
			"expected end of command ';' or the beginning of a compound block '{', but found unknown characters",
			"unexpected character(s) starting with '@'",
			"expected end of command ';' or the beginning of a compound block '{', but found unknown characters",
			"parse failed"}},
		{"number", "if size :over 99999999999999999999 { keep; }\nif size :over 2G { keep; }\n", []string{
			"number exceeds integer limits (max 18446744073709551615)", "parse failed"}},
		{"identifier", "if abcdefghijabcdefghijabcdefghijabc { keep; }\n", []string{
			"encountered impossibly long identifier 'abcdefghijabcdefghijabcdefghi...'", "parse failed"}},
		{"quoted string", "keep;\n\"abc", []string{
			"end of file before end of quoted string started at line 2", "parse failed"}},
		{"comment", "keep; /* open", []string{
			"end of file before end of bracket comment ('/* ... */') started at line 1", "parse failed"}},
		{"colon", "keep : ;\n", []string{
			"expected end of command ';' or the beginning of a compound block '{', but found ':'", "parse failed"}},
		{"end of file", "if true {\n keep;\n", []string{
			"expected end of compound block '}', but found end of file", "parse failed"}},
		{"extra brace", "keep; }\n", []string{
			"unexpected '}' found at (the presumed) end of file", "parse failed"}},
		{"test list without comma", "if anyof(true false) { keep; }\n", []string{
			"the true test accepts no sub-tests, but tests are specified", "validation failed"}},
		{"nested block", "if true { if true { stop } keep; } discard;\n", []string{
			"expected end of command ';' or the beginning of a compound block '{', but found '}'", "parse failed"}},
	}
	for _, tc := range tests {
		_, err := Compile([]byte(tc.src), Options{})
		var ce *CompileError
		if !errors.As(err, &ce) {
			t.Errorf("%s: err = %v, want a CompileError", tc.name, err)
			continue
		}
		var got []string
		for _, e := range ce.Errors {
			got = append(got, e.Msg)
		}
		if len(got) != len(tc.want) {
			t.Errorf("%s: %d errors %q, want %q", tc.name, len(got), got, tc.want)
			continue
		}
		for i := range got {
			if got[i] != tc.want[i] {
				t.Errorf("%s: error %d = %q, want %q", tc.name, i+1, got[i], tc.want[i])
			}
		}
	}
}

// TestConstantBranches: like Pigeonhole, blocks that can never run are not
// validated, so they may hold anything the parser accepts.
func TestConstantBranches(t *testing.T) {
	for _, src := range []string{
		"if false { frop; }",
		"if not true { frop; }",
		"if allof(true, false) { frop; }",
		"if anyof(true, frop) { keep; }",
		"if true { keep; } elsif frop { frip; } else { frup; }",
		`require "ihave"; if ihave "nosuch" { nosuch "x"; }`,
	} {
		if _, err := Compile([]byte(src), Options{Extensions: []string{"ihave"}}); err != nil {
			t.Errorf("Compile(%q) = %v", src, err)
		}
	}
	for _, src := range []string{
		"if true { frop; }",
		"if anyof(false, frop) { keep; }",
		"if header \"a\" \"b\" { keep; } elsif frop { keep; }",
	} {
		if _, err := Compile([]byte(src), Options{}); err == nil {
			t.Errorf("Compile(%q) succeeded, want an unknown-test error", src)
		}
	}
}
