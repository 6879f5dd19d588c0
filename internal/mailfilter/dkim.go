package mailfilter

import (
	"context"

	"github.com/gomilter/gomilter/internal/authres"
	"github.com/gomilter/gomilter/internal/mailmsg"
	"github.com/gomilter/gomilter/milter"
	"github.com/gomilter/gomilter/milter/dkim"
)

// DKIM puts milter/dkim in the pipeline the way OpenDKIM behaves: mail
// that qualifies for signing (authenticated, internal, local submission)
// is signed and not verified; everything else is verified. It is both a
// Check (verification, first in line) and a Signer (last in line).
type DKIM struct {
	Opts     *dkim.Options
	Signer   *dkim.Signer   // nil when Mode has no s
	Verifier *dkim.Verifier // nil when Mode has no v
}

var (
	_ Check  = (*DKIM)(nil)
	_ Signer = (*DKIM)(nil)
)

// Name implements Check and Signer.
func (*DKIM) Name() string { return "dkim" }

func (d *DKIM) signing(tx *Tx) []dkim.SignRequest {
	if d.Signer == nil || d.Opts.IsPeer(&tx.Env) {
		return nil
	}
	return d.Signer.ShouldSign(&tx.Env, tx.Msg)
}

// Check verifies every signature and records dkim= results, then applies
// the On-* action the results call for (accept unless configured).
func (d *DKIM) Check(ctx context.Context, tx *Tx) error {
	// PeerList clients are skipped entirely, as OpenDKIM does.
	if d.Verifier == nil || d.Opts.IsPeer(&tx.Env) || len(d.signing(tx)) > 0 {
		return nil
	}
	results := d.Verifier.Verify(ctx, tx.Msg)
	tx.Auth.DKIM = results
	for _, r := range results {
		tx.Results = append(tx.Results, authres.Result{
			Method: "dkim", Value: string(r.Status), Reason: r.Reason,
			Props: []authres.Prop{
				{Type: "header", Name: "d", Value: r.Domain},
				{Type: "header", Name: "i", Value: r.Identity},
				{Type: "header", Name: "a", Value: r.Algorithm},
				{Type: "header", Name: "s", Value: r.Selector},
				{Type: "header", Name: "b", Value: r.HeaderB()},
			},
		})
	}
	if len(results) == 0 && d.Opts.AlwaysAddARHeader {
		tx.Results = append(tx.Results, authres.Result{Method: "dkim", Value: "none"})
	}
	switch d.Opts.Action(results) {
	case dkim.ActionReject:
		r, _ := milter.ReplyCode("550 5.7.1 DKIM verification failed")
		tx.Decide(r)
	case dkim.ActionTempfail:
		r, _ := milter.ReplyCode("451 4.7.5 DKIM verification could not be completed, try again later")
		tx.Decide(r)
	case dkim.ActionDiscard:
		tx.Decide(milter.Discard)
	case dkim.ActionQuarantine:
		tx.Decide(milter.Quarantine("DKIM verification failed"))
	}
	return nil
}

// Sign signs the final message (our headers included) when the envelope
// qualifies; the result goes on top.
func (d *DKIM) Sign(ctx context.Context, tx *Tx) ([]mailmsg.Field, error) {
	reqs := d.signing(tx)
	if len(reqs) == 0 {
		return nil, nil
	}
	return d.Signer.Sign(ctx, tx.Final(), reqs)
}
