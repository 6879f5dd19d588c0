package dkim

import (
	"strings"

	msgauthres "github.com/emersion/go-msgauth/authres"

	"github.com/gomilter/gomilter/internal/mailmsg"
)

// FindAR returns the indexes in h of Authentication-Results fields that
// claim authservID (compared case-insensitively, trailing dot ignored):
// the ones a receiver must delete before adding its own (RFC 8601
// section 5; OpenDKIM's default behaviour). Fields go-msgauth cannot
// parse are still matched on their first token, so junk after the
// authserv-id does not let a forgery through.
func FindAR(h []mailmsg.Field, authservID string) []int {
	want := strings.ToLower(strings.TrimSuffix(authservID, "."))
	if want == "" {
		return nil
	}
	var out []int
	for i, f := range h {
		if !strings.EqualFold(strings.TrimRight(f.Name, " \t"), "Authentication-Results") {
			continue
		}
		v := mailmsg.Unfold(f.Value)
		id, _, err := msgauthres.Parse(v)
		if err != nil || id == "" {
			id = firstToken(v)
		}
		if strings.ToLower(strings.TrimSuffix(id, ".")) == want {
			out = append(out, i)
		}
	}
	return out
}

// firstToken skips leading comments and returns the first word up to
// whitespace or ';'.
func firstToken(v string) string {
	for {
		v = strings.TrimLeft(v, " \t")
		if !strings.HasPrefix(v, "(") {
			break
		}
		depth, i := 0, 0
		for ; i < len(v); i++ {
			if v[i] == '(' {
				depth++
			} else if v[i] == ')' {
				if depth--; depth == 0 {
					break
				}
			}
		}
		if i >= len(v) {
			return ""
		}
		v = v[i+1:]
	}
	if i := strings.IndexAny(v, " \t;"); i >= 0 {
		v = v[:i]
	}
	return strings.Trim(v, `"`)
}
