package bayes

import (
	"io"
	"mime"
	"net/mail"
	"regexp"
	"strings"

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
	relayKeys    = regexp.MustCompile(` [a-z]+=`)
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

// headerTokenSources returns the chewed header values to tokenize, grouped
// by (compressed) name in first-seen order. Only the two Received fields
// nearest the originator are used: the ones added by our own relays say
// nothing about the message. The built-in list applies to real header
// fields only; the ignore list (bayes_ignore_header) also to metadata and
// Received, as in SpamAssassin.
func headerTokenSources(msg *mailmsg.Message, ignore map[string]bool, meta []mailmsg.Field) []headerSource {
	var fields, rcvd []mailmsg.Field
	for _, f := range msg.Header {
		switch {
		case strings.EqualFold(f.Name, "Received"):
			rcvd = append(rcvd, f)
		case relaysHeader.MatchString(f.Name):
			// SpamAssassin deletes these from the message before it adds
			// its own relay metadata: a sender must not be able to forge
			// the relay tokens.
		case !ignoredHeaders.MatchString(f.Name):
			fields = append(fields, f)
		}
	}
	for _, f := range meta {
		// Metadata names are lower case in SpamAssassin (put_metadata),
		// which its name compression and relay chewing rely on.
		fields = append(fields, mailmsg.Field{Name: strings.ToLower(f.Name), Value: f.Value})
	}
	for i := len(rcvd) - 1; i >= 0 && i >= len(rcvd)-2; i-- {
		fields = append(fields, rcvd[i])
	}
	if len(ignore) > 0 {
		kept := fields[:0]
		for _, f := range fields {
			if !ignore[strings.ToLower(f.Name)] {
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
		val := unfold(f.Value)
		if !noDecodeHeader.MatchString(f.Name) {
			val = decodeWords(val)
		}
		if strings.TrimSpace(f.Name+val) == "" {
			continue
		}
		val = chewHeader(f.Name, val)
		switch {
		case strings.EqualFold(f.Name, "In-Reply-To"), strings.EqualFold(f.Name, "References"), strings.EqualFold(f.Name, "Message-ID"):
			add("*MI", val)
		case strings.EqualFold(f.Name, "From"), strings.EqualFold(f.Name, "To"), strings.EqualFold(f.Name, "Cc"):
			add("*Ad", val)
		case strings.EqualFold(f.Name, "X-Mailer"), strings.EqualFold(f.Name, "User-Agent"):
			add("*UA", val)
		}
		name := f.Name
		if c, ok := nameCompression[name]; ok {
			name = c
		}
		add(name, val)
	}
	out := make([]headerSource, 0, len(order))
	for _, n := range order {
		out = append(out, headerSource{n, grouped[n]})
	}
	return out
}

func chewHeader(name, val string) string {
	switch {
	case msgIDHeader.MatchString(name):
		return chewMessageID(val)
	case addrHeader.MatchString(name):
		return chewAddresses(val)
	case name == "Received":
		return chewReceived(val)
	case name == "Content-Type":
		return chewContentType(val)
	case name == "MIME-Version":
		return strings.Replace(val, "1.0", "", 1)
	case presenceOnly.MatchString(name):
		return "1"
	case relaysMeta.MatchString(name):
		return relayKeys.ReplaceAllString(val, " ")
	}
	return val
}

var (
	midOutlook  = regexp.MustCompile(`<([0-9a-f]{4})[0-9a-f]{4}[0-9a-f]{4}\$([0-9a-f]{4})[0-9a-f]{4}\$([0-9a-f]{8})@(\S+)>`)
	midExim     = regexp.MustCompile(`<[A-Za-z0-9]{7}-[A-Za-z0-9]{6}-0[A-Za-z0-9]@`)
	midDated    = regexp.MustCompile(`<20\d\d[01]\d[0123]\d[012]\d[012345]\d[012345]\d\.[A-F0-9]{10,12}@`)
	midNonWord  = regexp.MustCompile(`[^_A-Za-z0-9]`)
	rcvdSendm1  = regexp.MustCompile(`\swith\sSMTP\sid\sg[\dA-Z]{10,12}\s`)
	rcvdSendm2  = regexp.MustCompile(`\swith\sESMTP\sid\s[\dA-F]{10,12}\s`)
	rcvdID      = regexp.MustCompile(`\bid\s[a-zA-Z0-9]{7,20}\b`)
	rcvdEximID  = regexp.MustCompile(`\bid\s[A-Za-z0-9]{7}-[A-Za-z0-9]{6}-0[A-Za-z0-9]`)
	rcvdDate    = regexp.MustCompile(`(?:(?:Mon|Tue|Wed|Thu|Fri|Sat|Sun),\s)?[0-3\s]?[0-9]\s(?:Jan|Feb|Ma[ry]|Apr|Ju[nl]|Aug|Sep|Oct|Nov|Dec)\s(?:19|20)?[0-9]{2}\s[0-2][0-9](?::[0-5][0-9]){1,2}\s(?:\s*\(|\)|\s*(?:[+-][0-9]{4})|\s*(?:UT|[A-Z]{2,3}T))*`)
	rcvdIP      = regexp.MustCompile(`\b(\d{1,3}\.)(\d{1,3}\.)(\d{1,3})(\.\d{1,3})\b`)
	rcvdNoise   = regexp.MustCompile(`\b(?:with|from|for|SMTP|ESMTP)\b`)
	ctBoundary  = regexp.MustCompile(`(?i)boundary=["'](.*?)["']`)
	ctHex       = regexp.MustCompile(`[a-fA-F0-9]`)
	ctPunct     = regexp.MustCompile(`([-_.=]+)`)
	ctTextWords = regexp.MustCompile(`\b(?:text|charset)\b`)
)

// chewMessageID keeps the parts of a Message-ID that identify the software
// that made it, not the unique parts.
func chewMessageID(v string) string {
	v = midOutlook.ReplaceAllString(v, " OEA$1 OEB$2 OEC$3 $4 ")
	v = midExim.ReplaceAllString(v, "")
	v = midDated.ReplaceAllString(v, "")
	return midNonWord.ReplaceAllString(v, " ")
}

// chewReceived drops queue ids, dates and keywords, and turns each IPv4
// address into its /24 network plus an ip* token for the whole address.
func chewReceived(v string) string {
	v = rcvdSendm1.ReplaceAllString(v, " ")
	v = rcvdSendm2.ReplaceAllString(v, " ")
	v = rcvdID.ReplaceAllString(v, " ")
	v = rcvdEximID.ReplaceAllString(v, " ")
	v = rcvdDate.ReplaceAllString(v, "")
	// Every address becomes its /24 network: SpamAssassin means to keep
	// 10/8 and 192.168/16 addresses whole, but its test compares an octet
	// captured with its dot against "10" and never succeeds, so its
	// databases hold /24s only.
	v = rcvdIP.ReplaceAllString(v, "$1$2$3 ip*$1$2$3$4 ")
	return rcvdNoise.ReplaceAllString(v, " ")
}

func chewContentType(v string) string {
	var boundary string
	if m := ctBoundary.FindStringSubmatch(v); m != nil {
		boundary = m[1]
		v = ctBoundary.ReplaceAllString(v, " ")
		boundary = ctHex.ReplaceAllString(boundary, "H")
		boundary = ctPunct.ReplaceAllString(boundary, " $1 ")
	}
	return ctTextWords.ReplaceAllString(v+boundary, " ")
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

var foldRE = regexp.MustCompile(`\r?\n[ \t]+`)

// unfold joins folded lines with one space (a fold and the whitespace after
// it count as one space, as SpamAssassin decodes header values, so dates
// split across lines still look like dates) and trims the value.
func unfold(v string) string {
	v = foldRE.ReplaceAllString(v, " ")
	return strings.TrimSpace(strings.NewReplacer("\r\n", "", "\n", "").Replace(v))
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
