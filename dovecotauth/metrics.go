package dovecotauth

import (
	"github.com/prometheus/client_golang/prometheus"
)

// metrics are registered on Options.Registerer (never globally).
type metrics struct {
	requests    *prometheus.CounterVec
	duration    prometheus.Histogram
	penalties   *prometheus.CounterVec
	penaltyWait prometheus.Histogram
	cacheHits   prometheus.Counter
	connections prometheus.Gauge
	panics      prometheus.Counter
	userdb      *prometheus.CounterVec
}

func newMetrics(reg prometheus.Registerer) (*metrics, error) {
	m := &metrics{
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "gomilter_auth_requests_total",
			Help: "Authentication requests by mechanism and result (ok, fail, tempfail).",
		}, []string{"mech", "result"}),
		duration: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name:    "gomilter_auth_duration_seconds",
			Help:    "Time from AUTH to the final reply, excluding deliberate delays.",
			Buckets: prometheus.ExponentialBuckets(0.0005, 2.5, 12),
		}),
		penalties: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "gomilter_auth_penalties_total",
			Help: "Requests delayed because of earlier failures, by key kind (ip, user).",
		}, []string{"kind"}),
		penaltyWait: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name:    "gomilter_auth_delay_seconds",
			Help:    "Deliberate delays (failure delay plus penalty) applied to requests.",
			Buckets: []float64{0.5, 1, 2, 4, 6, 8, 10},
		}),
		cacheHits: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "gomilter_auth_verify_cache_hits_total",
			Help: "Password verifications answered from the verified-credential cache.",
		}),
		connections: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "gomilter_auth_connections_active",
			Help: "Open client and userdb connections.",
		}),
		panics: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "gomilter_auth_panics_total",
			Help: "Recovered panics in request handling.",
		}),
		userdb: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "gomilter_auth_userdb_requests_total",
			Help: "auth-userdb requests by command and result.",
		}, []string{"cmd", "result"}),
	}
	if reg == nil {
		return m, nil
	}
	for _, c := range []prometheus.Collector{m.requests, m.duration, m.penalties, m.penaltyWait,
		m.cacheHits, m.connections, m.panics, m.userdb} {
		if err := reg.Register(c); err != nil {
			return nil, err
		}
	}
	return m, nil
}
