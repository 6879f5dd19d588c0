package spamd

import (
	"fmt"

	"github.com/prometheus/client_golang/prometheus"
)

type metrics struct {
	requests   *prometheus.CounterVec   // command, code
	duration   *prometheus.HistogramVec // command
	verdicts   *prometheus.CounterVec   // result: spam, ham
	connsOpen  prometheus.Gauge
	connsTotal prometheus.Counter
	panics     prometheus.Counter
}

func newMetrics(reg prometheus.Registerer) (*metrics, error) {
	m := &metrics{
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "gomilter_spamd_requests_total", Help: "spamd requests by command and reply status code.",
		}, []string{"command", "code"}),
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "gomilter_spamd_request_duration_seconds", Help: "Time from request read to reply written.",
			Buckets: prometheus.ExponentialBuckets(0.001, 4, 8),
		}, []string{"command"}),
		verdicts: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "gomilter_spamd_verdicts_total", Help: "Scored messages by verdict.",
		}, []string{"result"}),
		connsOpen: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "gomilter_spamd_connections_active", Help: "Connections being served.",
		}),
		connsTotal: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "gomilter_spamd_connections_total", Help: "Connections accepted.",
		}),
		panics: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "gomilter_spamd_panics_total", Help: "Panics recovered while serving a connection.",
		}),
	}
	if reg == nil {
		return m, nil
	}
	for _, c := range []prometheus.Collector{m.requests, m.duration, m.verdicts, m.connsOpen, m.connsTotal, m.panics} {
		if err := reg.Register(c); err != nil {
			return nil, fmt.Errorf("spamd: registering metrics: %w", err)
		}
	}
	return m, nil
}
