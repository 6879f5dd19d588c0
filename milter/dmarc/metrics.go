package dmarc

import (
	"errors"

	"github.com/prometheus/client_golang/prometheus"
)

// Metrics counts DMARC outcomes. Create it once per process with the
// registerer from cmd and call Observe after Decide.
type Metrics struct {
	results *prometheus.CounterVec
	actions *prometheus.CounterVec
}

// NewMetrics registers gomilter_dmarc_results_total{result,policy} and
// gomilter_dmarc_actions_total{action,override}; a nil registerer gives
// working but unregistered counters.
func NewMetrics(reg prometheus.Registerer) (*Metrics, error) {
	m := &Metrics{
		results: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "gomilter_dmarc_results_total",
			Help: "DMARC evaluations by result (pass, fail, none, temperror, permerror) and requested policy.",
		}, []string{"result", "policy"}),
		actions: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "gomilter_dmarc_actions_total",
			Help: "Local DMARC decisions by action (accept, quarantine, reject) and override reason.",
		}, []string{"action", "override"}),
	}
	if reg == nil {
		return m, nil
	}
	for _, c := range []prometheus.Collector{m.results, m.actions} {
		if err := reg.Register(c); err != nil {
			var are prometheus.AlreadyRegisteredError
			if !errors.As(err, &are) {
				return nil, err
			}
		}
	}
	return m, nil
}

// Observe counts one evaluated message.
func (m *Metrics) Observe(res Result, d Decision) {
	if m == nil {
		return
	}
	m.results.WithLabelValues(res.Result, string(res.Policy)).Inc()
	m.actions.WithLabelValues(d.Action.String(), d.Override).Inc()
}
