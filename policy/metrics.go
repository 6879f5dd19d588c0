package policy

import (
	"errors"

	"github.com/prometheus/client_golang/prometheus"
)

type metrics struct {
	requests   *prometheus.CounterVec
	duration   prometheus.Histogram
	connsTotal prometheus.Counter
	connsOpen  prometheus.Gauge
	malformed  prometheus.Counter
	panics     prometheus.Counter
}

func newMetrics(reg prometheus.Registerer) (*metrics, error) {
	m := &metrics{
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "gomilter_policy_requests_total",
			Help: "Policy requests answered, by action verb (error = handler failure).",
		}, []string{"result"}),
		duration: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name:    "gomilter_policy_request_duration_seconds",
			Help:    "Time from a complete request to its reply.",
			Buckets: []float64{.0001, .0005, .001, .005, .01, .05, .1, .5, 1, 5, 30},
		}),
		connsTotal: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "gomilter_policy_connections_total",
			Help: "Connections accepted.",
		}),
		connsOpen: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "gomilter_policy_connections_active",
			Help: "Connections currently open.",
		}),
		malformed: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "gomilter_policy_malformed_requests_total",
			Help: "Requests rejected as malformed (connection closed without reply).",
		}),
		panics: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "gomilter_policy_panics_total",
			Help: "Handler panics recovered.",
		}),
	}
	if reg == nil {
		return m, nil
	}
	for _, c := range []prometheus.Collector{m.requests, m.duration, m.connsTotal, m.connsOpen, m.malformed, m.panics} {
		if err := reg.Register(c); err != nil {
			var are prometheus.AlreadyRegisteredError
			if errors.As(err, &are) {
				return nil, errors.New("policy: metrics already registered; give each Server its own Registerer")
			}
			return nil, err
		}
	}
	return m, nil
}
