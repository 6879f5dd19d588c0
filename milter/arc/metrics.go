package arc

import (
	"errors"

	"github.com/prometheus/client_golang/prometheus"
)

// Metrics counts chain validations and seals.
type Metrics struct {
	verified *prometheus.CounterVec
	sealed   *prometheus.CounterVec
}

// NewMetrics registers gomilter_arc_verifications_total{status} and
// gomilter_arc_seals_total{result}; a nil registerer gives working but
// unregistered counters.
func NewMetrics(reg prometheus.Registerer) (*Metrics, error) {
	m := &Metrics{
		verified: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "gomilter_arc_verifications_total",
			Help: "ARC chain validations by status (none, pass, fail, fail_temporary).",
		}, []string{"status"}),
		sealed: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "gomilter_arc_seals_total",
			Help: "ARC sets added (ok), refused because the chain had failed (skipped) or failed (error).",
		}, []string{"result"}),
	}
	if reg == nil {
		return m, nil
	}
	for _, c := range []prometheus.Collector{m.verified, m.sealed} {
		if err := reg.Register(c); err != nil {
			var are prometheus.AlreadyRegisteredError
			if !errors.As(err, &are) {
				return nil, err
			}
		}
	}
	return m, nil
}

// ObserveVerify counts one Verify result.
func (m *Metrics) ObserveVerify(r Result) {
	if m == nil {
		return
	}
	s := r.Status
	if r.Temporary {
		s += "_temporary"
	}
	m.verified.WithLabelValues(s).Inc()
}

// ObserveSeal counts one Seal outcome.
func (m *Metrics) ObserveSeal(err error) {
	if m == nil {
		return
	}
	switch {
	case err == nil:
		m.sealed.WithLabelValues("ok").Inc()
	case errors.Is(err, ErrChainFailed) || errors.Is(err, ErrTooMany) || errors.Is(err, ErrTemporary):
		m.sealed.WithLabelValues("skipped").Inc()
	default:
		m.sealed.WithLabelValues("error").Inc()
	}
}
