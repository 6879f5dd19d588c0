package lmtp

import (
	"context"
	"log/slog"
	"strings"

	"github.com/gomilter/gomilter/sieve"
)

// perform executes a Sieve result. Stores are returned for the caller to
// write; redirects, vacation replies and notifications go out through the
// relay now. A redirect that cannot be sent keeps the message instead,
// as Pigeonhole falls back to the implicit keep when an action fails.
func (s *Server) perform(ctx context.Context, log *slog.Logger, res *sieve.Result, env sieve.Envelope, opts *sieve.Options, rc *recipient) *outcome {
	out := &outcome{}
	needKeep := false
	for _, a := range res.Actions {
		s.metrics.sieve.WithLabelValues(string(a.Kind)).Inc()
		switch a.Kind {
		case sieve.ActKeep:
			out.stores = append(out.stores, store{implicit: a.Implicit, folder: "INBOX", flags: a.Flags, msg: actionBytes(a, res)})
		case sieve.ActFileinto:
			out.stores = append(out.stores, store{folder: a.Mailbox, create: a.Create, flags: a.Flags, msg: actionBytes(a, res)})
			out.notes = append(out.notes, "fileinto "+a.Mailbox)
		case sieve.ActDiscard:
			out.notes = append(out.notes, "discard")
		case sieve.ActReject, sieve.ActEreject:
			if a.Silent {
				// An earlier script already answered the sender (vacation,
				// redirect): Pigeonhole then drops the message quietly.
				out.notes = append(out.notes, "reject (silent: discarded)")
				continue
			}
			out.reject = a.Reason
		case sieve.ActRedirect:
			if !s.redirect(ctx, log, a, env, opts) && !a.Copy {
				needKeep = true
			}
			out.notes = append(out.notes, "redirect "+a.Address)
		case sieve.ActVacation:
			out.notes = append(out.notes, s.vacation(ctx, log, a, env, opts, rc))
		case sieve.ActNotify:
			s.notify(ctx, log, a, env, opts)
		}
	}
	if needKeep && !hasInbox(out.stores) {
		out.stores = append(out.stores, store{folder: "INBOX", msg: sieve.FormatMessage(res.Message)})
	}
	return out
}

func hasInbox(stores []store) bool {
	for _, st := range stores {
		if strings.EqualFold(st.folder, "INBOX") {
			return true
		}
	}
	return false
}

func actionBytes(a *sieve.Action, res *sieve.Result) []byte {
	if a.Message != nil {
		return sieve.FormatMessage(a.Message)
	}
	return sieve.FormatMessage(res.Message)
}

// redirect sends the copy; false means it was not sent (no relay, loop,
// failure) and the message should be kept.
func (s *Server) redirect(ctx context.Context, log *slog.Logger, a *sieve.Action, env sieve.Envelope, opts *sieve.Options) bool {
	if s.opts.Relay == nil {
		log.Warn("sieve redirect without a relay configured: kept instead", "to", a.Address)
		return false
	}
	o, ok := sieve.ComposeRedirect(a, env, opts)
	if !ok {
		log.Info("sieve redirect loop detected: kept instead", "to", a.Address)
		return false
	}
	if err := s.opts.Relay.Send(ctx, o.From, []string{o.To}, sieve.FormatMessage(o.Message)); err != nil {
		log.Warn("sieve redirect failed: kept instead", "to", a.Address, "err", err)
		return false
	}
	return true
}

// vacation sends the auto-reply once per period per sender and handle.
func (s *Server) vacation(ctx context.Context, log *slog.Logger, a *sieve.Action, env sieve.Envelope, opts *sieve.Options, rc *recipient) string {
	if why := sieve.VacationSkipReason(a, env, opts); why != "" {
		return "vacation skipped: " + why
	}
	if s.opts.Relay == nil {
		log.Warn("sieve vacation without a relay configured: not sent", "to", a.Vacation.To)
		return "vacation not sent (no relay)"
	}
	key := "vac\x00" + rc.user.Name + "\x00" + a.Vacation.Handle + "\x00" + strings.ToLower(a.Vacation.To)
	if seen, err := s.opts.Responses.Seen(ctx, key); err != nil || seen {
		if err != nil {
			log.Warn("vacation store failed: not sent", "err", err)
		}
		return "vacation already sent"
	}
	reply := sieve.ComposeVacation(a, env.To, opts)
	if err := s.opts.Relay.Send(ctx, "", []string{a.Vacation.To}, sieve.FormatMessage(reply)); err != nil {
		log.Warn("vacation reply failed", "to", a.Vacation.To, "err", err)
		return "vacation failed"
	}
	if err := s.opts.Responses.Mark(ctx, key, a.Vacation.Period); err != nil {
		log.Warn("vacation store failed", "err", err)
	}
	return "vacation sent to " + a.Vacation.To
}

func (s *Server) notify(ctx context.Context, log *slog.Logger, a *sieve.Action, env sieve.Envelope, opts *sieve.Options) {
	if s.opts.Relay == nil {
		log.Warn("sieve notify without a relay configured: not sent")
		return
	}
	for _, o := range sieve.ComposeNotify(a, env, opts) {
		if err := s.opts.Relay.Send(ctx, o.From, []string{o.To}, sieve.FormatMessage(o.Message)); err != nil {
			log.Warn("sieve notification failed", "to", o.To, "err", err)
		}
	}
}
