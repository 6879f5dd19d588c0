package dns

import (
	"errors"

	"github.com/prometheus/client_golang/prometheus"
)

// Values of the "result" label of gomilter_dns_queries_total.
const (
	resultSuccess  = "success"
	resultNXDomain = "nxdomain"
	resultNoData   = "nodata"
	resultTemp     = "temperror"
)

type metrics struct {
	queries   *prometheus.CounterVec
	cacheHits prometheus.Counter
	duration  prometheus.Histogram
}

func newMetrics(reg prometheus.Registerer) (*metrics, error) {
	m := &metrics{
		queries: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "gomilter_dns_queries_total",
			Help: "Upstream DNS resolutions (cache misses), by query type and result.",
		}, []string{"qtype", "result"}),
		cacheHits: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "gomilter_dns_cache_hits_total",
			Help: "DNS lookups answered from the cache.",
		}),
		duration: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name:    "gomilter_dns_query_duration_seconds",
			Help:    "Time to resolve one upstream DNS question, retries included.",
			Buckets: []float64{.001, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5},
		}),
	}
	if reg == nil {
		return m, nil
	}
	var err error
	m.queries = register(reg, m.queries, &err)
	m.cacheHits = register(reg, m.cacheHits, &err)
	m.duration = register(reg, m.duration, &err)
	return m, err
}

// register registers c on reg; if an identical collector is already
// registered (several resolvers sharing one registry) it returns that one.
func register[C prometheus.Collector](reg prometheus.Registerer, c C, errp *error) C {
	err := reg.Register(c)
	if err == nil {
		return c
	}
	var are prometheus.AlreadyRegisteredError
	if errors.As(err, &are) {
		if existing, ok := are.ExistingCollector.(C); ok {
			return existing
		}
	}
	if *errp == nil {
		*errp = err
	}
	return c
}

func resultLabel(err error) string {
	switch {
	case err == nil:
		return resultSuccess
	case errors.Is(err, ErrNotFound):
		return resultNXDomain
	case errors.Is(err, ErrNoData):
		return resultNoData
	default:
		return resultTemp
	}
}
