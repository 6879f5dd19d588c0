package main

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestSieveTestJSON(t *testing.T) {
	dir := t.TempDir()
	script := filepath.Join(dir, "s.sieve")
	msg := filepath.Join(dir, "m.eml")
	os.WriteFile(script, []byte(`require ["fileinto","imap4flags","envelope"];
if envelope :is "to" "me@example.com" { fileinto :flags "\\Seen" "Spam"; }
redirect "x@y.example";`), 0o644)
	os.WriteFile(msg, []byte("From: a@example.org\nTo: me@example.com\nSubject: hi\n\nbody\n"), 0o644)
	var out, errb bytes.Buffer
	code := runSieve([]string{"test", "-json", script, msg, "-to", "me@example.com"}, &out, &errb)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errb.String())
	}
	var got []map[string]any
	if err := json.Unmarshal(out.Bytes(), &got); err != nil {
		t.Fatalf("bad JSON %q: %v", out.String(), err)
	}
	if len(got) != 2 || got[0]["action"] != "fileinto" || got[0]["mailbox"] != "Spam" || got[0]["copy"] != false ||
		got[1]["action"] != "redirect" || got[1]["address"] != "x@y.example" {
		t.Errorf("actions = %v", got)
	}
	if fl, _ := got[0]["flags"].([]any); len(fl) != 1 || fl[0] != `\Seen` {
		t.Errorf("flags = %v", got[0]["flags"])
	}
}

func TestSieveCheckAndErrors(t *testing.T) {
	dir := t.TempDir()
	bad := filepath.Join(dir, "bad.sieve")
	os.WriteFile(bad, []byte("keep;\nfrobnicate;\nkeep 1;\n"), 0o644)
	var out, errb bytes.Buffer
	if code := runSieve([]string{"check", bad}, &out, &errb); code != 1 || !strings.Contains(errb.String(), "line 2:1") {
		t.Errorf("check bad = %d, stderr %q", code, errb.String())
	}
	// Every error on its own line, then the summary.
	if lines := strings.Split(strings.TrimSpace(errb.String()), "\n"); len(lines) != 3 ||
		!strings.Contains(lines[1], "line 3:1") || lines[2] != "bad.sieve: validation failed" {
		t.Errorf("check bad stderr = %q", errb.String())
	}
	errb.Reset()
	msg := filepath.Join(dir, "m.eml")
	os.WriteFile(msg, []byte("Subject: x\n\nb\n"), 0o644)
	out.Reset()
	if code := runSieve([]string{"test", "-json", bad, msg}, &out, &errb); code != 1 {
		t.Errorf("test bad exit = %d", code)
	}
	var got []map[string]any
	if err := json.Unmarshal(out.Bytes(), &got); err != nil || len(got) != 1 || got[0]["line"] != float64(2) {
		t.Errorf("error JSON = %s (%v)", out.String(), err)
	}
	good := filepath.Join(dir, "good.sieve")
	os.WriteFile(good, []byte("keep;"), 0o644)
	out.Reset()
	if code := runSieve([]string{"check", good}, &out, &errb); code != 0 {
		t.Errorf("check good = %d", code)
	}
}
