package dmarc

import "github.com/gomilter/gomilter/internal/authres"

// AR returns the dmarc clause of our Authentication-Results field, with
// the comment most receivers write: (p=... sp=... dis=...), dis being
// what we applied.
func (r Result) AR(d Decision) authres.Result {
	var p, sp string
	if r.Record != nil {
		p = string(r.Record.Policy)
		if r.Record.HasSP {
			sp = string(r.Record.SubPolicy)
		}
	}
	dis := ""
	if r.Record != nil {
		dis = [...]string{"none", "quarantine", "reject"}[d.Action]
	}
	return authres.DMARC(r.Result, p, sp, dis, r.FromDomain)
}
