package bayes

import (
	"context"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	"github.com/prometheus/client_golang/prometheus/testutil/promlint"
)

func TestMetrics(t *testing.T) {
	reg := prometheus.NewRegistry()
	c, err := New(Options{Store: NewMemoryStore(), MinSpam: 1, MinHam: 1, Registerer: reg})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	c.Learn(ctx, ParseMessage(mkMsg("a@x", "casino lottery")), true, "")
	c.Learn(ctx, ParseMessage(mkMsg("a@x", "casino lottery")), true, "") // no change: not counted
	c.Learn(ctx, ParseMessage(mkMsg("b@x", "agenda minutes")), false, "")
	c.Score(ctx, ParseMessage(mkMsg("c@x", "casino")), "")
	if n := testutil.ToFloat64(c.m.learned.WithLabelValues("spam")); n != 1 {
		t.Errorf("learned spam = %v, want 1", n)
	}
	if n := testutil.CollectAndCount(c.m.scored); n != 1 {
		t.Errorf("scored series = %d, want 1", n)
	}
	mfs, _ := reg.Gather()
	if problems, err := promlint.NewWithMetricFamilies(mfs).Lint(); err != nil || len(problems) > 0 {
		t.Errorf("promlint: %v %v", problems, err)
	}
	if _, err := New(Options{Store: NewMemoryStore(), Registerer: reg}); err == nil {
		t.Error("registering the metrics twice did not fail")
	}
}
