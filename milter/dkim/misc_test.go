package dkim

import (
	"context"
	"crypto"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	"github.com/prometheus/client_golang/prometheus/testutil/promlint"
	dto "github.com/prometheus/client_model/go"

	"github.com/gomilter/gomilter/internal/mailmsg"
)

func TestFindAR(t *testing.T) {
	h := []mailmsg.Field{
		{Name: "Authentication-Results", Value: " mx.example.org; dkim=pass header.d=a.example"},
		{Name: "Authentication-Results", Value: " other.example; spf=pass"},
		{Name: "authentication-results", Value: " (comment) MX.EXAMPLE.ORG. ; dkim=pass"},
		{Name: "Authentication-Results", Value: " mx.example.org ; !!junk((("},
		{Name: "Authentication-Results", Value: " mx.example.org"},
		{Name: "Subject", Value: " mx.example.org"},
		{Name: "Authentication-Results", Value: " mx.example.org.evil; dkim=pass"},
	}
	got := FindAR(h, "mx.example.org")
	want := []int{0, 2, 3, 4}
	if len(got) != len(want) {
		t.Fatalf("FindAR = %v, want %v", got, want)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("FindAR = %v, want %v", got, want)
		}
	}
}

func TestAction(t *testing.T) {
	o := DefaultOptions()
	o.OnBadSignature = ActionReject
	tests := []struct {
		res  []Result
		want Action
	}{
		{nil, ActionAccept},
		{[]Result{{Status: StatusFail}}, ActionReject},
		{[]Result{{Status: StatusFail, Testing: true}}, ActionAccept},
		{[]Result{{Status: StatusFail}, {Status: StatusPass}}, ActionAccept},
		{[]Result{{Status: StatusTempError}}, ActionTempfail},
		{[]Result{{Status: StatusPermError}}, ActionAccept},
	}
	for _, tc := range tests {
		if got := o.Action(tc.res); got != tc.want {
			t.Errorf("Action(%+v) = %v, want %v", tc.res, got, tc.want)
		}
	}
	if a, err := ParseAction("r"); err != nil || a != ActionReject {
		t.Errorf("ParseAction(r) = %v, %v", a, err)
	}
	if _, err := ParseAction("bounce"); err == nil {
		t.Error("ParseAction(bounce) accepted")
	}
}

// TestKeyCheck: a key whose DNS record holds another key is logged and
// counted; per policy the message is signed anyway, not signed, or signed
// with the previous key that still matches DNS (rotation gone wrong).
func TestKeyCheck(t *testing.T) {
	dir := t.TempDir()
	oldKey, _ := GenerateKey("ed25519", 0)
	newKey, _ := GenerateKey("ed25519", 0)
	keyFile := filepath.Join(dir, "k.private")
	writeKey := func(k crypto.Signer) {
		p, _ := MarshalPrivateKey(k)
		if err := os.WriteFile(keyFile, p, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	oldRec, _ := KeyRecordText(oldKey.Public())
	dnsData := StaticResolver{"sel._domainkey.example.com": {oldRec}}
	for _, tc := range []struct {
		policy  KeyCheckPolicy
		signs   bool
		withOld bool
	}{{KeyCheckLog, true, false}, {KeyCheckDontSign, false, false}, {KeyCheckPrevious, true, true}} {
		writeKey(oldKey)
		reg := prometheus.NewRegistry()
		opts := DefaultOptions()
		opts.Domains, opts.Selector, opts.KeyFile = []string{"example.com"}, "sel", keyFile
		opts.Resolver, opts.KeyCheck, opts.Registerer = dnsData, tc.policy, reg
		s, err := NewSigner(opts)
		if err != nil {
			t.Fatal(err)
		}
		m := signingMsg("user@example.com")
		if f, err := s.Sign(context.Background(), m, s.ShouldSign(localEnv, m)); err != nil || len(f) != 1 {
			t.Fatalf("matching key: %v %v", f, err)
		}
		writeKey(newKey) // rotated on disk, DNS not updated
		if err := s.Reload(); err != nil {
			t.Fatal(err)
		}
		f, err := s.Sign(context.Background(), m, s.ShouldSign(localEnv, m))
		if (len(f) == 1) != tc.signs {
			t.Errorf("policy %d: %d fields, %v", tc.policy, len(f), err)
			continue
		}
		if tc.signs {
			res := NewVerifier(dnsData, VerifyOptions{}).Verify(context.Background(), prepend(m, f...))
			if (res[0].Status == StatusPass) != tc.withOld {
				t.Errorf("policy %d: verification %s", tc.policy, res[0].Status)
			}
		}
		if n := testutil.ToFloat64(s.metrics.keyChecks.WithLabelValues("mismatch")); n != 1 {
			t.Errorf("policy %d: mismatch counted %v times", tc.policy, n)
		}
	}
}

func TestMetricNames(t *testing.T) {
	reg := prometheus.NewRegistry()
	m, err := NewMetrics(reg)
	if err != nil {
		t.Fatal(err)
	}
	m.countVerify(StatusPass)
	m.signResult("signed")
	m.keyError("load")
	m.keyCheck("match")
	m2, err := NewMetrics(reg) // a reload registers again
	if err != nil || m2.verify != m.verify {
		t.Fatalf("second NewMetrics on the same registry: %v", err)
	}
	problems, err := promlint.NewWithMetricFamilies(mustGather(t, reg)).Lint()
	if err != nil || len(problems) > 0 {
		t.Errorf("promlint: %v %v", problems, err)
	}
}

func mustGather(t *testing.T, g prometheus.Gatherer) []*dto.MetricFamily {
	mfs, err := g.Gather()
	if err != nil {
		t.Fatal(err)
	}
	return mfs
}

// TestLargeMessage: a 20 MiB message is signed and verified without
// copying the body (allocations stay far below its size).
// Not parallel: it measures the process's allocations.
func TestLargeMessage(t *testing.T) {
	line := strings.Repeat("abcdefghij ", 9) + "\r\n"
	body := []byte(strings.Repeat(line, 20<<20/len(line)))
	m := signingMsg("user@example.com")
	m.Body = body
	key, _ := GenerateKey("ed25519", 0)
	rec, _ := KeyRecordText(key.Public())
	r := StaticResolver{"s._domainkey.example.com": {rec}}
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	signed := signWith(t, m, key, "example.com", "s", Relaxed, Relaxed)
	res := NewVerifier(r, VerifyOptions{}).Verify(context.Background(), signed)
	runtime.ReadMemStats(&after)
	if len(res) != 1 || res[0].Status != StatusPass {
		t.Fatalf("20 MiB: %+v", res)
	}
	if alloc := after.TotalAlloc - before.TotalAlloc; alloc > 2<<20 {
		t.Errorf("20 MiB message: %d bytes allocated, want < 2 MiB", alloc)
	}
}
