package dns

import (
	"strconv"
	"strings"

	mdns "github.com/miekg/dns"
)

// Limits from RFC 1035 section 2.3.4 (in presentation form, without the
// trailing dot the wire form of a name is at most 255 octets).
const (
	maxNameLen  = 253
	maxLabelLen = 63
)

// canonical validates name and returns it lower-cased with a trailing dot.
// Escapes in presentation format are not supported: mail domains never need
// them, and rejecting them keeps cache keys unambiguous.
func canonical(name string) (string, bool) {
	name = strings.TrimSuffix(name, ".")
	if name == "" || len(name) > maxNameLen {
		return "", false
	}
	for label := range strings.SplitSeq(name, ".") {
		if len(label) == 0 || len(label) > maxLabelLen {
			return "", false
		}
		for i := 0; i < len(label); i++ {
			if c := label[i]; c <= ' ' || c >= 0x7f || c == '\\' || c == '"' ||
				c == '(' || c == ')' || c == ';' || c == '@' || c == '$' {
				return "", false
			}
		}
	}
	return strings.ToLower(name) + ".", true
}

// typeName returns the mnemonic of qtype, e.g. "TXT".
func typeName(qtype uint16) string {
	if s, ok := mdns.TypeToString[qtype]; ok {
		return s
	}
	return "TYPE" + strconv.Itoa(int(qtype))
}
