package dmarc

import (
	"context"
	"log/slog"
	"time"

	"github.com/gomilter/gomilter/internal/authres"
	"github.com/gomilter/gomilter/internal/mailmsg"
)

// Checker is the whole DMARC step of the milter pipeline: author domain,
// evaluation, local decision, report entry, metrics. Build one per
// process; it is safe for concurrent use if its Store is.
type Checker struct {
	Resolver Resolver
	Config   Config
	Options  Options
	Store    Store        // nil: no aggregate reports
	Metrics  *Metrics     // nil: no metrics
	Logger   *slog.Logger // nil: discard
	Now      func() time.Time
}

// Outcome is what the milter needs from Check.
type Outcome struct {
	Result   Result
	Decision Decision
	AR       authres.Result // the dmarc clause for our Authentication-Results
}

// Check evaluates m. spf is the SPF result for the MAIL FROM domain (or
// the HELO name with Scope "helo" for a null sender), dkim one entry per
// signature, arc the ARC result and client address for local overrides.
// A message whose From cannot be used gets dmarc=permerror and is
// accepted (local policy; RFC 9989 section 4.10 leaves it open).
func (c *Checker) Check(ctx context.Context, m *mailmsg.Message, env *mailmsg.Envelope, spf AuthResult, dkim []AuthResult, arc Context) Outcome {
	log := c.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	from, err := FromDomain(m)
	if err != nil {
		res := Result{Result: ResultPermError, Disposition: PolicyNone, Err: err}
		c.Metrics.Observe(res, Decision{})
		return Outcome{Result: res, AR: res.AR(Decision{})}
	}
	in := In{FromDomain: from, SPF: spf, DKIM: dkim}
	res := c.Config.Evaluate(ctx, c.Resolver, in)
	if !arc.ClientIP.IsValid() {
		arc.ClientIP = env.ClientAddr
	}
	d := Decide(res, arc, c.Options)
	c.Metrics.Observe(res, d)
	if res.Err != nil {
		log.Warn("dmarc lookup failed", "from", from, "queue_id", env.QueueID, "err", res.Err)
	}
	c.record(ctx, log, env, in, res, d)
	return Outcome{Result: res, Decision: d, AR: res.AR(d)}
}

// record stores the report entry; a store failure is logged, never
// allowed to delay or fail the mail.
func (c *Checker) record(ctx context.Context, log *slog.Logger, env *mailmsg.Envelope, in In, res Result, d Decision) {
	if c.Store == nil {
		return
	}
	now := time.Now
	if c.Now != nil {
		now = c.Now
	}
	e, ok := NewEntry(now(), env.ClientAddr, in, res, d, c.Config.Legacy)
	if !ok {
		return
	}
	if len(env.Rcpts) > 0 {
		e.EnvelopeTo = domainPart(env.Rcpts[0])
	}
	if err := c.Store.Add(ctx, e); err != nil {
		log.Error("dmarc report store", "queue_id", env.QueueID, "err", err)
	}
}

func domainPart(addr string) string {
	for i := len(addr) - 1; i >= 0; i-- {
		if addr[i] == '@' {
			return normalize(addr[i+1:])
		}
	}
	return ""
}
