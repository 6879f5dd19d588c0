package main

import (
	"bytes"
	"os/exec"
	"strings"
	"testing"

	"github.com/gomilter/gomilter/internal/testenv"
)

func TestPwGenerateAndTest(t *testing.T) {
	var out, errb bytes.Buffer
	if code := dispatch([]string{"pw", "-s", "SHA512-CRYPT", "-p", "pa ss", "-V"}, &out, &errb); code != 0 {
		t.Fatalf("pw = %d: %s", code, errb.String())
	}
	hash := strings.TrimSuffix(strings.TrimSpace(out.String()), " (verified)")
	if !strings.HasPrefix(hash, "{SHA512-CRYPT}$6$") {
		t.Fatalf("pw output %q", out.String())
	}
	out.Reset()
	if code := dispatch([]string{"pw", "-t", hash, "-p", "pa ss"}, &out, &errb); code != 0 {
		t.Errorf("pw -t good = %d", code)
	}
	if code := dispatch([]string{"pw", "-t", hash, "-p", "wrong"}, &out, &errb); code != 1 {
		t.Errorf("pw -t bad = %d, want 1", code)
	}
	// The real Dovecot agrees.
	doveadm := testenv.LookPath(t, "doveadm")
	res, err := exec.Command(doveadm, "pw", "-t", hash, "-p", "pa ss").CombinedOutput()
	if err != nil || !strings.Contains(string(res), "(verified)") {
		t.Errorf("doveadm pw -t %s: %v %s", hash, err, res)
	}
}
