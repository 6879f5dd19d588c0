package milter_test

import (
	"bufio"
	"fmt"
	"net/textproto"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// This file reads the .testcase files of testsuites/milter-postfix-behaviour
// (observed Postfix behaviour, from the d--j/go-milter integration suite)
// in place. The DSL is summarised in testsuites/README.md; defaults below
// follow that suite's runner: HELO localhost.local, FROM <from@example.com>,
// TO <to@example.com>, a five-field header and the body "a test message".

type suiteStep struct {
	what string // HELO, FROM, TO, RESET, DATA
	addr string
	data []byte // DATA: header block + body
}

type suiteCase struct {
	name     string
	steps    []suiteStep
	code     int     // 2, 4, 5 = class; >= 100 = exact code
	message  *string // CUSTOM text (code prefixes removed, lines joined by \n)
	at       string  // "", HELO, FROM, TO, DATA, EOM
	outFrom  *string
	outTo    []string
	outHdr   []byte // expected header block (CRLF, ends with an empty line)
	outBody  []byte
	hasOutTo bool
}

var angleAddr = regexp.MustCompile(`^\s*<(.*?)>\s*(.*?)\s*$`)

// parseSuiteFile splits a file into its "# name" sections, one case each.
func parseSuiteFile(t *testing.T, path string) []*suiteCase {
	t.Helper()
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var cases []*suiteCase
	var cur []string
	name := filepath.Base(path)
	flush := func() {
		if len(cur) > 0 {
			c, err := parseSuiteCase(name, strings.Join(cur, "\n")+"\n")
			if err != nil {
				t.Fatalf("%s: %v", path, err)
			}
			cases = append(cases, c)
		}
		cur = nil
	}
	for _, line := range strings.Split(strings.TrimRight(string(raw), "\n"), "\n") {
		if strings.HasPrefix(line, "# ") {
			flush()
			name = filepath.Base(path) + "/" + strings.TrimSpace(line[2:])
			continue
		}
		cur = append(cur, line)
	}
	flush()
	return cases
}

// parser state: which input steps exist yet, to add defaults.
type suiteParser struct {
	c                              *suiteCase
	r                              *textproto.Reader
	helo, from, rcpt, hdr, decided bool
	header, body                   []byte
}

func parseSuiteCase(name, text string) (*suiteCase, error) {
	p := &suiteParser{c: &suiteCase{name: name}, r: textproto.NewReader(bufio.NewReader(strings.NewReader(text)))}
	for {
		line, err := p.r.ReadLine()
		if err != nil {
			break
		}
		if err := p.line(strings.TrimSpace(line)); err != nil {
			return nil, err
		}
	}
	if !p.decided {
		return nil, fmt.Errorf("%s: no DECISION", name)
	}
	return p.c, nil
}

func (p *suiteParser) line(line string) error {
	word, rest, _ := strings.Cut(line, " ")
	switch {
	case line == "":
		return nil
	case p.decided:
		return p.output(word, rest)
	case word == "HELO":
		p.c.steps = append(p.c.steps, suiteStep{what: "HELO", addr: rest})
		p.helo = true
	case word == "FROM":
		p.ensure(false, false)
		m := angleAddr.FindStringSubmatch(rest)
		if m == nil {
			return fmt.Errorf("bad FROM %q", rest)
		}
		p.c.steps = append(p.c.steps, suiteStep{what: "FROM", addr: m[1]})
		p.from = true
	case word == "TO":
		p.ensure(true, false)
		m := angleAddr.FindStringSubmatch(rest)
		if m == nil {
			return fmt.Errorf("bad TO %q", rest)
		}
		p.c.steps = append(p.c.steps, suiteStep{what: "TO", addr: m[1]})
		p.rcpt = true
	case line == "RESET":
		p.c.steps = append(p.c.steps, suiteStep{what: "RESET"})
		p.from, p.rcpt = false, false
	case line == "HEADER":
		p.ensure(true, true)
		b, err := p.r.ReadDotBytes()
		if err != nil {
			return err
		}
		p.header, p.hdr = headerBlock(b), true
	case line == "BODY":
		b, err := p.r.ReadDotBytes()
		if err != nil {
			return err
		}
		p.body = crlfText(b)
	case word == "DECISION":
		return p.decision(rest)
	default:
		return fmt.Errorf("unknown line %q", line)
	}
	return nil
}

// ensure adds the default HELO, FROM (and TO) before a later step.
func (p *suiteParser) ensure(needFrom, needRcpt bool) {
	if !p.helo {
		p.c.steps = append(p.c.steps, suiteStep{what: "HELO", addr: "localhost.local"})
		p.helo = true
	}
	if needFrom && !p.from {
		p.c.steps = append(p.c.steps, suiteStep{what: "FROM", addr: "from@example.com"})
		p.from = true
	}
	if needRcpt && !p.rcpt {
		p.c.steps = append(p.c.steps, suiteStep{what: "TO", addr: "to@example.com"})
		p.rcpt = true
	}
}

func (p *suiteParser) decision(spec string) error {
	p.ensure(true, true)
	if !p.hdr {
		p.header = p.defaultHeader()
	}
	if p.body == nil {
		p.body = []byte("a test message")
	}
	p.c.steps = append(p.c.steps, suiteStep{what: "DATA", data: append(append([]byte(nil), p.header...), p.body...)})
	kind, at, _ := strings.Cut(strings.TrimSpace(spec), "@")
	if at == "*" {
		at = ""
	}
	p.c.at, p.decided = at, true
	switch kind {
	case "ACCEPT", "DISCARD-OR-QUARANTINE":
		p.c.code = 2
	case "TEMPFAIL":
		p.c.code = 4
	case "REJECT":
		p.c.code = 5
	case "CUSTOM":
		code, msg, err := p.r.ReadResponse(0)
		if err != nil {
			return err
		}
		p.c.code, p.c.message = code, &msg
	default:
		return fmt.Errorf("unknown decision %q", spec)
	}
	return nil
}

func (p *suiteParser) defaultHeader() []byte {
	var from string
	var to []string
	for _, s := range p.c.steps {
		switch s.what {
		case "FROM":
			from, to = s.addr, nil
		case "TO":
			to = append(to, "<"+s.addr+">")
		}
	}
	return []byte("Message-Id: <bogus-msg-id@example.com>\r\nDate: Sun, 01 Jan 2023 12:00:00 +0000\r\n" +
		"Subject: test\r\nTo: " + strings.Join(to, ", ") + "\r\nFrom: <" + from + ">\r\n\r\n")
}

func (p *suiteParser) output(word, rest string) error {
	switch word {
	case "FROM":
		m := angleAddr.FindStringSubmatch(rest)
		if m == nil {
			return fmt.Errorf("bad output FROM %q", rest)
		}
		p.c.outFrom = &m[1]
	case "TO":
		m := angleAddr.FindStringSubmatch(rest)
		if m == nil {
			return fmt.Errorf("bad output TO %q", rest)
		}
		p.c.outTo, p.c.hasOutTo = append(p.c.outTo, m[1]), true
	case "HEADER":
		b, err := p.r.ReadDotBytes()
		if err != nil {
			return err
		}
		p.c.outHdr = headerBlock(b)
	case "BODY":
		b, err := p.r.ReadDotBytes()
		if err != nil {
			return err
		}
		p.c.outBody = crlfText(b)
	default:
		return fmt.Errorf("unknown output line %q", word+" "+rest)
	}
	return nil
}

func crlfText(b []byte) []byte {
	return []byte(strings.ReplaceAll(strings.ReplaceAll(string(b), "\r\n", "\n"), "\n", "\r\n"))
}

// headerBlock turns dot-read header lines into a CRLF block ending in an
// empty line.
func headerBlock(b []byte) []byte {
	h := crlfText(b)
	if !strings.HasSuffix(string(h), "\r\n\r\n") {
		h = append(h, '\r', '\n')
	}
	return h
}
