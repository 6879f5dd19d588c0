package dkim

import (
	"errors"

	"github.com/prometheus/client_golang/prometheus"
)

// Metrics are the DKIM counters. A nil *Metrics counts nothing, so tests
// and tools need no registry.
type Metrics struct {
	verify    *prometheus.CounterVec
	sign      *prometheus.CounterVec
	keyErrors *prometheus.CounterVec
	keyChecks *prometheus.CounterVec
}

// NewMetrics registers the DKIM metrics on reg; a nil reg gives nil.
func NewMetrics(reg prometheus.Registerer) (*Metrics, error) {
	if reg == nil {
		return nil, nil
	}
	m := &Metrics{
		verify: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "gomilter_dkim_verify_results_total",
			Help: "DKIM signatures verified, by RFC 8601 result."}, []string{"result"}),
		sign: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "gomilter_dkim_sign_results_total",
			Help: "DKIM signatures requested, by outcome (signed, nokey, error)."}, []string{"result"}),
		keyErrors: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "gomilter_dkim_key_errors_total",
			Help: "Signing key problems: load (at start or reload), unusable (message left unsigned)."}, []string{"kind"}),
		keyChecks: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "gomilter_dkim_key_checks_total",
			Help: "Checks of published DKIM key records against signing keys, by result."}, []string{"result"}),
	}
	for _, c := range []*(*prometheus.CounterVec){&m.verify, &m.sign, &m.keyErrors, &m.keyChecks} {
		if err := reg.Register(*c); err != nil {
			// A config reload builds a new Signer on the same registry:
			// keep counting on the collectors already registered.
			var are prometheus.AlreadyRegisteredError
			if !errors.As(err, &are) {
				return nil, err
			}
			existing, ok := are.ExistingCollector.(*prometheus.CounterVec)
			if !ok {
				return nil, err
			}
			*c = existing
		}
	}
	return m, nil
}

func (m *Metrics) countVerify(s Status) {
	if m != nil {
		m.verify.WithLabelValues(string(s)).Inc()
	}
}

func (m *Metrics) signResult(r string) {
	if m != nil {
		m.sign.WithLabelValues(r).Inc()
	}
}

func (m *Metrics) keyError(kind string) {
	if m != nil {
		m.keyErrors.WithLabelValues(kind).Inc()
	}
}

func (m *Metrics) keyCheck(r string) {
	if m != nil {
		m.keyChecks.WithLabelValues(r).Inc()
	}
}
