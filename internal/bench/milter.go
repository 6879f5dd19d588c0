package bench

import (
	"bytes"
	"context"
	"fmt"
	"net/netip"
	"strings"
	"time"

	"github.com/gomilter/gomilter/internal/milterclient"
)

// MilterOptions configure "gomilter bench milter".
type MilterOptions struct {
	Addr     string     // milter endpoint: unix:/path or inet:host:port
	Messages [][]byte   // raw CRLF messages, replayed round-robin
	Workers  int        // concurrent milter connections (-c)
	N        int        // messages to send (-n)
	PerConn  int        // messages per milter connection (1 = one SMTP session per message, Postfix's common case)
	AuthUser string     // {auth_authen} for every message ("" = unauthenticated)
	Client   netip.Addr // client address in CONNECT (127.0.0.1)
	Helo     string     // HELO name ("client.example.test")
	Rcpt     string     // envelope recipient ("rcpt@example.org")
	From     string     // envelope sender; "" = taken from each message's Return-Path/From
	PID      int        // daemon to sample in /proc (0 = none)
	Timeout  time.Duration
}

func (o *MilterOptions) setDefaults() {
	if o.PerConn < 1 {
		o.PerConn = 1
	}
	if !o.Client.IsValid() {
		o.Client = netip.MustParseAddr("127.0.0.1")
	}
	if o.Helo == "" {
		o.Helo = "client.example.test"
	}
	if o.Rcpt == "" {
		o.Rcpt = "rcpt@example.org"
	}
	if o.Timeout == 0 {
		o.Timeout = 30 * time.Second
	}
}

// milterWorker is one worker's open connection and how many messages it
// has carried.
type milterWorker struct {
	c    *milterclient.Conn
	used int
}

// RunMilter replays the messages through the milter as Postfix would:
// per connection OPTNEG, CONNECT, HELO, then PerConn transactions. Each
// message's latency includes the connection setup it triggered.
// Outcomes: accept, reject, tempfail, discard, quarantine, error; extras:
// headers_added (messages with at least one), header:<Name> (per added
// field), skipped (the milter sent SMFIR_SKIP).
func RunMilter(ctx context.Context, o MilterOptions) (*Report, error) {
	o.setDefaults()
	if len(o.Messages) == 0 {
		return nil, fmt.Errorf("bench: no messages")
	}
	if _, _, err := milterclient.ParseAddr(o.Addr); err != nil {
		return nil, err
	}
	workers := make([]milterWorker, max(o.Workers, 1))
	defer func() { // Run has waited for its workers by now
		for _, w := range workers {
			if w.c != nil {
				w.c.Close()
			}
		}
	}()
	op := func(ctx context.Context, wi, i int) (string, []string, error) {
		return o.one(ctx, &workers[wi], i)
	}
	return Run(ctx, "milter", RunOptions{Workers: o.Workers, N: o.N, PID: o.PID, Unit: "msgs"}, op)
}

func (o *MilterOptions) one(ctx context.Context, w *milterWorker, i int) (string, []string, error) {
	ctx, cancel := context.WithTimeout(ctx, o.Timeout)
	defer cancel()
	if w.c != nil && w.used >= o.PerConn {
		w.c.Close()
		w.c = nil
	}
	if w.c == nil {
		c, err := o.open(ctx)
		if err != nil {
			return "", nil, err
		}
		w.c, w.used = c, 0
	}
	w.used++
	msg := o.Messages[i%len(o.Messages)]
	from := o.From
	if from == "" {
		from = envelopeFrom(msg)
	}
	res, err := w.c.Transaction(ctx, milterclient.Tx{
		From: from, Rcpts: []string{o.Rcpt}, AuthUser: o.AuthUser,
		QueueID: fmt.Sprintf("%X", 0x100000+i), Message: msg,
		FromArgs: []string{fmt.Sprintf("SIZE=%d", len(msg))},
	})
	if err != nil {
		w.c.Close()
		w.c = nil
		return "", nil, err
	}
	var extra []string
	if added := res.HeadersAdded(); len(added) > 0 {
		extra = append(extra, "headers_added")
		for _, h := range added {
			extra = append(extra, "header:"+h.Name)
		}
	}
	if res.Skipped {
		extra = append(extra, "skipped")
	}
	return res.Outcome(), extra, nil
}

func (o *MilterOptions) open(ctx context.Context) (*milterclient.Conn, error) {
	c, err := milterclient.Dial(ctx, "", o.Addr, milterclient.Options{Timeout: o.Timeout})
	if err != nil {
		return nil, err
	}
	host := "[" + o.Client.String() + "]"
	if _, err := c.Connect(ctx, host, o.Client, 40000); err != nil {
		c.Close()
		return nil, err
	}
	if _, err := c.Helo(ctx, o.Helo); err != nil {
		c.Close()
		return nil, err
	}
	return c, nil
}

// envelopeFrom picks the sender the way a replay should: the message's
// Return-Path, else its From address, else a fixed placeholder.
func envelopeFrom(msg []byte) string {
	hdr := msg
	if i := bytes.Index(msg, []byte("\r\n\r\n")); i >= 0 {
		hdr = msg[:i]
	}
	for _, name := range []string{"return-path:", "from:"} {
		for _, line := range strings.Split(string(hdr), "\r\n") {
			if len(line) > len(name) && strings.EqualFold(line[:len(name)], name) {
				if a := addrIn(line[len(name):]); a != "" {
					return a
				}
			}
		}
	}
	return "sender@example.com"
}

// addrIn extracts a@b from "<a@b>" or a bare token containing '@'.
func addrIn(s string) string {
	if i := strings.IndexByte(s, '<'); i >= 0 {
		if j := strings.IndexByte(s[i:], '>'); j > 0 {
			return strings.TrimSpace(s[i+1 : i+j])
		}
	}
	for _, f := range strings.Fields(s) {
		if strings.Contains(f, "@") {
			return strings.Trim(f, "<>()\",;")
		}
	}
	return ""
}
