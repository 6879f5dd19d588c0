package bayes

import (
	"io"
	"mime"
	"net/mail"
	"regexp"
	"strings"
	"sync"
	"sync/atomic"
	"unicode/utf8"

	"github.com/gomilter/gomilter/internal/mailmsg"
)

// ignoredHeaders are header fields whose values say nothing about
// spamminess (list management, dates, other filters' verdicts) or would
// only fill the database; the list follows SpamAssassin's IGNORED_HDRS.
var ignoredHeaders = regexp.MustCompile(`(?i)^(?:(?:X-)?Sender|Delivered-To|Delivery-Date|(?:X-)?Envelope-To` +
	`|X-MIME-Auto[Cc]onverted|X-Converted-To-Plain-Text|Subject|Date` +
	`|X-List|(?:X-)?Mailing-List|(?:X-)?List-(?:Archive|Help|Id|Owner|Post|Subscribe|Unsubscribe|Host|Manager|Admin|Comment|Name|Url)` +
	`|X-Unsub(?:scribe)?|X-Mailman-Version|X-Been[Tt]here|X-Loop|Mail-Followup-To` +
	`|X-eGroups-(?:Return|From)|X-MDMailing-List|X-XEmacs-List|X-Sympa-To` +
	`|(?:X-)?Resent-(?:From|To|Date)|(?:X-)?Original-(?:From|To|Date)` +
	`|X-MailScanner(?:-SpamCheck)?|X-Spam(?:-(?:Status|Level|Flag|Report|Hits|Score|Checker-Version))?` +
	`|X-Antispam|X-RBL-Warning|X-Mailscanner|X-MDaemon-Deliver-To|X-Virus-Scanned|X-Mass-Check-Id` +
	`|X-Pyzor|X-DCC-\S{2,25}-Metrics|X-Filtered-B[Yy]|X-Scanned-By|X-Scanner` +
	`|X-AP-Spam-(?:Score|Status)|X-RIPE-Spam-Status|X-SpamCop-[^:]+|X-SMTPD|(?:X-)?Spam-Apparently-To` +
	`|SPAM|X-Perlmx-Spam|X-Bogosity|Content-Class|Thread-(?:Index|Topic)|X-Original[Aa]rrival[Tt]ime` +
	`|(?:X-)?Status|X-Flags|X-Keywords|Replied|Forwarded|Lines|Content-Length|X-UIDL?|X-IMAPbase` +
	`|X-Bugzilla-[^:]+|X-VM-(?:Bookmark|(?:POP|IMAP)-Retrieved|Labels|Last-Modified|Summary-Format|VHeader|v\d-Data|Message-Order)` +
	`|X-Gnus-Mail-Source|Xref)$`)

// presenceOnly headers carry random-looking data (signatures, keys): only
// the fact that they exist is a token.
var presenceOnly = regexp.MustCompile(`(?i)^(?:X-Face|X-(?:Gnu-?PG|PGP|GPG)(?:-Key)?-Fingerprint` +
	`|D(?:KIM|omainKey)-Signature|X-Google-DKIM-Signature|ARC-(?:Message-Signature|Seal)|Autocrypt)$`)

var (
	relaysMeta   = regexp.MustCompile(`^x-spam-relays-(?:external|internal|trusted|untrusted)$`)
	relaysHeader = regexp.MustCompile(`(?i)^x-spam-relays-(?:external|internal|trusted|untrusted)$`)
	// noDecodeHeader fields keep encoded words as written
	// (SpamAssassin's _decode_header exempts them).
	noDecodeHeader = regexp.MustCompile(`(?i)^(?:Received|(?:Resent-)?(?:Message-ID|Date)|MIME-Version|References|In-Reply-To|List-.*)$`)
	msgIDHeader    = regexp.MustCompile(`(?i)^(?:|X-|Resent-)Message-Id$`)
	addrHeader     = regexp.MustCompile(`(?i)^(?:|X-|Resent-)(?:Return-Path|From|To|Cc|Reply-To|Errors-To|Mail-Followup-To|Sender)$`)
)

// nameCompression shortens frequent header names in token prefixes (a
// SpamAssassin database convention; mapping is one-way).
var nameCompression = map[string]string{
	"Message-Id": "*m", "Message-ID": "*M", "Received": "*r", "User-Agent": "*u",
	"References": "*f", "In-Reply-To": "*i", "From": "*F", "Reply-To": "*R",
	"Return-Path": "*p", "Return-path": "*rp", "X-Mailer": "*x",
	"X-Authentication-Warning": "*a", "Organization": "*o", "Organisation": "*o",
	"Content-Type": "*ct", "Content-Disposition": "*cd", "Content-Transfer-Encoding": "*ce",
	"x-spam-relays-trusted": "*RT", "x-spam-relays-untrusted": "*RU",
}

type headerSource struct{ name, value string }

// headerKind is what the tokenizer does with fields of one name. Every
// decision depends on the name alone, and the names repeat from message
// to message, so they are made once per name (kindOf) rather than by
// matching the name regexps for every field.
type headerKind struct {
	lower    string // the name lower-cased, for the ignore list
	received bool   // a Received field, whatever its case
	relays   bool   // an X-Spam-Relays-* field a sender wrote himself
	ignored  bool   // in the built-in list
	decode   bool   // encoded words get decoded
	chew     int    // chewHeader's treatment
	group    string // also tokenized under this name (*MI, *Ad, *UA)
	prefix   string // the name in tokens, compressed
	// solid: the name holds an ASCII byte that is not white space, so
	// name+value never trims to nothing.
	solid bool
}

// What chewHeader does with a value.
const (
	chewNone = iota
	chewMessageIDs
	chewAddressList
	chewReceivedLine
	chewContentTypes
	chewMIMEVersion
	chewPresence
	chewRelayKeys
)

func newHeaderKind(name string) *headerKind {
	k := &headerKind{
		lower:    strings.ToLower(name),
		received: strings.EqualFold(name, "Received"),
		relays:   relaysHeader.MatchString(name),
		ignored:  ignoredHeaders.MatchString(name),
		decode:   !noDecodeHeader.MatchString(name),
		prefix:   name,
	}
	switch {
	case msgIDHeader.MatchString(name):
		k.chew = chewMessageIDs
	case addrHeader.MatchString(name):
		k.chew = chewAddressList
	case name == "Received":
		k.chew = chewReceivedLine
	case name == "Content-Type":
		k.chew = chewContentTypes
	case name == "MIME-Version":
		k.chew = chewMIMEVersion
	case presenceOnly.MatchString(name):
		k.chew = chewPresence
	case relaysMeta.MatchString(name):
		k.chew = chewRelayKeys
	}
	switch {
	case strings.EqualFold(name, "In-Reply-To"), strings.EqualFold(name, "References"), strings.EqualFold(name, "Message-ID"):
		k.group = "*MI"
	case strings.EqualFold(name, "From"), strings.EqualFold(name, "To"), strings.EqualFold(name, "Cc"):
		k.group = "*Ad"
	case strings.EqualFold(name, "X-Mailer"), strings.EqualFold(name, "User-Agent"):
		k.group = "*UA"
	}
	if c, ok := nameCompression[name]; ok {
		k.prefix = c
	}
	for i := 0; i < len(name); i++ {
		if c := name[i]; c < 0x80 && !strings.ContainsRune("\t\n\v\f\r ", rune(c)) {
			k.solid = true
			break
		}
	}
	return k
}

// kinds caches headerKind by exact name (the name regexps fold case
// beyond ASCII, so names are not lower-cased first). Senders choose the
// names: the cache starts over when it gets big.
var kinds struct {
	m sync.Map // string -> *headerKind
	n atomic.Int32
}

const maxKinds = 2000

func kindOf(name string) *headerKind {
	if k, ok := kinds.m.Load(name); ok {
		return k.(*headerKind)
	}
	k := newHeaderKind(name)
	if kinds.n.Add(1) > maxKinds {
		kinds.m.Clear()
		kinds.n.Store(0)
	}
	kinds.m.Store(strings.Clone(name), k)
	return k
}

type kindField struct {
	name, value string
	kind        *headerKind
}

// headerTokenSources returns the chewed header values to tokenize, grouped
// by (compressed) name in first-seen order. Only the two Received fields
// nearest the originator are used: the ones added by our own relays say
// nothing about the message. The built-in list applies to real header
// fields only; the ignore list (bayes_ignore_header) also to metadata and
// Received, as in SpamAssassin.
func headerTokenSources(msg *mailmsg.Message, ignore map[string]bool, meta []mailmsg.Field) []headerSource {
	fields := make([]kindField, 0, len(msg.Header)+len(meta)+2)
	var rcvd []kindField
	for _, f := range msg.Header {
		k := kindOf(f.Name)
		switch {
		case k.received:
			rcvd = append(rcvd, kindField{f.Name, f.Value, k})
		case k.relays:
			// SpamAssassin deletes these from the message before it adds
			// its own relay metadata: a sender must not be able to forge
			// the relay tokens.
		case !k.ignored:
			fields = append(fields, kindField{f.Name, f.Value, k})
		}
	}
	for _, f := range meta {
		// Metadata names are lower case in SpamAssassin (put_metadata),
		// which its name compression and relay chewing rely on.
		name := strings.ToLower(f.Name)
		fields = append(fields, kindField{name, f.Value, kindOf(name)})
	}
	for i := len(rcvd) - 1; i >= 0 && i >= len(rcvd)-2; i-- {
		fields = append(fields, rcvd[i])
	}
	if len(ignore) > 0 {
		kept := fields[:0]
		for _, f := range fields {
			if !ignore[f.kind.lower] {
				kept = append(kept, f)
			}
		}
		fields = kept
	}
	var order []string
	grouped := map[string]string{}
	add := func(name, val string) {
		if old, ok := grouped[name]; ok {
			grouped[name] = old + " " + val
			return
		}
		order = append(order, name)
		grouped[name] = val
	}
	for _, f := range fields {
		k := f.kind
		val := unfold(f.value)
		if k.decode {
			val = decodeWords(val)
		}
		if !k.solid && strings.TrimSpace(f.name+val) == "" {
			continue
		}
		val = chewHeader(k.chew, val)
		if k.group != "" {
			add(k.group, val)
		}
		add(k.prefix, val)
	}
	out := make([]headerSource, 0, len(order))
	for _, n := range order {
		out = append(out, headerSource{n, grouped[n]})
	}
	return out
}

func chewHeader(how int, val string) string {
	switch how {
	case chewMessageIDs:
		return chewMessageID(val)
	case chewAddressList:
		return chewAddresses(val)
	case chewReceivedLine:
		return chewReceived(val)
	case chewContentTypes:
		return chewContentType(val)
	case chewMIMEVersion:
		return strings.Replace(val, "1.0", "", 1)
	case chewPresence:
		return "1"
	case chewRelayKeys:
		return dropRelayKeys(val)
	}
	return val
}

// dropRelayKeys removes the keys from relay metadata ("[ ip=1.2.3.4
// rdns=x ]" -> "[ 1.2.3.4 x ]"): s/ [a-z]+=/ /g by hand.
func dropRelayKeys(v string) string {
	r := replacer{src: v}
	r.each(" ", func(i int) int {
		j := runEnd(v, i+1, func(c byte) bool { return c >= 'a' && c <= 'z' })
		if j == i+1 || j == len(v) || v[j] != '=' {
			return -1
		}
		r.replace(i, j+1, " ")
		return j + 1
	})
	return r.result()
}

var (
	midOutlook = regexp.MustCompile(`<([0-9a-f]{4})[0-9a-f]{4}[0-9a-f]{4}\$([0-9a-f]{4})[0-9a-f]{4}\$([0-9a-f]{8})@(\S+)>`)
	midExim    = regexp.MustCompile(`<[A-Za-z0-9]{7}-[A-Za-z0-9]{6}-0[A-Za-z0-9]@`)
	midDated   = regexp.MustCompile(`<20\d\d[01]\d[0123]\d[012]\d[012345]\d[012345]\d\.[A-F0-9]{10,12}@`)
	ctBoundary = regexp.MustCompile(`(?i)boundary=["'](.*?)["']`)
	ctHex      = regexp.MustCompile(`[a-fA-F0-9]`)
	ctPunct    = regexp.MustCompile(`([-_.=]+)`)
)

// chewMessageID keeps the parts of a Message-ID that identify the software
// that made it, not the unique parts.
func chewMessageID(v string) string {
	// Most ids lack the literals these regexps need.
	if strings.IndexByte(v, '$') >= 0 {
		v = midOutlook.ReplaceAllString(v, " OEA$1 OEB$2 OEC$3 $4 ")
	}
	if strings.Contains(v, "-0") {
		v = midExim.ReplaceAllString(v, "")
	}
	if strings.Contains(v, "<20") {
		v = midDated.ReplaceAllString(v, "")
	}
	return spaceNonWord(v)
}

// chewReceived drops queue ids, dates and keywords, and turns each IPv4
// address into its /24 network plus an ip* token for the whole address.
// The steps are SpamAssassin's regexp substitutions, applied one after
// the other, written out by hand (received.go).
func chewReceived(v string) string {
	v = dropSendmailID(v, "SMTP", "g", isDigitOrUpper)    // \swith\sSMTP\sid\sg[\dA-Z]{10,12}\s
	v = dropSendmailID(v, "ESMTP", "", isDigitOrUpperHex) // \swith\sESMTP\sid\s[\dA-F]{10,12}\s
	v = dropQueueID(v)                                    // \bid\s[a-zA-Z0-9]{7,20}\b
	v = dropEximID(v)                                     // \bid\s[A-Za-z0-9]{7}-[A-Za-z0-9]{6}-0[A-Za-z0-9]
	v = dropDates(v)
	// Every address becomes its /24 network: SpamAssassin means to keep
	// 10/8 and 192.168/16 addresses whole, but its test compares an octet
	// captured with its dot against "10" and never succeeds, so its
	// databases hold /24s only.
	v = splitIPv4(v)
	return dropWords(v, "with", "from", "for", "SMTP", "ESMTP")
}

// spaceNonWord replaces each character that is not [_A-Za-z0-9] with a
// space, as s/[^_A-Za-z0-9]/ /g does: one space for a whole UTF-8
// sequence, one for each byte that is not valid UTF-8.
func spaceNonWord(v string) string {
	r := replacer{src: v}
	for i := 0; i < len(v); {
		if c := v[i]; c < utf8.RuneSelf {
			if !isWordByte(c) {
				r.replace(i, i+1, " ")
			}
			i++
			continue
		}
		_, n := utf8.DecodeRuneInString(v[i:])
		r.replace(i, i+n, " ")
		i += n
	}
	return r.result()
}

func chewContentType(v string) string {
	var boundary string
	if m := ctBoundary.FindStringSubmatch(v); m != nil {
		boundary = m[1]
		v = ctBoundary.ReplaceAllString(v, " ")
		boundary = ctHex.ReplaceAllString(boundary, "H")
		boundary = ctPunct.ReplaceAllString(boundary, " $1 ")
	}
	return dropWords(v+boundary, "text", "charset") // \b(?:text|charset)\b
}

// chewAddresses turns an address list into N* tokens for display-name
// words and U*/D* tokens for the addresses.
func chewAddresses(v string) string {
	addrs, err := mail.ParseAddressList(v)
	var toks []string
	if err != nil {
		for _, w := range strings.Fields(v) {
			w = strings.Trim(w, "<>,;\"'()")
			if strings.Contains(w, "@") {
				toks = append(toks, mailAddrTokens(w)...)
			}
		}
		return strings.Join(toks, " ")
	}
	for _, a := range addrs {
		for _, w := range strings.Fields(a.Name) {
			toks = append(toks, "N*"+w)
		}
		toks = append(toks, mailAddrTokens(a.Address)...)
	}
	return strings.Join(toks, " ")
}

// unfold joins folded lines with one space (a fold and the whitespace after
// it count as one space, as SpamAssassin decodes header values, so dates
// split across lines still look like dates) and trims the value. It does
// in one pass what s/\r?\n[ \t]+/ /g and then deleting every "\r\n" and
// "\n" did: a line end not followed by blanks just goes, and a CR not
// before a LF stays.
func unfold(v string) string {
	if strings.IndexByte(v, '\n') < 0 {
		return strings.TrimSpace(v)
	}
	b := make([]byte, 0, len(v))
	for i := 0; i < len(v); i++ {
		c := v[i]
		if c == '\r' && i+1 < len(v) && v[i+1] == '\n' {
			i++
			c = '\n'
		}
		if c != '\n' {
			b = append(b, c)
			continue
		}
		j := i + 1
		for j < len(v) && (v[j] == ' ' || v[j] == '\t') {
			j++
		}
		if j > i+1 {
			b = append(b, ' ')
		}
		i = j - 1
	}
	return strings.TrimSpace(string(b))
}

// wordDecoder decodes RFC 2047 encoded words; any charset is passed through
// as bytes, since the tokenizer works on bytes.
var wordDecoder = &mime.WordDecoder{CharsetReader: func(_ string, r io.Reader) (io.Reader, error) { return r, nil }}

func decodeWords(s string) string {
	if !strings.Contains(s, "=?") {
		return s
	}
	if d, err := wordDecoder.DecodeHeader(s); err == nil {
		return d
	}
	return s
}
