package dmarc

import (
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	"github.com/prometheus/client_golang/prometheus/testutil/promlint"
)

func TestMetrics(t *testing.T) {
	reg := prometheus.NewPedanticRegistry()
	m, err := NewMetrics(reg)
	if err != nil {
		t.Fatal(err)
	}
	m.Observe(Result{Result: ResultFail, Policy: PolicyReject}, Decision{Action: ActionReject})
	m.Observe(Result{Result: ResultPass, Policy: PolicyReject}, Decision{})
	if got := testutil.ToFloat64(m.actions.WithLabelValues("reject", "")); got != 1 {
		t.Errorf("reject count = %v", got)
	}
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	problems, err := promlint.NewWithMetricFamilies(mfs).Lint()
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range problems {
		t.Errorf("promlint: %s: %s", p.Metric, p.Text)
	}
	var nilM *Metrics
	nilM.Observe(Result{}, Decision{}) // must not panic
}
