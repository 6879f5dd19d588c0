package dns

import (
	"fmt"
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
// CanonicalName returns name (raw octets, dot-separated) in the
// lower-case, fully qualified presentation form miekg/dns uses, or false
// if it cannot be a DNS name.
func CanonicalName(name string) (string, bool) { return canonical(name) }

func canonical(name string) (string, bool) {
	name = strings.TrimSuffix(name, ".")
	if name == "" || len(name) > maxNameLen {
		return "", false
	}
	var b strings.Builder
	for label := range strings.SplitSeq(name, ".") {
		if len(label) == 0 || len(label) > maxLabelLen {
			return "", false
		}
		// Any octet is legal in a label (RFC 2181 section 11); SPF macro
		// expansion can produce spaces and quotes. Escape exactly as miekg
		// presents names it unpacks, so our names and its names compare.
		for i := 0; i < len(label); i++ {
			c := label[i]
			switch {
			case c < ' ' || c > '~':
				fmt.Fprintf(&b, "\\%03d", c)
				continue
			case strings.IndexByte(".'@;()\"\\ ", c) >= 0:
				b.WriteByte('\\')
			}
			if 'A' <= c && c <= 'Z' {
				c += 'a' - 'A'
			}
			b.WriteByte(c)
		}
		b.WriteByte('.')
	}
	return b.String(), true
}

// typeName returns the mnemonic of qtype, e.g. "TXT".
func typeName(qtype uint16) string {
	if s, ok := mdns.TypeToString[qtype]; ok {
		return s
	}
	return "TYPE" + strconv.Itoa(int(qtype))
}
