package config

import (
	"bytes"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"
)

func TestParseValid(t *testing.T) {
	src := `
log:
  format: json
dns:
  servers: [127.0.0.1:5353]
  timeout: 500ms
milter:
  listen:
    address: unix:/tmp/x/milter.sock
    owner: postfix
    group: postfix
    mode: "0600"
policy:
  listen: inet:127.0.0.1:10023
auth:
  enabled: false
`
	c, err := Parse("t.yaml", []byte(src))
	if err != nil {
		t.Fatalf("Parse: %v", err)
	}
	if c.Log.Format != "json" || c.DNS.Timeout != 500*time.Millisecond || c.DNS.Servers[0] != "127.0.0.1:5353" {
		t.Errorf("values not applied: %+v", c)
	}
	l := c.Milter.Listen
	if l.Network != "unix" || l.Address != "/tmp/x/milter.sock" || l.Owner != "postfix" || l.Mode != 0o600 {
		t.Errorf("milter listener = %+v", l)
	}
	if c.Policy.Listen.Network != "tcp" || c.Policy.Listen.Address != "127.0.0.1:10023" {
		t.Errorf("policy listener = %+v", c.Policy.Listen)
	}
	if On(c.Auth.Enabled) || !On(c.Milter.Enabled) {
		t.Errorf("enabled flags wrong")
	}
	if c.Line("policy.listen") != 14 {
		t.Errorf("Line(policy.listen) = %d, want 14", c.Line("policy.listen"))
	}
}

// TestParseAllErrors checks that one pass reports every problem with its
// line, in file:line: key: problem form.
func TestParseAllErrors(t *testing.T) {
	src := `log:
  format: xml
  colour: red
dns:
  timeout: fast
  timeout: 2s
milter:
  listen: tcp:1.2.3.4
policy:
  listen: unix:relative.sock
auth:
  listen: unix:/run/a.sock
  enabled: maybe
state_dir: relative
`
	_, err := Parse("bad.yaml", []byte(src))
	es, ok := AsErrors(err)
	if !ok {
		t.Fatalf("Parse error %v is not config.Errors", err)
	}
	want := []string{
		"bad.yaml:3: log.colour: unknown key",
		"bad.yaml:5: dns.timeout: invalid duration",
		"bad.yaml:6: dns.timeout: duplicate key (first set on line 5)",
		"bad.yaml:8: milter.listen:",
		"bad.yaml:10: policy.listen: \"unix:relative.sock\": unix socket path must be absolute",
		"bad.yaml:13: auth.enabled: expected true or false",
	}
	text := es.Error()
	for _, w := range want {
		if !strings.Contains(text, w) {
			t.Errorf("errors lack %q; got:\n%s", w, text)
		}
	}
	// Decoding errors stop before validation, so log.format and
	// state_dir appear only once the file decodes; check that round.
	_, err = Parse("bad2.yaml", []byte("log:\n  format: xml\nstate_dir: relative\n"))
	text = err.Error()
	for _, w := range []string{"bad2.yaml:2: log.format: \"xml\"", "bad2.yaml:3: state_dir:"} {
		if !strings.Contains(text, w) {
			t.Errorf("validation errors lack %q; got:\n%s", w, text)
		}
	}
}

func TestDuplicateListener(t *testing.T) {
	_, err := Parse("d.yaml", []byte("milter:\n  listen: inet:127.0.0.1:1\npolicy:\n  listen: inet:127.0.0.1:1\n"))
	if err == nil || !strings.Contains(err.Error(), "d.yaml:4: policy.listen: inet:127.0.0.1:1 is already used by milter.listen") {
		t.Fatalf("err = %v", err)
	}
}

func TestDefaultValid(t *testing.T) {
	c := Default()
	c.lines = map[string]int{}
	if errs := c.validate(); len(errs) > 0 {
		t.Fatalf("embedded default invalid: %v", errs)
	}
	if c.Milter.Listen.Network != "unix" {
		t.Errorf("default milter listener %v is not a unix socket", c.Milter.Listen)
	}
	if os.Geteuid() == 0 && c.Milter.Listen.Address != "/run/gomilter.sock" {
		t.Errorf("root default milter socket = %s, want /run/gomilter.sock", c.Milter.Listen.Address)
	}
}

func TestEffectiveRoundTrip(t *testing.T) {
	c, err := Parse("x.yaml", []byte("milter:\n  authserv_id: mx.example.org\n"))
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	c.WriteEffective(&buf)
	out := buf.String()
	if !strings.Contains(out, `authserv_id: "mx.example.org"`) {
		t.Errorf("effective config lacks authserv_id:\n%s", out)
	}
	// What check-config prints must itself be a valid config.
	body := out[strings.Index(out, "\n")+1:]
	if _, err := Parse("effective.yaml", []byte(body)); err != nil {
		t.Errorf("effective output does not parse: %v\n%s", err, out)
	}
}

// TestContribExample parses the documented example config shipped in
// contrib/, so the docs cannot drift from the parser.
func TestContribExample(t *testing.T) {
	path := filepath.Join("..", "..", "contrib", "gomilter.yaml")
	if _, err := Load(path); err != nil {
		t.Fatalf("contrib example: %v", err)
	}
}

func FuzzParse(f *testing.F) {
	f.Add([]byte("milter:\n  listen: unix:/run/x.sock\n"))
	f.Add([]byte("dns:\n  servers: [1.2.3.4:53]\n  timeout: 1s\n"))
	f.Add([]byte("a: &x 1\nb: *x\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		c, err := Parse("fuzz.yaml", data)
		if err == nil && c == nil {
			t.Fatal("nil config without error")
		}
		if err != nil {
			if _, ok := AsErrors(err); !ok {
				t.Fatalf("error is not config.Errors: %v", err)
			}
		}
	})
}

// TestContribExampleHasEveryKey keeps contrib/gomilter.yaml complete: every
// key of Config must be set (and so documented) in the example.
func TestContribExampleHasEveryKey(t *testing.T) {
	c, err := Load(filepath.Join("..", "..", "contrib", "gomilter.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	for _, key := range keyPaths(reflect.TypeOf(Config{}), "") {
		if c.Line(key) == 0 {
			t.Errorf("contrib/gomilter.yaml does not show key %s", key)
		}
	}
}

func keyPaths(t reflect.Type, prefix string) []string {
	var out []string
	for i := 0; i < t.NumField(); i++ {
		f := t.Field(i)
		name, _, _ := strings.Cut(f.Tag.Get("yaml"), ",")
		if name == "" || !f.IsExported() {
			continue
		}
		path := joinKey(prefix, name)
		out = append(out, path)
		ft := f.Type
		if ft.Kind() == reflect.Struct && ft != reflect.TypeOf(Listener{}) && ft != reflect.TypeOf(Prefix{}) {
			out = append(out, keyPaths(ft, path)...)
		}
	}
	return out
}
