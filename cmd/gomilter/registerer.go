package main

import (
	"errors"

	"github.com/prometheus/client_golang/prometheus"
)

// replacingRegisterer lets a piece rebuild a component on SIGHUP: a
// collector registered again under the same name replaces the old one
// (the counter restarts, which Prometheus treats as a reset) instead of
// failing the reload.
type replacingRegisterer struct{ prometheus.Registerer }

func (r replacingRegisterer) Register(c prometheus.Collector) error {
	err := r.Registerer.Register(c)
	var are prometheus.AlreadyRegisteredError
	if errors.As(err, &are) {
		r.Registerer.Unregister(are.ExistingCollector)
		return r.Registerer.Register(c)
	}
	return err
}

func (r replacingRegisterer) MustRegister(cs ...prometheus.Collector) {
	for _, c := range cs {
		if err := r.Register(c); err != nil {
			panic(err)
		}
	}
}
