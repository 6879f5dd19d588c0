package config

import (
	"strings"
	"testing"
	"time"
)

func TestSpamdDefaults(t *testing.T) {
	c, err := Parse("s.yaml", []byte("spamd:\n  enabled: true\n"))
	if err != nil {
		t.Fatal(err)
	}
	s := c.Spamd
	if !s.Enabled || s.Listen.String() != "inet:127.0.0.1:783" || s.AllowTell ||
		s.MaxMessageSize != 512000 || s.MaxConnections != 200 || s.Timeout != 30*time.Second {
		t.Errorf("defaults = %+v", s)
	}
	var nets []string
	for _, p := range s.AllowedNetworks {
		nets = append(nets, p.String())
	}
	if got := strings.Join(nets, " "); got != "127.0.0.1/32 ::1/128" {
		t.Errorf("allowed_networks = %s, want 127.0.0.1/32 ::1/128", got)
	}
	if Default().Spamd.Enabled {
		t.Error("spamd is on in the embedded default")
	}
}

func TestSpamdParse(t *testing.T) {
	src := `milter:
  spam:
    bayes_path: /var/lib/gomilter/bayes.db
spamd:
  enabled: true
  listen: {address: unix:/run/gomilter-spamd.sock, owner: root, group: mail, mode: "0660"}
  allowed_networks: [192.0.2.0/24, "2001:db8::1"]
  allow_tell: true
  max_message_size: 1048576
  max_connections: 20
  timeout: 1m
`
	c, err := Parse("s.yaml", []byte(src))
	if err != nil {
		t.Fatal(err)
	}
	s := c.Spamd
	if l := s.Listen; l.Network != "unix" || l.Address != "/run/gomilter-spamd.sock" || l.Group != "mail" || l.Mode != 0o660 {
		t.Errorf("listen = %+v", l)
	}
	if len(s.AllowedNetworks) != 2 || s.AllowedNetworks[1].String() != "2001:db8::1/128" {
		t.Errorf("allowed_networks = %v", s.AllowedNetworks)
	}
	if !s.AllowTell || s.MaxMessageSize != 1<<20 || s.MaxConnections != 20 || s.Timeout != time.Minute {
		t.Errorf("spamd = %+v", s)
	}
	if c.Line("spamd.allow_tell") != 8 {
		t.Errorf("Line(spamd.allow_tell) = %d, want 8", c.Line("spamd.allow_tell"))
	}
}

// TestSpamdErrors: each bad spamd setting is reported as file:line: key:
// problem, all in one pass.
func TestSpamdErrors(t *testing.T) {
	tests := []struct {
		name, src string
		want      []string
	}{
		{"decode", "spamd:\n  enabled: yes please\n  listen: tcp:1.2.3.4:783\n  allowed_networks: [10.0.0.0/33]\n  max_connections: many\n  timeout: -1s\n  bogus: 1\n", []string{
			"b.yaml:2: spamd.enabled: expected true or false",
			"b.yaml:3: spamd.listen: ",
			"b.yaml:4: spamd.allowed_networks[0]: \"10.0.0.0/33\": not a network",
			"b.yaml:5: spamd.max_connections: expected an integer",
			"b.yaml:6: spamd.timeout: invalid duration",
			"b.yaml:7: spamd.bogus: unknown key",
		}},
		{"validate", "spamd:\n  enabled: true\n  allow_tell: true\n  max_message_size: 0\n  max_connections: -1\n  timeout: 0s\n  allowed_networks: []\n", []string{
			"b.yaml:3: spamd.allow_tell: needs milter.spam.bayes_path",
			"b.yaml:4: spamd.max_message_size: must be positive",
			"b.yaml:5: spamd.max_connections: must be positive",
			"b.yaml:6: spamd.timeout: must be positive",
			"b.yaml:7: spamd.allowed_networks: empty: no TCP client could connect",
		}},
		{"listen required", "spamd:\n  enabled: true\n  listen: \"\"\n", []string{
			"b.yaml:3: spamd.listen: required when the daemon is enabled",
		}},
		{"listen shared", "policy:\n  listen: inet:127.0.0.1:783\nspamd:\n  enabled: true\n", []string{
			"spamd.listen: inet:127.0.0.1:783 is already used by policy.listen",
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Parse("b.yaml", []byte(tc.src))
			if _, ok := AsErrors(err); !ok {
				t.Fatalf("Parse(%q) = %v, want config.Errors", tc.src, err)
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("Parse(%q) errors lack %q; got:\n%v", tc.src, w, err)
				}
			}
		})
	}
}

// TestSpamdOffNeedsNothing: a disabled spamd section with odd values for
// its listener-related keys does not stop the other daemons.
func TestSpamdOffNeedsNothing(t *testing.T) {
	if _, err := Parse("o.yaml", []byte("spamd:\n  listen: \"\"\n  allowed_networks: []\n")); err != nil {
		t.Errorf("disabled spamd refused: %v", err)
	}
	if _, err := Parse("o.yaml", []byte("spamd:\n  enabled: true\n  listen: unix:/run/s.sock\n  allowed_networks: []\n")); err != nil {
		t.Errorf("unix spamd without allowed_networks refused: %v", err)
	}
}

func TestValidate(t *testing.T) {
	c := Default()
	c.Spamd.Enabled, c.Spamd.AllowTell = true, true
	err := c.Validate()
	if err == nil || !strings.Contains(err.Error(), "spamd.allow_tell: needs milter.spam.bayes_path") {
		t.Errorf("Validate = %v, want the allow_tell error", err)
	}
	c.Milter.Spam.BayesPath = "/var/lib/gomilter/bayes.db"
	if err := c.Validate(); err != nil {
		t.Errorf("Validate = %v", err)
	}
}

// FuzzSpamdSection: any spamd section either parses into a config whose
// spamd values pass their own checks, or yields config.Errors.
func FuzzSpamdSection(f *testing.F) {
	f.Add([]byte("spamd:\n  enabled: true\n  listen: inet:127.0.0.1:783\n  allowed_networks: [127.0.0.1, \"::1\"]\n"))
	f.Add([]byte("spamd:\n  enabled: true\n  listen: {address: unix:/run/s.sock, mode: \"0600\"}\n  allowed_networks: []\n"))
	f.Add([]byte("milter:\n  spam:\n    bayes_path: /b.db\nspamd:\n  allow_tell: true\n  max_message_size: 1\n  timeout: 1ms\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		c, err := Parse("fuzz.yaml", data)
		if err != nil {
			if _, ok := AsErrors(err); !ok {
				t.Fatalf("error is not config.Errors: %v", err)
			}
			return
		}
		s := c.Spamd
		if s.MaxMessageSize <= 0 || s.MaxConnections <= 0 || s.Timeout <= 0 || s.AllowTell && c.Milter.Spam.BayesPath == "" {
			t.Fatalf("accepted invalid spamd section %+v", s)
		}
	})
}
