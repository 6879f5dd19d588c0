package passwd

import (
	"bufio"
	"os"
	"os/exec"
	"strings"
	"testing"

	"github.com/gomilter/gomilter/internal/testenv"
)

type fixture struct{ password, user, stored string }

func loadFixtures(t *testing.T) []fixture {
	t.Helper()
	f, err := os.Open("testdata/doveadm.tsv")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var out []fixture
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if strings.HasPrefix(sc.Text(), "#") {
			continue
		}
		p := strings.Split(sc.Text(), "\t")
		if len(p) != 3 {
			t.Fatalf("bad fixture line %q", sc.Text())
		}
		out = append(out, fixture{p[0], p[1], p[2]})
	}
	return out
}

// TestDoveadmFixtures verifies every hash Debian's doveadm made, and checks
// that a wrong password and a wrong user (for user-bound schemes) fail.
func TestDoveadmFixtures(t *testing.T) {
	seen := map[string]bool{}
	for _, fx := range loadFixtures(t) {
		t.Run(fx.stored[:strings.IndexByte(fx.stored, '}')+1], func(t *testing.T) {
			h, err := Parse(fx.stored, "")
			if err != nil {
				t.Fatalf("Parse(%q) = %v", fx.stored, err)
			}
			seen[h.Scheme] = true
			if ok, err := h.Verify(fx.password, fx.user); !ok || err != nil {
				t.Errorf("Verify(%q, %q) = %v, %v; want true", fx.stored, fx.password, ok, err)
			}
			if ok, err := h.Verify("x"+fx.password, fx.user); ok || err != nil {
				t.Errorf("Verify(%q, wrong) = %v, %v; want false, nil", fx.stored, ok, err)
			}
		})
	}
	for _, s := range Schemes() {
		if !seen[s] {
			t.Errorf("scheme %s has no doveadm fixture", s)
		}
	}
}

func TestParse(t *testing.T) {
	tests := []struct {
		stored, def, scheme string
		enc                 Encoding
		wantErr             bool
	}{
		{"{SHA512-CRYPT}$6$x$y", "", "SHA512-CRYPT", EncNone, false},
		{"{sha512-crypt}$6$x$y", "", "SHA512-CRYPT", EncNone, false},
		{"$1$abc$def", "SHA512-CRYPT", "MD5-CRYPT", EncNone, false},
		{"$1$abc$def", "PLAIN", "MD5-CRYPT", EncNone, false},
		{"5f4dcc3b5aa765d61d8327deb882cf99", "", "PLAIN-MD5", EncNone, false},
		{"secret", "PLAIN", "PLAIN", EncNone, false},
		{"{MD5}$1$abc$def", "", "MD5-CRYPT", EncNone, false},
		{"{CLEARTEXT}x", "", "PLAIN", EncNone, false},
		{"{SHA.hex}aa", "", "SHA", EncHex, false},
		{"{SSHA.BASE64}aa", "", "SSHA", EncBase64, false},
		{"{SHA.zip}aa", "", "", EncNone, true},
		{"{NOPE}aa", "", "", EncNone, true},
		{"{PLAIN", "", "", EncNone, true},
	}
	for _, tc := range tests {
		h, err := Parse(tc.stored, tc.def)
		if (err != nil) != tc.wantErr || h.Scheme != tc.scheme || h.Encoding != tc.enc {
			t.Errorf("Parse(%q, %q) = %+v, %v; want %s/%d err=%v", tc.stored, tc.def, h, err,
				tc.scheme, tc.enc, tc.wantErr)
		}
	}
}

// TestBarePostfixAdminMD5Crypt: PostfixAdmin's default stores "$1$..."
// without a prefix; it must verify whatever default_pass_scheme says.
func TestBarePostfixAdminMD5Crypt(t *testing.T) {
	for _, fx := range loadFixtures(t) {
		if !strings.HasPrefix(fx.stored, "{MD5-CRYPT}") {
			continue
		}
		bare := strings.TrimPrefix(fx.stored, "{MD5-CRYPT}")
		for _, def := range []string{"", "PLAIN", "SHA512-CRYPT", "MD5-CRYPT"} {
			if ok, err := Verify(bare, def, fx.password, ""); !ok || err != nil {
				t.Errorf("Verify(%q, def %q) = %v, %v", bare, def, ok, err)
			}
		}
	}
}

func TestRoundTrip(t *testing.T) {
	for _, s := range append(Schemes(), "SHA512.hex", "SSHA.b64", "PLAIN-MD5.b64") {
		t.Run(s, func(t *testing.T) {
			stored, err := Generate(s, "pässword 1", "bob@example.net", GenOptions{})
			if err != nil {
				t.Fatal(err)
			}
			if ok, err := Verify(stored, "", "pässword 1", "bob@example.net"); !ok || err != nil {
				t.Errorf("Verify(%q) = %v, %v", stored, ok, err)
			}
			if ok, _ := Verify(stored, "", "Pässword 1", "bob@example.net"); ok {
				t.Errorf("Verify(%q) with wrong password = true", stored)
			}
		})
	}
}

// TestDoveadmVerifiesOurs asks the real Dovecot to check our hashes.
func TestDoveadmVerifiesOurs(t *testing.T) {
	testenv.SkipShort(t, "runs doveadm per scheme")
	doveadm := testenv.LookPath(t, "doveadm")
	for _, s := range Schemes() {
		stored, err := Generate(s, "Tr0ub4dor&3", "carol@example.com", GenOptions{})
		if err != nil {
			t.Fatal(err)
		}
		out, err := exec.Command(doveadm, "pw", "-t", stored, "-p", "Tr0ub4dor&3",
			"-u", "carol@example.com").CombinedOutput()
		if err != nil || !strings.Contains(string(out), "(verified)") {
			t.Errorf("doveadm pw -t %q: %v: %s", stored, err, out)
		}
	}
}

// TestDoveadmLive generates fresh hashes with doveadm (random salts differ
// from the fixtures) and verifies them.
func TestDoveadmLive(t *testing.T) {
	testenv.SkipShort(t, "runs doveadm per scheme")
	doveadm := testenv.LookPath(t, "doveadm")
	for _, s := range Schemes() {
		out, err := exec.Command(doveadm, "pw", "-s", s, "-p", "x y:z", "-u", "d@e.f").Output()
		if err != nil {
			t.Fatalf("doveadm pw -s %s: %v", s, err)
		}
		stored := strings.TrimSpace(string(out))
		if ok, err := Verify(stored, "", "x y:z", "d@e.f"); !ok || err != nil {
			t.Errorf("Verify(%q) = %v, %v", stored, ok, err)
		}
	}
}

func TestCRAMMD5Digest(t *testing.T) {
	// RFC 2195 §2 example: tanstaaftanstaaf over the given challenge.
	secret := CRAMMD5Secret("tanstaaftanstaaf")
	d, err := CRAMMD5Digest(secret, []byte("<1896.697170952@postoffice.reston.mci.net>"))
	if err != nil {
		t.Fatal(err)
	}
	const want = "b913a602c7eda7a495b4e6e7334d3890"
	if got := strings.ToLower(hexs(d)); got != want {
		t.Errorf("CRAMMD5Digest = %s, want %s", got, want)
	}
}

func hexs(b []byte) string {
	const digits = "0123456789abcdef"
	var s strings.Builder
	for _, c := range b {
		s.WriteByte(digits[c>>4])
		s.WriteByte(digits[c&15])
	}
	return s.String()
}

func TestSCRAMKeysFromPlainAndStored(t *testing.T) {
	h, _ := Parse("{PLAIN}pencil", "")
	if _, ok := h.SCRAMKeys("SCRAM-SHA-1"); !ok {
		t.Error("PLAIN should serve SCRAM-SHA-1")
	}
	h2, _ := Parse("{SHA512-CRYPT}$6$x$y", "")
	if _, ok := h2.SCRAMKeys("SCRAM-SHA-256"); ok {
		t.Error("SHA512-CRYPT cannot serve SCRAM")
	}
	if _, ok := h2.CRAMMD5Secret(); ok {
		t.Error("SHA512-CRYPT cannot serve CRAM-MD5")
	}
}
