package milter_test

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/textproto"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/gomilter/gomilter/internal/postfixtest"
	"github.com/gomilter/gomilter/internal/testenv"
	"github.com/gomilter/gomilter/milter"
)

// suiteDir is testsuites/milter-postfix-behaviour/tests, read in place.
func suiteDir(t *testing.T) string {
	t.Helper()
	dir, _ := os.Getwd()
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			break
		}
		if filepath.Dir(dir) == dir {
			t.Fatal("go.mod not found")
		}
		dir = filepath.Dir(dir)
	}
	p := filepath.Join(dir, "..", "shared", "testsuites", "milter-postfix-behaviour", "tests")
	if _, err := os.Stat(p); err != nil {
		testenv.Missing(t, "milter behaviour suite at %s", p)
	}
	return p
}

// suiteMilters re-implements, with this package's API, the milter behind
// each directory of the suite (see testsuites/README.md). The auth/
// directory needs STARTTLS and Cyrus SASL in Postfix and is not run.
var suiteMilters = map[string]func() milter.Milter{
	"header":    func() milter.Milter { return &headerMilter{} },
	"body":      func() milter.Milter { return &bodyMilter{} },
	"mail-from": func() milter.Milter { return &mailFromMilter{} },
	"rcpt-to":   func() milter.Milter { return &rcptToMilter{} },
	"milter":    func() milter.Milter { return &lowLevelMilter{} },
	"macro":     func() milter.Milter { return &macroMilter{} },
}

func TestPostfixBehaviourSuite(t *testing.T) {
	testenv.SkipShort(t, "starts Postfix")
	root := suiteDir(t)
	total := 0
	for _, dir := range slices.Sorted(mapsKeys(suiteMilters)) {
		files, _ := filepath.Glob(filepath.Join(root, dir, "*.testcase"))
		if len(files) == 0 {
			t.Fatalf("no testcases in %s", dir)
		}
		t.Run(dir, func(t *testing.T) {
			inst := startSuitePostfix(t, suiteMilters[dir])
			for _, f := range files {
				for _, c := range parseSuiteFile(t, f) {
					total++
					t.Run(c.name, func(t *testing.T) { runSuiteCase(t, inst, c) })
				}
			}
		})
	}
	if total < 30 {
		t.Errorf("ran %d cases, expected the suite's 33 non-auth cases", total)
	}
}

func mapsKeys[V any](m map[string]V) func(func(string) bool) {
	return func(yield func(string) bool) {
		for k := range m {
			if !yield(k) {
				return
			}
		}
	}
}

func startSuitePostfix(t *testing.T, mk func() milter.Milter) *postfixtest.Instance {
	t.Helper()
	srv, err := milter.NewServer(func(context.Context) milter.Milter { return mk() }, milter.Options{
		Actions: milter.ActAddHeader | milter.ActChangeHeader | milter.ActQuarantine | milter.ActChangeBody |
			milter.ActAddRcpt | milter.ActDelRcpt | milter.ActChangeFrom,
	})
	if err != nil {
		t.Fatal(err)
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go srv.Serve(l)
	t.Cleanup(func() { srv.Close() })
	return postfixtest.Start(t, postfixtest.Options{Hostname: "mx.example.com", MainCF: map[string]string{
		"smtpd_milters":         "inet:" + l.Addr().String(),
		"milter_protocol":       "6",
		"milter_default_action": "reject",
		"milter_mail_macros":    "i {mail_addr} {client_addr} {client_name} {auth_authen}",
	}})
}

// runSuiteCase plays the steps on one SMTP connection until the first
// error reply (a refused recipient only refuses itself, unless no
// recipient is left), then checks the decision and, for accepted mail,
// what the relay sink received.
func runSuiteCase(t *testing.T, inst *postfixtest.Instance, c *suiteCase) {
	s := inst.NewSession(t)
	defer s.Close()
	var rcptErr *textproto.Error
	accepted := 0
	code, msg, at, qid := 250, "", "EOM", ""
	for _, st := range c.steps {
		var err error
		switch st.what {
		case "HELO":
			err, at = s.Helo(st.addr), "HELO"
		case "FROM":
			err, at, accepted, rcptErr = s.Mail(st.addr), "FROM", 0, nil
		case "TO":
			if err, at = s.Rcpt(st.addr), "TO"; err == nil {
				accepted++
			} else if errors.As(err, &rcptErr) {
				err = nil
			}
		case "RESET":
			err, at = s.Reset(), ""
		case "DATA":
			if accepted == 0 && rcptErr != nil {
				code, msg, at = rcptErr.Code, rcptErr.Msg, "TO"
				break
			}
			err, at = s.Data(st.data), "EOM"
			qid = s.QueueID()
		}
		var te *textproto.Error
		if err != nil && !errors.As(err, &te) {
			t.Fatalf("%s: %v", st.what, err)
		}
		if err != nil {
			code, msg = te.Code, te.Msg
			break
		}
	}
	if !c.decisionMatches(code, msg, at) {
		t.Fatalf("reply %d %q at %s; want %s", code, msg, at, c.want())
	}
	if code/100 == 2 && (c.outFrom != nil || c.hasOutTo || c.outHdr != nil || c.outBody != nil) {
		checkSuiteOutput(t, inst, c, qid)
	}
}

func (c *suiteCase) decisionMatches(code int, msg, at string) bool {
	if c.at != "" && c.at != at && !(c.at == "DATA" && at == "EOM") {
		return false
	}
	switch {
	case c.code < 10:
		return code/100 == c.code
	case c.message != nil:
		return code == c.code && msg == *c.message
	}
	return code == c.code
}

func (c *suiteCase) want() string {
	code := fmt.Sprint(c.code)
	if c.code < 10 {
		code += "xx"
	}
	if c.message != nil {
		code += " " + *c.message
	}
	at := c.at
	if at == "" {
		at = "*"
	}
	return code + "@" + at
}

func checkSuiteOutput(t *testing.T, inst *postfixtest.Instance, c *suiteCase, qid string) {
	t.Helper()
	m, ok := sinkMessage(t, inst, func(m postfixtest.SinkMessage) bool {
		return qid != "" && strings.Contains(string(m.Data), " id "+qid)
	})
	if !ok {
		t.Fatalf("queue id %q never reached the sink:\n%s", qid, inst.Log())
	}
	if c.outFrom != nil && m.From != *c.outFrom {
		t.Errorf("relayed FROM %q, want %q", m.From, *c.outFrom)
	}
	if c.hasOutTo && !sameSet(m.To, c.outTo) {
		t.Errorf("relayed TO %q, want %q", m.To, c.outTo)
	}
	hdr, body := splitData(m.Data)
	if c.outHdr != nil && string(placeholderReceived(hdr)) != string(c.outHdr) {
		t.Errorf("relayed header:\n%q\nwant\n%q", placeholderReceived(hdr), c.outHdr)
	}
	if c.outBody != nil && string(body) != string(c.outBody) {
		t.Errorf("relayed body %q, want %q", body, c.outBody)
	}
}

func sameSet(a, b []string) bool {
	a, b = slices.Clone(a), slices.Clone(b)
	slices.Sort(a)
	slices.Sort(b)
	return slices.Equal(a, b)
}

func splitData(d []byte) (hdr, body []byte) {
	s := string(d)
	if i := strings.Index(s, "\r\n\r\n"); i >= 0 {
		return []byte(s[:i+4]), []byte(s[i+4:])
	}
	return d, nil
}

// placeholderReceived replaces Postfix's own top Received: field (with
// its continuation lines) by "Received: placeholder", as the suite does.
func placeholderReceived(hdr []byte) []byte {
	lines := strings.SplitAfter(string(hdr), "\r\n")
	for i, l := range lines {
		if !strings.HasPrefix(l, "Received:") {
			continue
		}
		j := i + 1
		for j < len(lines) && (strings.HasPrefix(lines[j], " ") || strings.HasPrefix(lines[j], "\t")) {
			j++
		}
		out := append(slices.Clone(lines[:i]), "Received: placeholder\r\n")
		return []byte(strings.Join(append(out, lines[j:]...), ""))
	}
	return hdr
}
