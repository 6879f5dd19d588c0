package authres

import (
	"strings"

	"github.com/gomilter/gomilter/internal/mailmsg"
)

// ID returns the authserv-id a field value claims, leniently: leading
// comments and whitespace are skipped and the first token or quoted
// string is taken even when the rest of the field is junk. "" if none.
func ID(value string) string {
	if len(value) > maxField {
		value = value[:maxField]
	}
	s := mailmsg.Unfold(value)
	for {
		s = strings.TrimLeft(s, wsp)
		if !strings.HasPrefix(s, "(") {
			break
		}
		end, ok := skipComment(s, 0)
		if !ok {
			return ""
		}
		s = s[end:]
	}
	id, _ := readValue(s)
	return id
}

// SameID compares authserv-ids as domain names: case-insensitive and
// ignoring one trailing dot.
func SameID(a, b string) bool {
	a, b = strings.TrimSuffix(a, "."), strings.TrimSuffix(b, ".")
	return a != "" && strings.EqualFold(a, b)
}

// Forged returns the indexes in h of Authentication-Results fields that
// claim authservID; the pipeline deletes them before adding its own
// (RFC 8601 section 5). Field names compare case-insensitively.
func Forged(h []mailmsg.Field, authservID string) []int {
	var idx []int
	for i, f := range h {
		if strings.EqualFold(strings.TrimSpace(f.Name), HeaderName) && SameID(ID(f.Value), authservID) {
			idx = append(idx, i)
		}
	}
	return idx
}
