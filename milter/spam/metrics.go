package spam

import (
	"errors"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// metrics are the spam-check counters. A nil *metrics counts nothing.
type metrics struct {
	checks   *prometheus.CounterVec
	duration prometheus.Histogram
	panics   prometheus.Counter
}

func newMetrics(reg prometheus.Registerer) (*metrics, error) {
	if reg == nil {
		return nil, nil
	}
	m := &metrics{
		checks: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "gomilter_spam_checks_total",
			Help: "Messages scored, by verdict (spam, ham, error)."}, []string{"verdict"}),
		duration: prometheus.NewHistogram(prometheus.HistogramOpts{Name: "gomilter_spam_check_duration_seconds",
			Help:    "Time to score one message.",
			Buckets: []float64{.001, .0025, .005, .01, .025, .05, .1, .25, .5, 1}}),
		panics: prometheus.NewCounter(prometheus.CounterOpts{Name: "gomilter_spam_panics_total",
			Help: "Recovered panics while scoring a message."}),
	}
	var err error
	if m.checks, err = register(reg, m.checks); err != nil {
		return nil, err
	}
	if m.duration, err = register(reg, m.duration); err != nil {
		return nil, err
	}
	if m.panics, err = register(reg, m.panics); err != nil {
		return nil, err
	}
	return m, nil
}

// register adds c to reg; when a reload builds a new Engine on the same
// registry, the collector already registered keeps counting.
func register[C prometheus.Collector](reg prometheus.Registerer, c C) (C, error) {
	err := reg.Register(c)
	if err == nil {
		return c, nil
	}
	var are prometheus.AlreadyRegisteredError
	if errors.As(err, &are) {
		if old, ok := are.ExistingCollector.(C); ok {
			return old, nil
		}
	}
	return c, err
}

func (m *metrics) observe(res *Result, d time.Duration) {
	if m == nil {
		return
	}
	verdict := "ham"
	switch {
	case res.Err != nil:
		verdict = "error"
		m.panics.Inc()
	case res.IsSpam:
		verdict = "spam"
	}
	m.checks.WithLabelValues(verdict).Inc()
	m.duration.Observe(d.Seconds())
}
