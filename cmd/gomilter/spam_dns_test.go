package main

import (
	"bytes"
	"context"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/gomilter/gomilter/internal/config"
	"github.com/gomilter/gomilter/internal/dns"
	"github.com/gomilter/gomilter/internal/dnstest"
	"github.com/prometheus/client_golang/prometheus"
)

const (
	netRuleCF = "header RCVD_IN_T eval:check_rbl('t-lastexternal', 'bl.test.')\ntflags RCVD_IN_T net\nscore RCVD_IN_T 0 2.5 0 2.5\n"
	netMsg    = "Received: from o.example (o.example [81.2.69.160])\n\tby mx.example.org (Postfix) with ESMTP id 1; Mon, 1 Jan 2024 10:00:00 +0000\n" +
		"Subject: hi\n\nhello\n"
)

// TestSpamCheckDNS: network tests run only with -dns, against that server.
func TestSpamCheckDNS(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "10_t.cf"), []byte(netRuleCF), 0o644); err != nil {
		t.Fatal(err)
	}
	file := filepath.Join(t.TempDir(), "m.eml")
	if err := os.WriteFile(file, []byte(netMsg), 0o644); err != nil {
		t.Fatal(err)
	}
	srv := dnstest.New(t)
	srv.AddA("160.69.2.81.bl.test", "127.0.0.2")
	var out, errb bytes.Buffer
	if code := runSpam([]string{"check", "-rules", dir, "-site", "-", file}, &out, &errb); code != 0 {
		t.Fatalf("without -dns: exit %d, stderr %q", code, errb.String())
	}
	if strings.Contains(out.String(), "RCVD_IN_T") || srv.Queries() != 0 {
		t.Errorf("without -dns: %q after %d queries, want no network test", out.String(), srv.Queries())
	}
	out.Reset()
	if code := runSpam([]string{"check", "-rules", dir, "-site", "-", "-dns", srv.Addr(), file}, &out, &errb); code != 0 {
		t.Fatalf("with -dns: exit %d, stderr %q", code, errb.String())
	}
	if !strings.Contains(out.String(), "\t2.500\t") || !strings.Contains(out.String(), "RCVD_IN_T") {
		t.Errorf("with -dns: %q, want RCVD_IN_T scoring 2.5", out.String())
	}
}

// TestMilterSpamNetworkTests: milter.spam.network_tests hands the shared
// resolver to the engine, and flipping it reloads the engine.
func TestMilterSpamNetworkTests(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "10_t.cf"), []byte(netRuleCF), 0o644); err != nil {
		t.Fatal(err)
	}
	srv := dnstest.New(t)
	srv.AddA("160.69.2.81.bl.test", "127.0.0.2")
	r, err := dns.New(dns.Options{Servers: []string{srv.Addr()}})
	if err != nil {
		t.Fatal(err)
	}
	shared := &sharedDeps{resolver: r}
	e := &env{logger: slog.New(slog.DiscardHandler), reg: prometheus.NewRegistry(), shared: shared}
	cfg := config.Default()
	cfg.Milter.Spam.Enabled, cfg.Milter.Spam.RuleDirs, cfg.Milter.Spam.SiteDir = true, []string{dir}, "-"
	for _, on := range []bool{true, false} {
		cfg.Milter.Spam.NetworkTests = on
		eng, err := shared.spamEngine(cfg, e)
		if err != nil {
			t.Fatal(err)
		}
		res := eng.CheckBytes(context.Background(), nil, []byte(netMsg))
		if hit := slices.Contains(res.Rules, "RCVD_IN_T"); hit != on {
			t.Errorf("network_tests %v: rules %v", on, res.Rules)
		}
	}
}
