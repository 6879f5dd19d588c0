package netsrv

import (
	"errors"
	"net"
	"sync/atomic"
	"testing"
	"time"
)

// flakyListener fails its first Accept calls with a temporary error.
type flakyListener struct {
	net.Listener
	fails atomic.Int32
}

type tempErr struct{}

func (tempErr) Error() string   { return "accept: too many open files" }
func (tempErr) Temporary() bool { return true }
func (tempErr) Timeout() bool   { return false }

func (f *flakyListener) Accept() (net.Conn, error) {
	if f.fails.Add(-1) >= 0 {
		return nil, tempErr{}
	}
	return f.Listener.Accept()
}

func TestAcceptBacksOffThenServesAndStops(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	fl := &flakyListener{Listener: l}
	fl.fails.Store(3)
	var closing atomic.Bool
	got := make(chan net.Conn, 1)
	done := make(chan error, 1)
	go func() { done <- Accept(fl, closing.Load, func(c net.Conn) { got <- c }) }()
	c, err := net.Dial("tcp", l.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	select {
	case sc := <-got:
		sc.Close()
	case <-time.After(5 * time.Second):
		t.Fatal("connection not handed over after temporary errors")
	}
	closing.Store(true)
	l.Close()
	if err := <-done; err != nil {
		t.Errorf("Accept after close = %v, want nil", err)
	}
}

func TestAcceptReturnsPermanentError(t *testing.T) {
	l, _ := net.Listen("tcp", "127.0.0.1:0")
	l.Close() // closed but not "closing": a real failure
	err := Accept(l, func() bool { return false }, func(net.Conn) {})
	if err == nil || !errors.Is(err, net.ErrClosed) {
		t.Errorf("Accept on a dead listener = %v, want net.ErrClosed", err)
	}
}
