package milter

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"io"
	"net"
	"net/netip"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
)

// Postfix 3.7's OPTNEG offer: version 6, every action, every v6 flag.
const (
	postfixActions  = OptAction(0x1FF)
	postfixProtocol = OptProtocol(0x1FFFFF)
)

// tconn is the MTA side of a test session over net.Pipe, with
// one-line send/expect helpers.
type tconn struct {
	t    *testing.T
	c    net.Conn
	srv  *Server
	reg  *prometheus.Registry
	done chan struct{}
}

func newTConn(t *testing.T, mk func(ctx context.Context) Milter, opts Options) *tconn {
	t.Helper()
	reg := prometheus.NewRegistry()
	opts.Registerer = reg
	srv, err := NewServer(mk, opts)
	if err != nil {
		t.Fatalf("NewServer: %v", err)
	}
	client, server := net.Pipe()
	tc := &tconn{t: t, c: client, srv: srv, reg: reg, done: make(chan struct{})}
	go func() { defer close(tc.done); srv.ServeConn(server) }()
	t.Cleanup(func() { client.Close(); <-tc.done })
	return tc
}

func (tc *tconn) send(code Code, data ...[]byte) {
	tc.t.Helper()
	tc.c.SetWriteDeadline(time.Now().Add(5 * time.Second))
	if _, err := tc.c.Write(AppendPacket(nil, code, data...)); err != nil {
		tc.t.Fatalf("send %s: %v", code, err)
	}
}

func (tc *tconn) read() Packet {
	tc.t.Helper()
	tc.c.SetReadDeadline(time.Now().Add(5 * time.Second))
	p, _, err := ReadPacket(tc.c, 1<<22, nil)
	if err != nil {
		tc.t.Fatalf("read reply: %v", err)
	}
	return p
}

// expect reads one reply and checks its code and (when data != nil) payload.
func (tc *tconn) expect(code Code, data []byte) Packet {
	tc.t.Helper()
	p := tc.read()
	if p.Code != code || (data != nil && !bytes.Equal(p.Data, data)) {
		tc.t.Fatalf("reply = %s %q, want %s %q", p.Code, p.Data, code, data)
	}
	return p
}

// expectClosed checks that the server hung up without replying.
func (tc *tconn) expectClosed() {
	tc.t.Helper()
	tc.c.SetReadDeadline(time.Now().Add(5 * time.Second))
	var b [1]byte
	n, err := tc.c.Read(b[:])
	if n != 0 || !errors.Is(err, io.EOF) {
		tc.t.Fatalf("read = %d, %v; want EOF (connection closed)", n, err)
	}
}

func (tc *tconn) negotiate(version uint32, act OptAction, proto OptProtocol) OptNeg {
	tc.t.Helper()
	tc.send(CmdOptNeg, OptNeg{Version: version, Actions: act, Protocol: proto}.Encode())
	p := tc.expect(CmdOptNeg, nil)
	o, err := DecodeOptNeg(p.Data)
	if err != nil {
		tc.t.Fatalf("decode OPTNEG reply: %v", err)
	}
	return o
}

func (tc *tconn) macros(c Code, kv ...string) {
	tc.t.Helper()
	tc.send(CmdMacro, []byte{byte(c)}, EncodeStrings(kv...))
}

func (tc *tconn) counter(c prometheus.Metric) float64 { return metricValue(c) }

func (tc *tconn) messages(result string) float64 {
	return metricValue(tc.srv.m.messages.WithLabelValues(result))
}

// metricValue reads a counter or gauge (testutil would add a module).
func metricValue(m prometheus.Metric) float64 {
	var d dto.Metric
	if err := m.Write(&d); err != nil {
		return -1
	}
	if d.Counter != nil {
		return d.Counter.GetValue()
	}
	return d.Gauge.GetValue()
}

func connectData(host, ip string, port uint16) []byte {
	b := append([]byte(host), 0, '4')
	b = binary.BigEndian.AppendUint16(b, port)
	return append(append(b, ip...), 0)
}

// recorder is a Milter that records calls and answers from a table.
type recorder struct {
	NoOpMilter
	mu     sync.Mutex
	calls  []string
	answer map[string]Response
	eom    func(ctx context.Context, mod *Modifier, m *Macros) (Response, error)
	seen   map[string]string // macro values observed, "stage:name" -> value
	closed bool
	host   string // from Connect, to prove state survives messages
}

func newRecorder() *recorder {
	return &recorder{answer: map[string]Response{}, seen: map[string]string{}}
}

func (r *recorder) log(s string) Response {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.calls = append(r.calls, s)
	name := s
	if i := bytes.IndexByte([]byte(s), ' '); i > 0 {
		name = s[:i]
	}
	return r.answer[name]
}

func (r *recorder) Connect(_ context.Context, c ConnectInfo, m *Macros) (Response, error) {
	r.host = c.Host
	return r.log("connect " + c.Host + " " + c.Addr.String()), nil
}
func (r *recorder) Helo(_ context.Context, name string, _ *Macros) (Response, error) {
	return r.log("helo " + name), nil
}
func (r *recorder) MailFrom(_ context.Context, from string, args []string, m *Macros) (Response, error) {
	r.seen["mail:j"] = m.Get("j")
	return r.log("mail " + from), nil
}
func (r *recorder) RcptTo(_ context.Context, rcpt string, _ []string, _ *Macros) (Response, error) {
	return r.log("rcpt " + rcpt), nil
}
func (r *recorder) Data(context.Context, *Macros) (Response, error) { return r.log("data"), nil }
func (r *recorder) Header(_ context.Context, name, value string, _ *Macros) (Response, error) {
	return r.log("header " + name + ":" + value), nil
}
func (r *recorder) EndOfHeaders(context.Context, *Macros) (Response, error) {
	return r.log("eoh"), nil
}
func (r *recorder) BodyChunk(_ context.Context, c []byte, _ *Macros) (Response, error) {
	return r.log("body " + string(c)), nil
}
func (r *recorder) EndOfMessage(ctx context.Context, mod *Modifier, m *Macros) (Response, error) {
	resp := r.log("eom")
	r.seen["eom:i"] = m.Get("i")
	r.seen["eom:j"] = m.Get("j")
	r.seen["eom:mail_addr"] = m.Get("mail_addr")
	if r.eom != nil {
		return r.eom(ctx, mod, m)
	}
	return resp, nil
}
func (r *recorder) Abort(context.Context, *Macros) error { r.log("abort"); return nil }
func (r *recorder) Close(context.Context)                { r.mu.Lock(); r.closed = true; r.mu.Unlock() }

func (r *recorder) callList() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]string(nil), r.calls...)
}

func mustAddr(s string) netip.Addr { return netip.MustParseAddr(s) }
