package milter

import (
	"errors"

	"github.com/prometheus/client_golang/prometheus"
)

// metrics are the server's Prometheus collectors, registered on
// Options.Registerer (nothing global).
type metrics struct {
	connections    prometheus.Counter
	active         prometheus.Gauge
	messages       *prometheus.CounterVec
	duration       prometheus.Histogram
	panics         prometheus.Counter
	protocolErrors prometheus.Counter
}

func newMetrics(reg prometheus.Registerer) (*metrics, error) {
	m := &metrics{
		connections: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "gomilter_milter_connections_total",
			Help: "Milter connections accepted from the MTA.",
		}),
		active: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "gomilter_milter_connections_active",
			Help: "Milter connections currently open.",
		}),
		messages: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "gomilter_milter_messages_total",
			Help: "Transactions by final decision (accept, reject, tempfail, discard, quarantine, aborted).",
		}, []string{"result"}),
		duration: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name:    "gomilter_milter_message_duration_seconds",
			Help:    "Time from MAIL to the final decision of a transaction.",
			Buckets: []float64{.001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 30},
		}),
		panics: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "gomilter_milter_panics_total",
			Help: "Panics recovered in Milter callbacks (answered with tempfail).",
		}),
		protocolErrors: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "gomilter_milter_protocol_errors_total",
			Help: "Connections closed because the MTA sent a malformed or unexpected packet.",
		}),
	}
	for _, r := range []string{"accept", "reject", "tempfail", "discard", "quarantine", "aborted"} {
		m.messages.WithLabelValues(r)
	}
	if reg == nil {
		return m, nil
	}
	for _, c := range []prometheus.Collector{m.connections, m.active, m.messages, m.duration, m.panics, m.protocolErrors} {
		if err := reg.Register(c); err != nil {
			var are prometheus.AlreadyRegisteredError
			if errors.As(err, &are) {
				return nil, errors.New("milter: metrics already registered on this Registerer (one Server per registry)")
			}
			return nil, err
		}
	}
	return m, nil
}
