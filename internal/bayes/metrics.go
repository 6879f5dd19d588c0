package bayes

import (
	"fmt"

	"github.com/prometheus/client_golang/prometheus"
)

// metrics are the gomilter_bayes_* series; nil fields (no Registerer) are
// skipped.
type metrics struct {
	learned  *prometheus.CounterVec // class: spam, ham, forget
	scored   *prometheus.CounterVec // rule: BAYES_xx or "none"
	duration prometheus.Histogram
}

func newMetrics(reg prometheus.Registerer) (*metrics, error) {
	if reg == nil {
		return nil, nil
	}
	m := &metrics{
		learned: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "gomilter_bayes_learned_messages_total", Help: "Messages learned (or forgotten) that changed the database.",
		}, []string{"class"}),
		scored: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "gomilter_bayes_scored_messages_total", Help: "Messages scored, by the BAYES_xx rule they fire (none: no answer).",
		}, []string{"rule"}),
		duration: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name: "gomilter_bayes_score_duration_seconds", Help: "Time to tokenize and score one message.",
			Buckets: prometheus.ExponentialBuckets(0.0005, 4, 8),
		}),
	}
	for _, c := range []prometheus.Collector{m.learned, m.scored, m.duration} {
		if err := reg.Register(c); err != nil {
			return nil, fmt.Errorf("bayes: registering metrics: %w", err)
		}
	}
	return m, nil
}

func (m *metrics) learn(class string, changed bool) {
	if m != nil && changed {
		m.learned.WithLabelValues(class).Inc()
	}
}

func (m *metrics) score(prob float64, ok bool, seconds float64) {
	if m == nil {
		return
	}
	rule := "none"
	if ok {
		rule = Rule(prob)
	}
	m.scored.WithLabelValues(rule).Inc()
	m.duration.Observe(seconds)
}
