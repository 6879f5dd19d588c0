package dovecotauth

import (
	"context"
	"encoding/base64"
	"errors"
	"log/slog"
	"strconv"
	"time"
)

// request is one AUTH exchange in flight on a connection.
type request struct {
	c       *clientConn
	cmd     authCommand
	mech    *mechanism
	contCh  chan string
	user    string // normalised user, once known (for penalties and FAIL)
	delayed time.Duration
	start   time.Time
	noDelay bool // passdb returned "nodelay"
}

// result is a successful authentication.
type result struct {
	user     string // canonical name for OK user=
	original string // what the client typed, if different
}

func newRequest(c *clientConn, cmd authCommand, m *mechanism) *request {
	return &request{c: c, cmd: cmd, mech: m, contCh: make(chan string, 1), start: time.Now()}
}

func (r *request) run() {
	defer r.c.done(r.cmd.id)
	defer r.c.recoverRequest()
	ctx := r.c.ctx
	s := r.c.s
	r.wait(ctx, s.penalty.delay(r.cmd.info.RemoteIP, ""), "ip")
	res, err := r.exchange(ctx)
	s.metrics.duration.Observe(time.Since(r.start).Seconds() - r.delayed.Seconds())
	if err == nil {
		s.penalty.success(r.cmd.info.RemoteIP, r.user)
		s.metrics.requests.WithLabelValues(r.mech.name, "ok").Inc()
		r.reply(r.okLine(res))
		return
	}
	if f := classify(err); f != nil {
		r.fail(ctx, f)
		return
	}
	r.tempFail(err)
}

// exchange runs the mechanism until it succeeds or fails.
func (r *request) exchange(ctx context.Context) (*result, error) {
	st := r.mech.start(r)
	data, has, err := r.decode(r.cmd.resp, r.cmd.hasResp, failBase64Init)
	for {
		if err != nil {
			return nil, err
		}
		challenge, res, err := st.next(ctx, data, has)
		if err != nil || res != nil {
			return res, err
		}
		if err := r.c.write(formatLine(cmdCont, strconv.FormatUint(uint64(r.cmd.id), 10),
			base64.StdEncoding.EncodeToString(challenge))); err != nil {
			return nil, err
		}
		resp, err := r.awaitCont(ctx)
		if err != nil {
			return nil, err
		}
		data, has, err = r.decode(resp, true, failBase64Cont)
	}
}

// awaitCont waits for the client's next CONT. Postfix does not tell us when
// an SMTP client aborts with "*", so an exchange left waiting ends after
// ContinueTimeout instead of occupying a request slot for ever.
func (r *request) awaitCont(ctx context.Context) (string, error) {
	t := time.NewTimer(r.c.s.opts.ContinueTimeout)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return "", ctx.Err()
	case resp := <-r.contCh:
		return resp, nil
	case <-t.C:
		return "", failTimeout
	}
}

// decode turns base64 client data into bytes; "=" and "" are empty data.
func (r *request) decode(s string, has bool, bad *failure) ([]byte, bool, error) {
	if !has {
		return nil, false, nil
	}
	if s == "" || s == "=" {
		return []byte{}, true, nil
	}
	b, err := base64.StdEncoding.DecodeString(s)
	if err != nil {
		return nil, true, bad
	}
	return b, true, nil
}

// wait sleeps for a deliberate delay, bounded by what is left of MaxDelay.
func (r *request) wait(ctx context.Context, d time.Duration, kind string) {
	s := r.c.s
	d = min(d, s.opts.MaxDelay-r.delayed)
	if d <= 0 {
		return
	}
	if kind != "" {
		s.metrics.penalties.WithLabelValues(kind).Inc()
	}
	s.metrics.penaltyWait.Observe(d.Seconds())
	r.delayed += d
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
	case <-t.C:
	}
}

func (r *request) okLine(res *result) []byte {
	f := []string{replyOK, strconv.FormatUint(uint64(r.cmd.id), 10), "user=" + escapeValue(res.user)}
	if res.original != "" && res.original != res.user {
		f = append(f, "original_user="+escapeValue(res.original))
	}
	return formatLine(f...)
}

func (r *request) fail(ctx context.Context, f *failure) {
	s := r.c.s
	if f.penalise {
		s.penalty.fail(r.cmd.info.RemoteIP, r.user, r.cmd.info.Password)
	}
	if !f.noDelay && !r.noDelay && s.opts.FailureDelay > 0 {
		r.wait(ctx, s.opts.FailureDelay, "")
	}
	s.metrics.requests.WithLabelValues(r.mech.name, "fail").Inc()
	fields := []string{replyFail, strconv.FormatUint(uint64(r.cmd.id), 10)}
	if r.user != "" {
		fields = append(fields, "user="+escapeValue(r.user))
	}
	if f.code != "" {
		fields = append(fields, "code="+f.code)
	}
	if f.reason != "" {
		fields = append(fields, "reason="+escapeValue(f.reason))
	}
	r.reply(formatLine(fields...))
}

// tempFail handles a store outage: close the connection so Postfix answers
// 454 (it ignores code=temp_fail), unless TempFailAsFail is set.
func (r *request) tempFail(err error) {
	s := r.c.s
	s.metrics.requests.WithLabelValues(r.mech.name, "tempfail").Inc()
	if errors.Is(err, context.Canceled) && r.c.ctx.Err() != nil {
		return // the connection is gone anyway
	}
	s.opts.Logger.Warn("auth temporary failure", slog.String("mech", r.mech.name),
		slog.String("user", r.user), slog.String("rip", r.cmd.info.RemoteIP.String()),
		slog.Any("err", err))
	if s.opts.TempFailAsFail {
		r.reply(formatLine(replyFail, strconv.FormatUint(uint64(r.cmd.id), 10), "code=temp_fail"))
		return
	}
	r.c.nc.Close()
}

func (r *request) reply(line []byte) {
	// Free the request's slot before the client can see the answer: Postfix
	// may send its next AUTH as soon as it reads this line, and with
	// MaxInFlight reached that AUTH would otherwise look like a violation.
	r.c.release(r.cmd.id)
	if err := r.c.write(line); err != nil {
		r.c.nc.Close()
	}
}
