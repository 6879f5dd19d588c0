package smtpsink

import (
	"errors"
	"fmt"
	"net"
	"sync"
	"testing"
	"time"
)

// Stage names the point of an SMTP transaction at which the sink answers.
type Stage int

// Stages at which a reply can be forced with Fail or a Hook.
const (
	StageConnect Stage = iota // the 220 greeting
	StageHelo                 // EHLO / HELO
	StageMail                 // MAIL FROM
	StageRcpt                 // RCPT TO
	StageData                 // the DATA command itself (354)
	StageMessage              // after the final "." of the message data
)

var stageNames = [...]string{"connect", "helo", "mail", "rcpt", "data", "message"}

func (s Stage) String() string {
	if s >= 0 && int(s) < len(stageNames) {
		return stageNames[s]
	}
	return fmt.Sprintf("Stage(%d)", int(s))
}

// Message is one message the sink accepted.
type Message struct {
	Helo string   // EHLO/HELO argument of the session
	From string   // MAIL FROM address without brackets ("" for the null sender)
	To   []string // RCPT TO addresses without brackets, in order
	// Data is the message as transmitted: CRLF lines, dot-unstuffed,
	// without the terminating ".\r\n".
	Data     []byte
	Received time.Time
}

// Hook chooses the reply at a stage. arg is the HELO name, the address of
// MAIL/RCPT, or the message data at StageMessage. A zero code means "the
// sink's normal reply". A 4xx/5xx code at StageConnect makes the sink greet
// with it and hang up.
type Hook func(stage Stage, arg string) (code int, text string)

// Options tunes the sink; the zero value is usable.
type Options struct {
	// Hostname is the name in the greeting and EHLO reply. Default
	// "sink.test" — it must differ from the MTA's myhostname, or Postfix
	// reports "mail for ... loops back to myself".
	Hostname string
	// MaxMessageBytes bounds one message's data; bigger data gets 552.
	// Default 64 MiB.
	MaxMessageBytes int64
	// MaxLineBytes bounds one command line. Default 4096.
	MaxLineBytes int
	// Timeout is the per-command read deadline. Default 60s.
	Timeout time.Duration
}

func (o *Options) setDefaults() {
	if o.Hostname == "" {
		o.Hostname = "sink.test"
	}
	if o.MaxMessageBytes <= 0 {
		o.MaxMessageBytes = 64 << 20
	}
	if o.MaxLineBytes <= 0 {
		o.MaxLineBytes = 4096
	}
	if o.Timeout <= 0 {
		o.Timeout = 60 * time.Second
	}
}

type reply struct {
	code int
	text string
}

// Sink is a running SMTP sink. All methods are safe for concurrent use.
type Sink struct {
	opts Options
	ln   net.Listener

	mu       sync.Mutex
	changed  chan struct{} // closed and replaced whenever msgs grows
	msgs     []Message
	fails    map[Stage]reply
	hook     Hook
	rejected int
	conns    map[net.Conn]struct{}
	closed   bool
	wg       sync.WaitGroup
}

// New starts a sink on 127.0.0.1 with a free port.
func New(opts Options) (*Sink, error) {
	opts.setDefaults()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("smtpsink: listen: %w", err)
	}
	s := &Sink{
		opts:    opts,
		ln:      ln,
		changed: make(chan struct{}),
		fails:   map[Stage]reply{},
		conns:   map[net.Conn]struct{}{},
	}
	s.wg.Add(1)
	go s.acceptLoop()
	return s, nil
}

// Start is New for tests: it fails tb on error and closes the sink on
// tb.Cleanup.
func Start(tb testing.TB, opts Options) *Sink {
	tb.Helper()
	s, err := New(opts)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { s.Close() })
	return s
}

// Addr is the sink's "127.0.0.1:port".
func (s *Sink) Addr() string { return s.ln.Addr().String() }

// Port is the sink's TCP port.
func (s *Sink) Port() int { return s.ln.Addr().(*net.TCPAddr).Port }

// Close stops listening, drops open connections and waits for them.
func (s *Sink) Close() error {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return nil
	}
	s.closed = true
	err := s.ln.Close()
	for c := range s.conns {
		c.Close()
	}
	s.mu.Unlock()
	s.wg.Wait()
	return err
}

func (s *Sink) acceptLoop() {
	defer s.wg.Done()
	for {
		c, err := s.ln.Accept()
		if err != nil {
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() {
				continue
			}
			return
		}
		s.mu.Lock()
		if s.closed {
			s.mu.Unlock()
			c.Close()
			return
		}
		s.conns[c] = struct{}{}
		s.wg.Add(1)
		s.mu.Unlock()
		go func() {
			defer s.wg.Done()
			newConn(s, c).serve()
			s.mu.Lock()
			delete(s.conns, c)
			s.mu.Unlock()
		}()
	}
}

// Messages returns a copy of the messages accepted so far, in order.
func (s *Sink) Messages() []Message {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]Message, len(s.msgs))
	copy(out, s.msgs)
	return out
}

// Len is the number of messages accepted so far.
func (s *Sink) Len() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.msgs)
}

// Rejected counts the commands the sink refused because of Fail or a Hook.
func (s *Sink) Rejected() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.rejected
}

// Reset forgets the recorded messages and the rejection count.
func (s *Sink) Reset() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.msgs = nil
	s.rejected = 0
}

// Fail makes the sink answer code and text at stage from now on, e.g.
// Fail(StageRcpt, 450, "4.2.0 try later") or Fail(StageMessage, 554,
// "5.7.1 no"). A code of 0 restores the normal reply at that stage.
func (s *Sink) Fail(stage Stage, code int, text string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if code == 0 {
		delete(s.fails, stage)
		return
	}
	s.fails[stage] = reply{code, text}
}

// SetHook installs h (nil removes it). A non-zero code from h wins over Fail.
func (s *Sink) SetHook(h Hook) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.hook = h
}

// WaitMessages waits until at least n messages were accepted and returns
// them; it fails tb after timeout.
func (s *Sink) WaitMessages(tb testing.TB, n int, timeout time.Duration) []Message {
	tb.Helper()
	msgs, err := s.Wait(n, timeout)
	if err != nil {
		tb.Fatal(err)
	}
	return msgs
}

// Wait is WaitMessages returning an error instead of failing a test, for
// use outside the test goroutine.
func (s *Sink) Wait(n int, timeout time.Duration) ([]Message, error) {
	deadline := time.NewTimer(timeout)
	defer deadline.Stop()
	for {
		s.mu.Lock()
		got, ch := len(s.msgs), s.changed
		s.mu.Unlock()
		if got >= n {
			return s.Messages(), nil
		}
		select {
		case <-ch:
		case <-deadline.C:
			return s.Messages(), fmt.Errorf("smtpsink: %d message(s) after %v, want %d", got, timeout, n)
		}
	}
}

// decide returns the forced reply for stage, if any.
func (s *Sink) decide(stage Stage, arg string) (reply, bool) {
	s.mu.Lock()
	h := s.hook
	r, ok := s.fails[stage]
	s.mu.Unlock()
	if h != nil {
		if code, text := h(stage, arg); code != 0 {
			r, ok = reply{code, text}, true
		}
	}
	if ok && r.code >= 400 {
		s.mu.Lock()
		s.rejected++
		s.mu.Unlock()
	}
	return r, ok
}

func (s *Sink) record(m Message) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.msgs = append(s.msgs, m)
	close(s.changed)
	s.changed = make(chan struct{})
}
