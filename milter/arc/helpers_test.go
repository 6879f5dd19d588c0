package arc

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/gomilter/gomilter/internal/dns"
	"github.com/gomilter/gomilter/internal/mailmsg"
)

// mapDNS serves TXT records from a map (the suite's txt-records).
type mapDNS map[string]string

func (m mapDNS) LookupTXT(_ context.Context, name string) ([]string, error) {
	if v, ok := m[strings.TrimSuffix(name, ".")]; ok {
		return []string{v}, nil
	}
	return nil, &dns.Error{Name: name, Type: "TXT", Kind: dns.ErrNotFound}
}

// parseMessage turns suite text (LF line ends) into a Message with CRLF
// folding in values and a CRLF body.
func parseMessage(text string) *mailmsg.Message {
	text = strings.ReplaceAll(text, "\r\n", "\n")
	head, body, found := strings.Cut(text, "\n\n")
	if strings.HasPrefix(text, "\n") {
		head, body, found = "", text[1:], true
	}
	m := &mailmsg.Message{}
	for _, line := range strings.Split(head, "\n") {
		if line == "" {
			continue
		}
		if (line[0] == ' ' || line[0] == '\t') && len(m.Header) > 0 {
			m.Header[len(m.Header)-1].Value += "\r\n" + line
			continue
		}
		name, value, ok := strings.Cut(line, ":")
		if !ok {
			continue
		}
		m.Header = append(m.Header, mailmsg.Field{Name: name, Value: value})
	}
	if found {
		m.Body = []byte(strings.ReplaceAll(body, "\n", "\r\n"))
	}
	return m
}

// suiteDir finds ../shared/testsuites/arc relative to the module root.
func suiteDir(t testing.TB) string {
	t.Helper()
	dir, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return filepath.Join(dir, "..", "shared", "testsuites", "arc")
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			t.Fatal("go.mod not found")
		}
		dir = parent
	}
}

type dnsTempErr struct{}

func (*dnsTempErr) Error() string { return "timeout" }
func (*dnsTempErr) Unwrap() error { return dns.ErrTemporary }
