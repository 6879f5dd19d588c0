package dkim

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// maxConfFile bounds opendkim.conf (the Debian one is 4 KiB).
const maxConfFile = 1 << 20

// LoadOpenDKIMConf reads an opendkim.conf(5) file as OpenDKIM 2.11 does and
// returns the equivalent Options. Tables it names (KeyTable, SigningTable,
// InternalHosts...) are read too; relative paths are relative to the
// config file's directory. Each directive gomilter does not implement
// yields one warning naming it (never silently ignored); an unknown
// directive, a bad value or an unreadable table is an error
// ("file:line: Directive: problem"). Keys themselves are loaded by
// NewSigner, so a bad key file does not stop verification.
func LoadOpenDKIMConf(path string) (*Options, []string, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, nil, err
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, maxConfFile+1))
	if err != nil {
		return nil, nil, err
	}
	if len(data) > maxConfFile {
		return nil, nil, fmt.Errorf("%s: larger than %d bytes", path, maxConfFile)
	}
	return ParseOpenDKIMConf(data, path)
}

// confLine is one "Name value" line.
type confLine struct {
	name, value string
	line        int
}

// ParseOpenDKIMConf parses opendkim.conf content; name is used in messages
// and as the base for relative paths.
func ParseOpenDKIMConf(data []byte, name string) (*Options, []string, error) {
	lines, err := splitConf(data, name)
	if err != nil {
		return nil, nil, err
	}
	p := &confParser{file: name, base: filepath.Dir(name), opts: DefaultOptions(), seen: map[string]int{}}
	for _, l := range lines {
		p.apply(l)
	}
	p.finish()
	if len(p.errs) > 0 {
		return nil, p.warns, joinErrs(p.errs)
	}
	return p.opts, p.warns, nil
}

func splitConf(data []byte, name string) ([]confLine, error) {
	var out []confLine
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(make([]byte, 64<<10), maxConfFile)
	n := 0
	for sc.Scan() {
		n++
		s := sc.Text()
		if i := strings.IndexByte(s, '#'); i >= 0 {
			s = s[:i]
		}
		s = strings.TrimSpace(s)
		if s == "" {
			continue
		}
		k, v, _ := strings.Cut(strings.ReplaceAll(s, "\t", " "), " ")
		out = append(out, confLine{name: k, value: strings.TrimSpace(v), line: n})
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("%s:%d: %v", name, n+1, err)
	}
	return out, nil
}

type confErr []error

func (e confErr) Error() string {
	s := make([]string, len(e))
	for i, x := range e {
		s[i] = x.Error()
	}
	return strings.Join(s, "\n")
}

func joinErrs(errs []error) error { return confErr(errs) }

type confParser struct {
	file  string
	base  string
	opts  *Options
	seen  map[string]int
	warns []string
	errs  []error
}

func (p *confParser) errorf(l confLine, format string, a ...any) {
	p.errs = append(p.errs, fmt.Errorf("%s:%d: %s: %s", p.file, l.line, l.name, fmt.Sprintf(format, a...)))
}

func (p *confParser) warnf(l confLine, format string, a ...any) {
	p.warns = append(p.warns, fmt.Sprintf("%s:%d: %s: %s", p.file, l.line, l.name, fmt.Sprintf(format, a...)))
}

func (p *confParser) apply(l confLine) {
	key := strings.ToLower(l.name)
	if prev, dup := p.seen[key]; dup {
		p.warnf(l, "repeated (line %d); the last one wins, as in OpenDKIM", prev)
	}
	p.seen[key] = l.line
	if h, ok := confHandlers[key]; ok {
		if err := h(p, l); err != nil {
			p.errorf(l, "%v", err)
		}
		return
	}
	if why, ok := confNoEffect[key]; ok {
		p.warnf(l, "accepted but has no effect in gomilter: %s", why)
		return
	}
	if confUnsupported[key] {
		p.warnf(l, "not supported by gomilter; ignored")
		return
	}
	p.errorf(l, "unknown directive")
}

func parseBool(v string) (bool, error) {
	if v != "" {
		switch v[0] {
		case 'T', 't', 'Y', 'y', '1':
			return true, nil
		case 'F', 'f', 'N', 'n', '0':
			return false, nil
		}
	}
	return false, fmt.Errorf("%q is not a boolean", trimQ(v))
}

func (p *confParser) list(l confLine) ([]string, error) {
	d, err := loadDataset(l.value, p.base)
	if err != nil {
		return nil, err
	}
	return d.keys(), nil
}

func (p *confParser) hostList(l confLine) (*HostList, error) {
	entries, err := p.list(l)
	if err != nil {
		return nil, err
	}
	return ParseHostList(entries)
}

type confHandler func(p *confParser, l confLine) error

func boolOpt(set func(o *Options, b bool)) confHandler {
	return func(p *confParser, l confLine) error {
		b, err := parseBool(l.value)
		if err == nil {
			set(p.opts, b)
		}
		return err
	}
}

func intOpt(set func(o *Options, n int)) confHandler {
	return func(p *confParser, l confLine) error {
		n, err := strconv.Atoi(l.value)
		if err != nil || n < 0 {
			return fmt.Errorf("%q is not a non-negative integer", trimQ(l.value))
		}
		set(p.opts, n)
		return nil
	}
}

func stringOpt(set func(o *Options, s string)) confHandler {
	return func(p *confParser, l confLine) error {
		set(p.opts, l.value)
		return nil
	}
}

func listOpt(set func(o *Options, v []string)) confHandler {
	return func(p *confParser, l confLine) error {
		v, err := p.list(l)
		if err == nil {
			set(p.opts, v)
		}
		return err
	}
}

func actionOpt(set func(o *Options, a Action)) confHandler {
	return func(p *confParser, l confLine) error {
		a, err := ParseAction(l.value)
		if err == nil {
			set(p.opts, a)
		}
		return err
	}
}

func parseMode(p *confParser, l confLine) error {
	var m Mode
	for _, c := range strings.ToLower(l.value) {
		switch c {
		case 's':
			m |= ModeSign
		case 'v':
			m |= ModeVerify
		default:
			return fmt.Errorf("unknown mode letter %q", c)
		}
	}
	p.opts.Mode = m
	return nil
}

func parseCanonOpt(p *confParser, l confLine) error {
	h, b, ok := parseCanon(l.value)
	if !ok {
		return fmt.Errorf("%q is not simple|relaxed[/simple|relaxed]", trimQ(l.value))
	}
	p.opts.HeaderCanon, p.opts.BodyCanon = h, b
	return nil
}

func parseHosts(set func(o *Options, h *HostList)) confHandler {
	return func(p *confParser, l confLine) error {
		h, err := p.hostList(l)
		if err == nil {
			set(p.opts, h)
		}
		return err
	}
}

func parseTTL(p *confParser, l confLine) error {
	n, err := strconv.Atoi(l.value)
	if err != nil || n < 0 {
		return fmt.Errorf("%q is not a number of seconds", trimQ(l.value))
	}
	p.opts.SignatureTTL = time.Duration(n) * time.Second
	return nil
}

func parseAlgorithm(p *confParser, l confLine) error {
	switch strings.ToLower(l.value) {
	case "rsa-sha256", "ed25519-sha256":
		return nil // the key type decides the algorithm
	case "rsa-sha1":
		return fmt.Errorf("rsa-sha1 signing is forbidden by RFC 8301")
	}
	return fmt.Errorf("unknown algorithm %q", trimQ(l.value))
}
