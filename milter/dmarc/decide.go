package dmarc

import (
	"fmt"
	"net/netip"
	"strings"
)

// Action is what the milter does with the message.
type Action int

// Actions, weakest first.
const (
	ActionAccept     Action = iota // deliver (A-R only)
	ActionQuarantine               // SMFIR_QUARANTINE: Postfix holds it
	ActionReject                   // 550 5.7.1 at end of message
)

func (a Action) String() string {
	return [...]string{"accept", "quarantine", "reject"}[a]
}

// Override reasons (RFC 9990 PolicyOverrideType / RFC 7489 appendix C).
const (
	OverrideForwarded        = "forwarded"
	OverrideSampledOut       = "sampled_out"
	OverrideTrustedForwarder = "trusted_forwarder"
	OverrideMailingList      = "mailing_list"
	OverrideLocalPolicy      = "local_policy"
)

// Options is the local policy on top of the Domain Owner's request.
type Options struct {
	// ReportOnly never rejects nor quarantines: results only go into the
	// Authentication-Results field and the report store. Default false.
	ReportOnly bool
	// RejectAsQuarantine turns p=reject into a quarantine. Default false.
	RejectAsQuarantine bool
	// NeverReject lists author domains that are never rejected or
	// quarantined; an entry also covers its subdomains.
	NeverReject []string
	// TrustedSealers lists ARC sealing domains (ARC-Seal d=): a failing
	// message whose ARC chain passes and was sealed by one of them is
	// accepted (RFC 8617 section 7.2.1, RFC 7960 section 4).
	TrustedSealers []string
	// TrustedForwarders lists client networks (forwarders, mailing list
	// hosts) whose failing mail is accepted.
	TrustedForwarders []netip.Prefix
}

// Context is what Decide needs besides the DMARC result.
type Context struct {
	ClientIP   netip.Addr
	ARCResult  string   // "pass", "fail" or "none" (milter/arc)
	ARCSealers []string // d= of every ARC-Seal of a passing chain
}

// Decision is the outcome of Decide.
type Decision struct {
	Action   Action
	Override string // RFC 9990 reason type when we applied less than asked
	Comment  string // short text for the override (report <comment>)
	Reply    string // for ActionReject: "550 5.7.1 ..." text
}

// Decide applies the local policy to a DMARC result. Only a failing
// message with disposition quarantine or reject can be acted on.
func Decide(res Result, c Context, o Options) Decision {
	d := Decision{Action: ActionAccept}
	if res.Result != ResultFail {
		return d
	}
	if res.SampledOut {
		d.Override = OverrideSampledOut
	}
	if res.Disposition == PolicyNone {
		return d
	}
	if why, comment := o.exempt(res, c); why != "" {
		d.Override, d.Comment = why, comment
		return d
	}
	switch {
	case o.ReportOnly:
		d.Override, d.Comment = OverrideLocalPolicy, "report only"
	case res.Disposition == PolicyReject && !o.RejectAsQuarantine:
		d.Action = ActionReject
		d.Reply = fmt.Sprintf("550 5.7.1 DMARC policy of %s rejects this message", res.PolicyDomain)
	default:
		d.Action = ActionQuarantine
		if res.Disposition == PolicyReject {
			d.Override, d.Comment = OverrideLocalPolicy, "reject as quarantine"
		}
	}
	return d
}

// exempt returns the override reason when a local exception applies.
func (o *Options) exempt(res Result, c Context) (reason, comment string) {
	for _, n := range o.NeverReject {
		if n = normalize(n); res.FromDomain == n || strings.HasSuffix(res.FromDomain, "."+n) {
			return OverrideLocalPolicy, "never reject " + n
		}
	}
	if c.ClientIP.IsValid() {
		ip := c.ClientIP.Unmap()
		for _, p := range o.TrustedForwarders {
			if p.Contains(ip) {
				return OverrideTrustedForwarder, "forwarder " + p.String()
			}
		}
	}
	if strings.EqualFold(c.ARCResult, "pass") {
		for _, s := range c.ARCSealers {
			for _, t := range o.TrustedSealers {
				if normalize(s) == normalize(t) {
					return OverrideTrustedForwarder, "arc=pass as.d=" + normalize(s)
				}
			}
		}
	}
	return "", ""
}
