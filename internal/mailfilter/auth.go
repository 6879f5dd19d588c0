package mailfilter

import (
	"context"
	"fmt"
	"net/netip"

	"github.com/gomilter/gomilter/internal/authres"
	"github.com/gomilter/gomilter/internal/mailmsg"
	"github.com/gomilter/gomilter/internal/spf"
	"github.com/gomilter/gomilter/milter"
	"github.com/gomilter/gomilter/milter/arc"
	"github.com/gomilter/gomilter/milter/dmarc"
)

// inbound reports whether a message arrived from outside: SPF, ARC and
// DMARC judge mail from strangers, not our own users' submissions.
func inbound(tx *Tx, internal []netip.Prefix) bool {
	if tx.Env.AuthUser != "" || tx.Env.Local || !tx.Env.ClientAddr.IsValid() {
		return false
	}
	for _, p := range internal {
		if p.Contains(tx.Env.ClientAddr.Unmap()) {
			return false
		}
	}
	return true
}

// SPF evaluates the MAIL FROM (or HELO, for the null sender) identity and
// records spf= for the header and for DMARC. Rejecting on SPF is the
// policy daemon's job at RCPT time; here it only informs.
type SPF struct {
	Checker  *spf.Checker
	Internal []netip.Prefix // clients not checked (besides authenticated and local mail)
}

func (*SPF) Name() string { return "spf" }

func (s *SPF) Check(ctx context.Context, tx *Tx) error {
	if !inbound(tx, s.Internal) {
		return nil
	}
	r := s.Checker.Check(ctx, tx.Env.ClientAddr, tx.Env.Helo, tx.Env.MailFrom)
	tx.Auth.SPF = &r
	value := r.Sender
	if r.Identity == spf.IdentityHelo {
		value = r.Domain
	}
	ar := authres.SPF(string(r.Code), string(r.Identity), value)
	if r.Problem != "" {
		ar.Reason = r.Problem
	}
	tx.Results = append(tx.Results, ar)
	return nil
}

// ARC validates the chain a forwarder put on the message (RFC 8617).
type ARC struct {
	Resolver arc.Resolver
	Internal []netip.Prefix
}

func (*ARC) Name() string { return "arc" }

func (a *ARC) Check(ctx context.Context, tx *Tx) error {
	if !inbound(tx, a.Internal) {
		return nil
	}
	r := arc.Verify(ctx, a.Resolver, tx.Msg)
	tx.Auth.ARC = &r
	if r.Status != arc.StatusNone {
		tx.Results = append(tx.Results, r.AR(tx.Env.ClientAddr))
	}
	return nil
}

// DMARC combines the SPF, DKIM and ARC results into dmarc= and applies the
// domain's policy as the local options allow (reject, quarantine, report).
type DMARC struct {
	Checker  *dmarc.Checker
	Internal []netip.Prefix
}

func (*DMARC) Name() string { return "dmarc" }

func (d *DMARC) Check(ctx context.Context, tx *Tx) error {
	if !inbound(tx, d.Internal) {
		return nil
	}
	var spfIn dmarc.AuthResult
	if r := tx.Auth.SPF; r != nil {
		spfIn = dmarc.AuthResult{Domain: r.Domain, Result: string(r.Code)}
		if r.Identity == spf.IdentityHelo {
			spfIn.Scope = "helo"
		}
	}
	var dkimIn []dmarc.AuthResult
	for _, r := range tx.Auth.DKIM {
		dkimIn = append(dkimIn, dmarc.AuthResult{Domain: r.Domain, Selector: r.Selector, Result: string(r.Status)})
	}
	c := dmarc.Context{ClientIP: tx.Env.ClientAddr}
	if a := tx.Auth.ARC; a != nil {
		c.ARCResult, c.ARCSealers = a.Status, a.Sealers
	}
	out := d.Checker.Check(ctx, tx.Msg, &tx.Env, spfIn, dkimIn, c)
	if out.AR.Method != "" {
		tx.Results = append(tx.Results, out.AR)
	}
	switch out.Decision.Action {
	case dmarc.ActionReject:
		r, err := milter.ReplyCode(out.Decision.Reply)
		if err != nil {
			return fmt.Errorf("dmarc reply %q: %w", out.Decision.Reply, err)
		}
		tx.Decide(r)
	case dmarc.ActionQuarantine:
		tx.Decide(milter.Quarantine("DMARC policy quarantine"))
	}
	return nil
}

// ARCSeal adds our ARC set over the final message, for the domains we
// forward for (mailing lists, forwarders).
type ARCSeal struct {
	Sealer     *arc.Sealer
	AuthservID string
}

func (*ARCSeal) Name() string { return "arc-seal" }

func (s *ARCSeal) Sign(_ context.Context, tx *Tx) ([]mailmsg.Field, error) {
	var chain arc.Result
	if tx.Auth.ARC != nil {
		chain = *tx.Auth.ARC
	} else {
		chain = arc.Result{Status: arc.StatusNone}
	}
	clauses := make([]string, len(tx.Results))
	for i, r := range tx.Results {
		clauses[i] = authres.FormatResult(r)
	}
	return s.Sealer.Seal(tx.Final(), chain, s.AuthservID, clauses)
}
