package main

import (
	"github.com/gomilter/gomilter/internal/config"
	"github.com/prometheus/client_golang/prometheus"
)

// sharedDeps are built once per process and handed to every piece.
type sharedDeps struct{}

func newSharedDeps(_ *config.Config, _ prometheus.Registerer) (*sharedDeps, error) {
	return &sharedDeps{}, nil
}

// Close releases what newSharedDeps opened.
func (d *sharedDeps) Close() {}
