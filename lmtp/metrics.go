package lmtp

import (
	"errors"

	"github.com/prometheus/client_golang/prometheus"
)

type metrics struct {
	connections prometheus.Counter
	active      prometheus.Gauge
	deliveries  *prometheus.CounterVec
	duration    prometheus.Histogram
	sieve       *prometheus.CounterVec
	panics      prometheus.Counter
}

// Results counted in gomilter_lmtp_deliveries_total{result}.
const (
	resultSaved    = "saved"
	resultNoUser   = "unknown_user"
	resultQuota    = "over_quota"
	resultRejected = "rejected"
	resultTempfail = "tempfail"
	resultTooBig   = "too_large"
)

func newMetrics(reg prometheus.Registerer) (*metrics, error) {
	m := &metrics{
		connections: prometheus.NewCounter(prometheus.CounterOpts{Name: "gomilter_lmtp_connections_total",
			Help: "LMTP connections accepted."}),
		active: prometheus.NewGauge(prometheus.GaugeOpts{Name: "gomilter_lmtp_connections_active",
			Help: "LMTP connections open now."}),
		deliveries: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "gomilter_lmtp_deliveries_total",
			Help: "Recipients handled, by result (saved, unknown_user, over_quota, rejected, tempfail, too_large)."}, []string{"result"}),
		duration: prometheus.NewHistogram(prometheus.HistogramOpts{Name: "gomilter_lmtp_delivery_duration_seconds",
			Help: "Time to deliver one recipient's copy (lookup excluded, Sieve included).", Buckets: prometheus.ExponentialBuckets(0.0005, 2, 14)}),
		sieve: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "gomilter_lmtp_sieve_actions_total",
			Help: "Sieve actions performed, by action (keep, fileinto, discard, redirect, reject, vacation, notify, error)."}, []string{"action"}),
		panics: prometheus.NewCounter(prometheus.CounterOpts{Name: "gomilter_lmtp_panics_total",
			Help: "Panics recovered while delivering."}),
	}
	if reg == nil {
		return m, nil
	}
	var err error
	reg1 := func(c prometheus.Collector) prometheus.Collector {
		got, e := register(reg, c)
		if e != nil && err == nil {
			err = e
		}
		return got
	}
	m.connections = reg1(m.connections).(prometheus.Counter)
	m.active = reg1(m.active).(prometheus.Gauge)
	m.deliveries = reg1(m.deliveries).(*prometheus.CounterVec)
	m.duration = reg1(m.duration).(prometheus.Histogram)
	m.sieve = reg1(m.sieve).(*prometheus.CounterVec)
	m.panics = reg1(m.panics).(prometheus.Counter)
	return m, err
}

// register adds c, or returns the collector already registered under the
// same name, so a server rebuilt in the same process keeps counting.
func register(reg prometheus.Registerer, c prometheus.Collector) (prometheus.Collector, error) {
	err := reg.Register(c)
	var are prometheus.AlreadyRegisteredError
	if errors.As(err, &are) {
		return are.ExistingCollector, nil
	}
	return c, err
}
