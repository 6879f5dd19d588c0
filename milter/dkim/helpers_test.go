package dkim

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/gomilter/gomilter/internal/mailmsg"
)

// suiteDir returns /work/shared/testsuites/<sub>, found from the repo root
// (the directory holding go.mod) as ../shared/testsuites.
func suiteDir(t testing.TB, sub string) string {
	t.Helper()
	dir, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			break
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			t.Fatal("go.mod not found")
		}
		dir = parent
	}
	p := filepath.Join(dir, "..", "shared", "testsuites", sub)
	if _, err := os.Stat(p); err != nil {
		t.Fatalf("test suite missing: %v", err)
	}
	return p
}

func readFile(t testing.TB, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// toCRLF turns bare LF into CRLF (files on disk use LF).
func toCRLF(b []byte) []byte {
	var out bytes.Buffer
	out.Grow(len(b) + len(b)/20)
	for i, c := range b {
		if c == '\n' && (i == 0 || b[i-1] != '\r') {
			out.WriteByte('\r')
		}
		out.WriteByte(c)
	}
	return out.Bytes()
}

// parseMessage splits a CRLF message into fields (folding kept) and body.
func parseMessage(t testing.TB, raw []byte) *mailmsg.Message {
	t.Helper()
	raw = toCRLF(raw)
	m := &mailmsg.Message{}
	rest := raw
	for len(rest) > 0 {
		if bytes.HasPrefix(rest, []byte("\r\n")) {
			rest = rest[2:]
			break
		}
		end := 0
		for {
			i := bytes.Index(rest[end:], []byte("\r\n"))
			if i < 0 {
				end = len(rest)
				break
			}
			end += i + 2
			if end >= len(rest) || (rest[end] != ' ' && rest[end] != '\t') {
				break
			}
		}
		line := string(rest[:end])
		rest = rest[end:]
		line = strings.TrimSuffix(line, "\r\n")
		name, value, ok := strings.Cut(line, ":")
		if !ok {
			t.Fatalf("bad header line %q", line)
		}
		m.Header = append(m.Header, mailmsg.Field{Name: name, Value: value})
	}
	m.Body = rest
	return m
}

// render writes a message back as CRLF text.
func render(m *mailmsg.Message) []byte {
	var b bytes.Buffer
	for _, f := range m.Header {
		b.WriteString(f.Raw())
	}
	b.WriteString("\r\n")
	b.Write(m.Body)
	return b.Bytes()
}

// prepend returns a copy of m with fields on top.
func prepend(m *mailmsg.Message, fields ...mailmsg.Field) *mailmsg.Message {
	h := append(append([]mailmsg.Field{}, fields...), m.Header...)
	return &mailmsg.Message{Header: h, Body: m.Body}
}

// zoneFile loads "<name><TAB><record>" lines, '#' comments.
func zoneFile(t testing.TB, path string, into StaticResolver) {
	t.Helper()
	for _, line := range strings.Split(string(readFile(t, path)), "\n") {
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		name, rec, _ := strings.Cut(line, "\t")
		k := strings.ToLower(strings.TrimSuffix(name, "."))
		into[k] = append(into[k], strings.TrimSpace(rec))
	}
}
