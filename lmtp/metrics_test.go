package lmtp

import (
	"context"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil/promlint"
)

func TestMetricNames(t *testing.T) {
	reg := prometheus.NewRegistry()
	s, err := NewServer(BackendFunc(func(context.Context, string) (User, error) { return User{}, ErrUserNotFound }), Options{Registerer: reg})
	if err != nil {
		t.Fatal(err)
	}
	s.metrics.deliveries.WithLabelValues(resultSaved).Inc()
	s.metrics.sieve.WithLabelValues("keep").Inc()
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	problems, err := promlint.NewWithMetricFamilies(mfs).Lint()
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range problems {
		t.Errorf("metric %s: %s", p.Metric, p.Text)
	}
	// A second server on the same registry (config reload) shares them.
	if _, err := NewServer(BackendFunc(func(context.Context, string) (User, error) { return User{}, ErrUserNotFound }), Options{Registerer: reg}); err != nil {
		t.Errorf("re-registration: %v", err)
	}
}
