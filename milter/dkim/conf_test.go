package dkim

import (
	"context"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/gomilter/gomilter/internal/mailmsg"
)

// TestOpenDKIMTestConfs loads every upstream test config: all parse except
// the three that OpenDKIM itself refuses.
func TestOpenDKIMTestConfs(t *testing.T) {
	dir := filepath.Join(suiteDir(t, "opendkim"), "tests")
	files, _ := filepath.Glob(filepath.Join(dir, "*.conf"))
	if len(files) < 35 {
		t.Fatalf("only %d confs", len(files))
	}
	mustFail := map[string]bool{"t-conf-check.conf": true, "t-conf-check2.conf": true, "t-sign-rs-tables-bad.conf": true}
	for _, f := range files {
		opts, warns, err := LoadOpenDKIMConf(f)
		base := filepath.Base(f)
		if mustFail[base] {
			if err == nil {
				t.Errorf("%s: loaded, want an error", base)
			}
			continue
		}
		if err != nil {
			t.Errorf("%s: %v", base, err)
			continue
		}
		for _, w := range warns {
			if !strings.Contains(w, base) {
				t.Errorf("%s: warning without file name: %s", base, w)
			}
		}
		if _, err := NewSigner(opts); err != nil {
			t.Errorf("%s: NewSigner: %v", base, err)
		}
	}
}

func TestDebianConf(t *testing.T) {
	data := []byte(`Syslog yes
SyslogSuccess yes
Canonicalization relaxed/simple
OversignHeaders From
UserID opendkim
UMask 007
Socket local:/run/opendkim/opendkim.sock
PidFile /run/opendkim/opendkim.pid
TrustAnchorFile /usr/share/dns/root.key
MacroList daemon_name|ORIGINATING
`)
	opts, warns, err := ParseOpenDKIMConf(data, "/etc/opendkim.conf")
	if err != nil {
		t.Fatal(err)
	}
	if opts.HeaderCanon != Relaxed || opts.BodyCanon != Simple || opts.Socket != "local:/run/opendkim/opendkim.sock" ||
		opts.UMask != "007" || len(opts.OversignHeaders) != 1 || opts.Mode != ModeSign|ModeVerify {
		t.Errorf("opts = %+v", opts)
	}
	want := []string{"Syslog", "SyslogSuccess", "UserID", "PidFile", "TrustAnchorFile", "MacroList"}
	if len(warns) != len(want) {
		t.Fatalf("warnings = %q, want one each for %v", warns, want)
	}
	for i, w := range want {
		if !strings.Contains(warns[i], ": "+w+": ") || !strings.HasPrefix(warns[i], "/etc/opendkim.conf:") {
			t.Errorf("warning %d = %q, want it to name %s with file:line", i, warns[i], w)
		}
	}
	if _, _, err := ParseOpenDKIMConf([]byte("Bogus yes\nMode x\n"), "c"); err == nil ||
		!strings.Contains(err.Error(), "c:1: Bogus: unknown directive") || !strings.Contains(err.Error(), "c:2: Mode") {
		t.Errorf("bad conf error = %v", err)
	}
	if _, _, err := ParseOpenDKIMConf([]byte("KeyTable dsn:mysql://u@3306+h/db/table=k\n"), "c"); err == nil {
		t.Error("dsn: KeyTable accepted")
	}
}

func TestPeerList(t *testing.T) {
	dir := filepath.Join(suiteDir(t, "opendkim"), "tests")
	d, err := loadDataset("file:t-peer.list", dir)
	if err != nil {
		t.Fatal(err)
	}
	h, err := ParseHostList(d.keys())
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		ip, name string
		want     bool
	}{
		{"10.0.0.1", "mail.example.com", true},
		{"10.0.0.1", "nonpeer.example.com", false},
		{"10.0.0.1", "x.nonpeer.example.com", false},
		{"10.0.0.1", "allowed.nonpeer.example.com", true},
		{"10.0.0.1", "smtp.example.net", true},
		{"10.0.0.1", "other.example.net", false},
		{"192.168.1.5", "", true},
		{"192.168.1.64", "", false},
		{"192.168.1.129", "", false},
		{"192.168.1.132", "", true},
		{"::ffff:192.168.1.5", "", true},
		{"2001:db8::1", "unknown", true},
		{"2001:db8::99", "", false},
		{"2001:db8::fff1", "", false},
		{"2001:db9::1", "", false},
	}
	for _, tc := range tests {
		if got := h.Match(netip.MustParseAddr(tc.ip), tc.name); got != tc.want {
			t.Errorf("Match(%s, %q) = %v, want %v", tc.ip, tc.name, got, tc.want)
		}
	}
	if _, err := ParseHostList([]string{"not a host!"}); err == nil {
		t.Error("junk accepted")
	}
}

func signingMsg(from string) *mailmsg.Message {
	return &mailmsg.Message{Header: []mailmsg.Field{
		{Name: "From", Value: " " + from},
		{Name: "Date", Value: " Tue, 22 Dec 2009 13:04:12 -0800"},
		{Name: "Subject", Value: " Signing test"},
	}, Body: []byte("This is a test!\r\n")}
}

var localEnv = &mailmsg.Envelope{ClientAddr: netip.MustParseAddr("127.0.0.1"), ClientName: "localhost"}

// TestOpenDKIMSigningTables runs the signing expectations of the upstream
// t-sign-* scripts against their configs.
func TestOpenDKIMSigningTables(t *testing.T) {
	dir := filepath.Join(suiteDir(t, "opendkim"), "tests")
	pub := loadPubkeys(t, filepath.Join(dir, "pubkeys"))
	pub["test._domainkey.example.org"] = pub["test._domainkey.example.com"]
	tests := []struct {
		conf, from string
		want       []string // per signature: substrings
	}{
		{"t-sign-ss.conf", "user@example.com", []string{"d=example.com;", "s=test;", "c=simple/simple;", "h=From:Date:Subject;", "bh=3VWGQGY+cSNYd1MGM+X6hRXU0stl8JCaQtl4mbX/j2I="}},
		{"t-sign-ss-all.conf", "user@example.org", []string{"d=example.org;"}},
		{"t-sign-ss-x.conf", "user@example.com", []string{"x="}},
		{"t-sign-rs.conf", "user@example.com", []string{"c=relaxed/simple;"}},
		{"t-sign-rs-tables.conf", "user@example.com", []string{"d=example.com;"}},
		{"t-sign-rs-tables.conf", "user2@example.com", []string{"i=signer@example.com;"}},
		{"t-sign-rs-tables.conf", "user3@example.com", []string{"i=signer@foo.example.com;"}},
		{"t-sign-rs-tables-token.conf", "user@example.com", []string{"d=example.com;"}},
		{"t-sign-rs-multiple.conf", "user@example.com", []string{"d=example.com;", "d=example.net;"}},
	}
	for _, tc := range tests {
		opts, _, err := LoadOpenDKIMConf(filepath.Join(dir, tc.conf))
		if err != nil {
			t.Fatalf("%s: %v", tc.conf, err)
		}
		opts.KeyCheck = KeyCheckOff
		s, err := NewSigner(opts)
		if err != nil {
			t.Fatal(err)
		}
		m := signingMsg(tc.from)
		reqs := s.ShouldSign(localEnv, m)
		fields, err := s.Sign(context.Background(), m, reqs)
		if err != nil {
			t.Errorf("%s: %v", tc.conf, err)
		}
		all := ""
		for _, f := range fields {
			all += mailmsg.Unfold(f.Value) + "\n"
		}
		for _, w := range tc.want {
			if !strings.Contains(all, w) {
				t.Errorf("%s from %s: signatures %q lack %q", tc.conf, tc.from, all, w)
			}
		}
		if strings.Contains(all, " l=") {
			t.Errorf("%s: l= written", tc.conf)
		}
		// The upstream key is published in pubkeys for example.com only.
		if res := NewVerifier(pub, VerifyOptions{}).Verify(context.Background(), prepend(m, fields...)); len(res) == 0 || res[len(res)-1].Status != StatusPass && res[0].Status != StatusPass {
			t.Errorf("%s: own verification %+v", tc.conf, res)
		}
	}
}

func loadPubkeys(t *testing.T, path string) StaticResolver {
	r, err := LoadTestPublicKeys(path)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func TestShouldSignOrigin(t *testing.T) {
	dir := filepath.Join(suiteDir(t, "opendkim"), "tests")
	opts, _, err := LoadOpenDKIMConf(filepath.Join(dir, "t-sign-ss.conf"))
	if err != nil {
		t.Fatal(err)
	}
	opts.MTA = []string{"ORIGINATING"}
	s, _ := NewSigner(opts)
	ext := netip.MustParseAddr("192.0.2.1")
	tests := []struct {
		name string
		env  *mailmsg.Envelope
		from string
		want bool
	}{
		{"local host", localEnv, "user@example.com", true},
		{"external", &mailmsg.Envelope{ClientAddr: ext}, "user@example.com", false},
		{"authenticated", &mailmsg.Envelope{ClientAddr: ext, AuthUser: "u"}, "user@example.com", true},
		{"sendmail", &mailmsg.Envelope{Local: true}, "user@example.com", true},
		{"submission daemon", &mailmsg.Envelope{ClientAddr: ext, DaemonName: "originating"}, "user@example.com", true},
		{"other domain", localEnv, "user@example.org", false},
		{"subdomain without SubDomains", localEnv, "user@sub.example.com", false},
		{"display name", localEnv, `"Üser, Jr" <user@EXAMPLE.com>`, true},
		{"two authors", localEnv, "a@example.com, b@example.com", false},
		{"no address", localEnv, "undisclosed", false},
	}
	for _, tc := range tests {
		got := s.ShouldSign(tc.env, signingMsg(tc.from)) != nil
		if got != tc.want {
			t.Errorf("%s: ShouldSign = %v, want %v", tc.name, got, tc.want)
		}
	}
	nofrom := parseMessage(t, readFile(t, filepath.Join(suiteDir(t, "dkim"), "dkimpy-data", "test_nofrom.message")))
	if s.ShouldSign(localEnv, nofrom) != nil {
		t.Error("message without From: would be signed")
	}
	opts.SubDomains = true
	s, _ = NewSigner(opts)
	if reqs := s.ShouldSign(localEnv, signingMsg("user@sub.example.com")); len(reqs) != 1 || reqs[0].Domain != "example.com" {
		t.Errorf("SubDomains: %+v, want d=example.com", reqs)
	}
	opts.PeerList, _ = ParseHostList([]string{"192.0.2.0/24"})
	if !opts.IsPeer(&mailmsg.Envelope{ClientAddr: netip.MustParseAddr("192.0.2.7")}) || opts.IsPeer(localEnv) {
		t.Error("IsPeer")
	}
}

func TestWildcard(t *testing.T) {
	tests := []struct {
		p, s string
		want bool
	}{
		{"*@example.com", "user@example.com", true},
		{"*@example.com", "user@sub.example.com", false},
		{"*@*.example.com", "user@sub.example.com", true},
		{"*", "", true},
		{"a*b*c", "aXXbYYc", true},
		{"a*b*c", "aXXbYY", false},
		{"USER@*", "user@x", true},
	}
	for _, tc := range tests {
		if got := wildcardMatch(tc.p, tc.s); got != tc.want {
			t.Errorf("wildcardMatch(%q, %q) = %v, want %v", tc.p, tc.s, got, tc.want)
		}
	}
}

func TestMissingKeyPassesUnsigned(t *testing.T) {
	opts := DefaultOptions()
	opts.Domains, opts.Selector, opts.KeyFile = []string{"example.com"}, "s", filepath.Join(t.TempDir(), "missing.private")
	s, err := NewSigner(opts)
	if err != nil {
		t.Fatal(err)
	}
	m := signingMsg("user@example.com")
	reqs := s.ShouldSign(localEnv, m)
	if len(reqs) != 1 {
		t.Fatalf("reqs = %v", reqs)
	}
	fields, err := s.Sign(context.Background(), m, reqs)
	if err == nil || len(fields) != 0 {
		t.Errorf("Sign with a missing key = %v, %v; want no field and an error", fields, err)
	}
	// Reload picks up the key once it exists.
	k, _ := GenerateKey("ed25519", 0)
	pemData, _ := MarshalPrivateKey(k)
	if err := os.WriteFile(opts.KeyFile, pemData, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := s.Reload(); err != nil {
		t.Fatal(err)
	}
	if fields, err := s.Sign(context.Background(), m, reqs); err != nil || len(fields) != 1 {
		t.Errorf("after Reload: %v, %v", fields, err)
	}
}
