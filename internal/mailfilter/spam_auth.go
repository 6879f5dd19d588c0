package mailfilter

import (
	"github.com/gomilter/gomilter/internal/spf"
	"github.com/gomilter/gomilter/milter/spam"
)

// spamAuth hands the spam engine what the DKIM, SPF and ARC checks found,
// so SpamAssassin's DKIM_*, SPF_* and welcomelist-by-signature rules agree
// with our Authentication-Results and cost no second round of lookups. A
// part that was not checked is left out; the engine then verifies it
// itself when network tests are on (the HELO identity, say, which our
// SPF check only evaluates for the null sender).
func spamAuth(tx *Tx) *spam.Auth {
	a := &spam.Auth{}
	// Verification can be skipped (PeerList, mail we sign); an empty list
	// is then only trustworthy when the message carries no signature.
	if len(tx.Auth.DKIM) > 0 || len(tx.Msg.All("DKIM-Signature")) == 0 {
		a.DKIMVerified = true
		for _, r := range tx.Auth.DKIM {
			a.DKIM = append(a.DKIM, spam.DKIMSignatureOf(r))
		}
	}
	if r := tx.Auth.SPF; r != nil {
		if r.Identity == spf.IdentityHelo {
			// The null sender: RFC 7208 checks the HELO name instead.
			a.SPF, a.SPFHelo = spam.SPFSkipped, string(r.Code)
		} else {
			a.SPF = string(r.Code)
		}
	}
	if r := tx.Auth.ARC; r != nil {
		a.ARC = r.Status
	}
	return a
}
