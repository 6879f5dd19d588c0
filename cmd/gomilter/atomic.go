package main

import (
	"context"
	"sync/atomic"

	"github.com/gomilter/gomilter/policy"
)

type ctxT = context.Context

// atomicHandler holds the policy handler in force.
type atomicHandler struct{ v atomic.Value }

func (a *atomicHandler) Store(h policy.Handler) { a.v.Store(&h) }
func (a *atomicHandler) Load() policy.Handler   { return *a.v.Load().(*policy.Handler) }
