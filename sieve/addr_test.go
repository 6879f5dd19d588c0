package sieve

import "testing"

func TestParsePath(t *testing.T) {
	tests := []struct {
		in     string
		sender bool
		want   string
		ok     bool
	}{
		{"", true, "", true},
		{"<>", true, "", true},
		{"<>", false, "", false},
		{"", false, "", false},
		{"<stephan@example.org>", true, "stephan@example.org", true},
		{"stephan@example.org", true, "stephan@example.org", true},
		{"<@a.example,@b.example:stephan@example.org>", true, "stephan@example.org", true},
		{"<@a.example:>", true, "", false},
		{"<<stephan@example.org>", true, "", false},
		{"stephan@example.org>", true, "", false},
		{"<stephan@example.org", true, "", false},
		{"<stephan example.org>", true, "", false},
		{"<stephan@@example.org>", true, "", false},
		{"hutsefluts@", true, "", false},
		{"<MAILER-DAEMON>", false, "MAILER-DAEMON", true},
		{"<MAILER-DAEMON>", true, "", false},
		{".japanese..x.@example.com", false, ".japanese..x.@example.com", true},
		{"a@_ex-.com", false, "a@_ex-.com", true},
		{"a@ex..com", false, "", false},
		{"<\"a b\"@example.com>", false, "\"a b\"@example.com", true},
		{"<\"ab\"@example.com>", false, "ab@example.com", true},
		{"a@[192.0.2.1]", false, "a@[192.0.2.1]", true},
		{"<cola.example.org:stephan@example.org>", false, "", false},
		{"<@cola.example.org,mx.example.nl:s@example.org>", false, "", false},
	}
	for _, tc := range tests {
		got, ok := ParsePath(tc.in, tc.sender)
		if got != tc.want || ok != tc.ok {
			t.Errorf("ParsePath(%q, %v) = %q, %v; want %q, %v", tc.in, tc.sender, got, ok, tc.want, tc.ok)
		}
	}
}

func TestParseSieveAddress(t *testing.T) {
	tests := []struct{ in, want, err string }{
		{"stephan@example.org", "stephan@example.org", ""},
		{"Stephan Bosch <stephan@EXAMPLE.org>", "stephan@example.org", ""},
		{"\"Bosch, Stephan\" <s@example.org>", "s@example.org", ""},
		{"\"a b\"@example.org", "\"a b\"@example.org", ""},
		{"(comment) s.b @ example . org", "s.b@example.org", ""},
		{"s . b@example.org", "", "invalid local part"},
		{"@wrong.example.com", "", "invalid local part"},
		{"error", "", "invalid or lonely local part 'error' (expecting '@')"},
		{"error@", "", "invalid or missing domain"},
		{"Stephan Bosch <error@example.org", "", "missing '>'"},
		{"Error <", "", "missing domain"},
		{"a@example.org,b@example.org", "", "not a single address (found ',')"},
		{"r\xc3\xbcdiger@example.com", "", "invalid local part"},
		{"", "", "empty address"},
	}
	for _, tc := range tests {
		a := parseSieveAddress(tc.in)
		if a.err != tc.err || (tc.err == "" && a.String() != tc.want) {
			t.Errorf("parseSieveAddress(%q) = %q, %q; want %q, %q", tc.in, a.String(), a.err, tc.want, tc.err)
		}
	}
}

func TestMailtoError(t *testing.T) {
	tests := []struct{ in, want string }{
		{"stephan@example.org", ""},
		{"stephan@example.org?subject=Hi%20there&cc=a@example.org", ""},
		{"?to=a@example.org", ""},
		{"stephan@example.org;?header=frop", "invalid character ';' in 'to' part"},
		{"stephan@example.org?header<=frop", "invalid character '<' in header field name part"},
		{"stephan@example.org?header=fr>op", "invalid character '>' in header field value part"},
		{"stephan@example.org?header:=frop", "invalid header field name"},
		{"stephan%23example.org", "invalid recipient 'stephan#example.org': invalid or lonely local part 'stephan#example.org' (expecting '@')"},
		{"a%2", "invalid % encoding"},
		{"a%00b@example.org", "invalid % encoding"},
	}
	for _, tc := range tests {
		if got := mailtoError(tc.in); got != tc.want {
			t.Errorf("mailtoError(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

// FuzzParsePath: no panic, and an accepted path parses again to itself.
func FuzzParsePath(f *testing.F) {
	for _, s := range []string{"", "<>", "<a@b.c>", "<@r.example,@s.example:a@b.c>", "\"a b\"@c.d",
		".x..@y", "a@[1.2.3.4]", "<MAILER-DAEMON>", "<<a@b>", "a@@b"} {
		f.Add(s, true)
		f.Add(s, false)
	}
	f.Fuzz(func(t *testing.T, s string, sender bool) {
		a, ok := ParsePath(s, sender)
		if !ok || a == "" {
			return
		}
		b, ok2 := ParsePath(a, sender)
		if !ok2 || b != a {
			t.Fatalf("ParsePath(%q) = %q, which parses to %q, %v", s, a, b, ok2)
		}
	})
}

// FuzzSieveAddress: the address and mailto parsers never panic, and a
// valid address prints to a form that is valid again.
func FuzzSieveAddress(f *testing.F) {
	for _, s := range []string{"a@b.c", "Name <a@b.c>", "\"q\\\"x\" <a@b.c>", "(c) a . b @ c", "<>", "a@[x]",
		"stephan@example.org?to=x@y.z&body=hi", "a%2Cb@c.d"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		_ = mailtoError(s)
		a := parseSieveAddress(s)
		if a.err != "" {
			return
		}
		if b := parseSieveAddress(a.String()); b.err != "" {
			t.Fatalf("%q -> %q is invalid: %s", s, a.String(), b.err)
		}
	})
}
