package dns_test

import (
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/gomilter/gomilter/internal/dns"
	"github.com/gomilter/gomilter/internal/dnstest"
)

func TestMetrics(t *testing.T) {
	s := dnstest.New(t)
	s.AddTXT("example.org", "x")
	reg := prometheus.NewPedanticRegistry()
	r := newResolver(t, s, dns.Options{Registerer: reg})
	// A second resolver on the same registry shares the collectors.
	r2 := newResolver(t, s, dns.Options{Registerer: reg})

	lookupCount(t, r, s, "example.org")
	lookupCount(t, r, s, "example.org") // cache hit
	lookupCount(t, r, s, "nope.example.org")
	lookupCount(t, r2, s, "example.org")

	want := `
# HELP gomilter_dns_cache_hits_total DNS lookups answered from the cache.
# TYPE gomilter_dns_cache_hits_total counter
gomilter_dns_cache_hits_total 1
# HELP gomilter_dns_queries_total Upstream DNS resolutions (cache misses), by query type and result.
# TYPE gomilter_dns_queries_total counter
gomilter_dns_queries_total{qtype="TXT",result="nxdomain"} 1
gomilter_dns_queries_total{qtype="TXT",result="success"} 2
`
	err := testutil.GatherAndCompare(reg, strings.NewReader(want),
		"gomilter_dns_cache_hits_total", "gomilter_dns_queries_total")
	if err != nil {
		t.Error(err)
	}
	if n := testutil.CollectAndCount(reg, "gomilter_dns_query_duration_seconds"); n != 1 {
		t.Errorf("duration histogram count = %d series, want 1", n)
	}
	problems, err := testutil.GatherAndLint(reg)
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range problems {
		t.Errorf("promlint: %s: %s", p.Metric, p.Text)
	}
}
