package milterclient

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"strings"
	"time"

	"github.com/gomilter/gomilter/milter"
)

// Options configure a Conn. Zero values give Postfix 3.7's defaults.
type Options struct {
	Version  uint32             // offered protocol version (6)
	Actions  milter.OptAction   // offered actions (0x1FF)
	Protocol milter.OptProtocol // offered protocol bits (0x1FFFFF)
	// Timeout bounds each request/reply exchange when ctx has no
	// earlier deadline (30s, milter_command_timeout).
	Timeout       time.Duration
	MaxPacketSize int // largest reply accepted (1 MiB + 64)

	MyHostname string // macro j ("mx.example.test")
	DaemonName string // {daemon_name} (MyHostname)
	DaemonAddr string // {daemon_addr} ("127.0.0.1")
	MailName   string // macro v ("Postfix 3.7.11")
}

func (o *Options) setDefaults() {
	if o.Version == 0 {
		o.Version = 6
	}
	if o.Actions == 0 {
		o.Actions = 0x1FF
	}
	if o.Protocol == 0 {
		o.Protocol = 0x1FFFFF
	}
	if o.Timeout == 0 {
		o.Timeout = 30 * time.Second
	}
	if o.MaxPacketSize == 0 {
		o.MaxPacketSize = milter.DefaultMaxPacketSize
	}
	if o.MyHostname == "" {
		o.MyHostname = "mx.example.test"
	}
	if o.DaemonName == "" {
		o.DaemonName = o.MyHostname
	}
	if o.DaemonAddr == "" {
		o.DaemonAddr = "127.0.0.1"
	}
	if o.MailName == "" {
		o.MailName = "Postfix 3.7.11"
	}
}

// Conn is one milter connection, as Postfix opens per SMTP session.
// It is not safe for concurrent use.
type Conn struct {
	nc   net.Conn
	r    *bufio.Reader
	w    *bufio.Writer
	opts Options
	neg  milter.OptNeg
	buf  []byte
	// broken is set after a reply that ends talking to the milter for
	// the session (connection-level decision, protocol error).
	broken error
}

// Dial connects to a milter ("tcp"/"unix" network, or Postfix-style
// "inet:host:port" / "unix:/path" with network "") and negotiates.
func Dial(ctx context.Context, network, addr string, opts Options) (*Conn, error) {
	if network == "" {
		var err error
		if network, addr, err = ParseAddr(addr); err != nil {
			return nil, err
		}
	}
	var d net.Dialer
	nc, err := d.DialContext(ctx, network, addr)
	if err != nil {
		return nil, err
	}
	c, err := NewConn(ctx, nc, opts)
	if err != nil {
		nc.Close()
		return nil, err
	}
	return c, nil
}

// ParseAddr turns Postfix milter endpoint syntax (inet:host:port,
// unix:/path) into a Go network and address.
func ParseAddr(s string) (network, addr string, err error) {
	kind, rest, ok := strings.Cut(s, ":")
	switch {
	case ok && kind == "inet":
		return "tcp", rest, nil
	case ok && (kind == "unix" || kind == "local"):
		return "unix", rest, nil
	}
	return "", "", fmt.Errorf("milterclient: endpoint %q: want inet:host:port or unix:/path", s)
}

// NewConn negotiates on an open connection.
func NewConn(ctx context.Context, nc net.Conn, opts Options) (*Conn, error) {
	opts.setDefaults()
	c := &Conn{nc: nc, r: bufio.NewReader(nc), w: bufio.NewWriter(nc), opts: opts}
	if err := c.negotiate(ctx); err != nil {
		return nil, err
	}
	return c, nil
}

// Negotiated returns the milter's OPTNEG answer.
func (c *Conn) Negotiated() milter.OptNeg { return c.neg }

func (c *Conn) negotiate(ctx context.Context) error {
	c.deadline(ctx)
	offer := milter.OptNeg{Version: c.opts.Version, Actions: c.opts.Actions, Protocol: c.opts.Protocol}
	if err := c.send(milter.CmdOptNeg, offer.Encode()); err != nil {
		return err
	}
	if err := c.w.Flush(); err != nil {
		return err
	}
	p, err := c.read()
	if err != nil {
		return err
	}
	if p.Code != milter.CmdOptNeg {
		return fmt.Errorf("milterclient: reply %s to OPTNEG", p.Code)
	}
	neg, err := milter.DecodeOptNeg(p.Data)
	if err != nil {
		return err
	}
	// Postfix's checks (milter8_connect): no higher version, no actions
	// we did not offer.
	if neg.Version > offer.Version || neg.Version < 2 {
		return fmt.Errorf("milterclient: milter version %d, offered %d", neg.Version, offer.Version)
	}
	if neg.Actions&^offer.Actions != 0 {
		return fmt.Errorf("milterclient: milter wants actions %#x, offered %#x", neg.Actions, offer.Actions)
	}
	// Events a lower version lacks are not sent (v2: no UNKNOWN or DATA;
	// v3: no DATA), as if the milter had asked for NO*.
	switch {
	case neg.Version < 3:
		neg.Protocol |= milter.ProtoNoUnknown | milter.ProtoNoData
	case neg.Version < 4:
		neg.Protocol |= milter.ProtoNoData
	}
	c.neg = neg
	return nil
}

func (c *Conn) deadline(ctx context.Context) {
	d := time.Now().Add(c.opts.Timeout)
	if cd, ok := ctx.Deadline(); ok && cd.Before(d) {
		d = cd
	}
	c.nc.SetDeadline(d)
}

func (c *Conn) send(code milter.Code, data ...[]byte) error {
	c.buf = milter.AppendPacket(c.buf[:0], code, data...)
	_, err := c.w.Write(c.buf)
	return err
}

func (c *Conn) read() (milter.Packet, error) {
	p, _, err := milter.ReadPacket(c.r, c.opts.MaxPacketSize, nil)
	return p, err
}

// macros sends a MACRO packet for cmd when kv holds any set value, as
// Postfix sends only macros that have a value.
func (c *Conn) macros(cmd milter.Code, kv ...string) error {
	var set []string
	for i := 0; i+1 < len(kv); i += 2 {
		if kv[i+1] != "" {
			set = append(set, kv[i], kv[i+1])
		}
	}
	if len(set) == 0 {
		return nil
	}
	return c.send(milter.CmdMacro, []byte{byte(cmd)}, milter.EncodeStrings(set...))
}

// Close sends QUIT and closes the connection.
func (c *Conn) Close() error {
	c.nc.SetDeadline(time.Now().Add(time.Second))
	err := c.send(milter.CmdQuit)
	if err == nil {
		err = c.w.Flush()
	}
	if cerr := c.nc.Close(); err == nil {
		err = cerr
	}
	return err
}

// ErrConnectionDone is returned after the milter accepted or refused the
// whole connection (at CONNECT/HELO) or broke the protocol: Postfix talks
// to it no more for this SMTP session.
var ErrConnectionDone = errors.New("milterclient: milter no longer talks to this session")

// Connect sends CONNECT (with the connect-stage macros). port is ignored
// for a zero addr, which is sent as family unknown.
func (c *Conn) Connect(ctx context.Context, host string, addr netip.Addr, port uint16) (Reply, error) {
	if host == "" {
		host = "[" + addr.String() + "]"
	}
	ci := milter.ConnectInfo{Host: host, Family: milter.FamilyUnknown}
	if addr.IsValid() {
		ci.Family, ci.Addr, ci.Port = milter.FamilyInet, addr, port
		if addr.Is6() {
			ci.Family = milter.FamilyInet6
		}
	}
	o := c.opts
	return c.event(ctx, eventSpec{cmd: milter.CmdConnect, no: milter.ProtoNoConnect, nr: milter.ProtoNRConnect},
		ci.Encode(), "j", o.MyHostname, "{daemon_name}", o.DaemonName, "{daemon_addr}", o.DaemonAddr,
		"v", o.MailName, "_", host+" ["+addr.String()+"]")
}

// Helo sends HELO (no macros by default: the TLS ones are unset without TLS).
func (c *Conn) Helo(ctx context.Context, name string) (Reply, error) {
	return c.event(ctx, eventSpec{cmd: milter.CmdHelo, no: milter.ProtoNoHelo, nr: milter.ProtoNRHelo},
		milter.EncodeStrings(name))
}
