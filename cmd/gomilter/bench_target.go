package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/signal"
	"syscall"
)

// serveBenchTarget runs a standalone server as a benchmark target (bench
// auth-server, lmtp-server) on listen until SIGTERM or ctx ends. closed is
// the server's ErrServerClosed; stop shuts it down.
func serveBenchTarget(ctx context.Context, name, listen string, serve func(net.Listener) error,
	stop func(), closed error, stdout, stderr io.Writer) int {
	network, address := splitEndpoint(listen)
	if network == "unix" {
		os.Remove(address)
	}
	l, err := net.Listen(network, address)
	if err != nil {
		fmt.Fprintf(stderr, "bench %s: %v\n", name, err)
		return 1
	}
	ctx, cancel := signal.NotifyContext(ctx, syscall.SIGTERM)
	defer cancel()
	go func() { <-ctx.Done(); stop() }()
	fmt.Fprintf(stdout, "%s serving %s (pid %d)\n", name, listen, os.Getpid())
	if err := serve(l); err != nil && !errors.Is(err, closed) {
		fmt.Fprintf(stderr, "bench %s: %v\n", name, err)
		return 1
	}
	return 0
}
