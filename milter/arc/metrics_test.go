package arc

import (
	"errors"
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
	m.ObserveVerify(Result{Status: StatusFail, Temporary: true})
	m.ObserveSeal(ErrChainFailed)
	m.ObserveSeal(errors.New("x"))
	if testutil.ToFloat64(m.verified.WithLabelValues("fail_temporary")) != 1 || testutil.ToFloat64(m.sealed.WithLabelValues("skipped")) != 1 {
		t.Errorf("counters did not move")
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
}
