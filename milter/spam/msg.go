package spam

import (
	"bytes"
	"context"
	"strings"
	"time"

	"github.com/gomilter/gomilter/internal/bayes"
	"github.com/gomilter/gomilter/internal/mailmsg"
)

// maxBodyLine is SA's MAX_BODY_LINE_LENGTH: longer rendered lines are
// split so that body regexes see bounded input.
const (
	maxBodyLine = 2048
	maxURILen   = 8192
	maxURIs     = 2000 // per message, bounds uri rule work
)

// msgState is one message being checked: parsed once, with the views
// each rule type needs computed lazily.
type msgState struct {
	e    *Engine
	env  *mailmsg.Envelope
	raw  []byte // the message as given, for Bayes auto-learning
	full []byte // LF line endings
	root *part
	hdrs []header
	rawH []byte // pristine header block

	bodyLines  []string // rendered body, Latin-1
	rawParts   []string // decoded text parts, Latin-1
	htmls      []*htmlResult
	uris       []string
	rendered   bool
	relays     *relayInfo
	getCache   map[string][]string
	hits       map[string]float64
	vals       []float64 // hits by the rule's slot (Engine.slots), for meta rules
	evalCache  map[string]any
	evalKind   RuleKind // kind of the eval rule running (body and rawbody evals see different text)
	textParts  []*part
	plainTexts map[*part]string
	ctx        context.Context
	deadline   time.Time
	timedOut   bool
	set        *ruleSet
	bayesProb  *float64
	btoks      *bayes.Tokens // see bayesTokens
	flags      *parseFlags
	mime       *mimeStats
	lines      map[RuleKind][]*text
	hvals      []hdrVal // by Engine.hdrSpecs
	mimeHdrs   []*mimeHdr
	joined     map[RuleKind]*text
	lower      map[RuleKind]string
	lhits      map[RuleKind][]*lineHits
	ktexts     map[RuleKind]kindText
	scanBuf    []uint64
	auth       *authState // DKIM/SPF/ARC facts (eval_auth.go)
}

// normalizeNL turns CRLF into LF, as SA's message reader does.
func normalizeNL(b []byte) []byte {
	if bytes.IndexByte(b, '\r') < 0 {
		return b
	}
	return bytes.ReplaceAll(b, []byte("\r\n"), []byte("\n"))
}

// messageBytes serialises a mailmsg.Message (CRLF) into raw bytes.
func messageBytes(m *mailmsg.Message) []byte {
	var b bytes.Buffer
	for _, f := range m.Header {
		b.WriteString(f.Raw())
	}
	b.WriteString("\r\n")
	b.Write(m.Body)
	return b.Bytes()
}

func newMsgState(e *Engine, env *mailmsg.Envelope, raw []byte) *msgState {
	full := normalizeNL(raw)
	// SA skips a leading mbox "From " line.
	if bytes.HasPrefix(full, []byte("From ")) {
		if i := bytes.IndexByte(full, '\n'); i >= 0 {
			full = full[i+1:]
		}
	}
	fl := &parseFlags{}
	root := parsePart(full, 0, fl, "text/plain")
	hb, _ := splitHeaderBody(full)
	if !bytes.Contains(full, []byte("\n\n")) && !bytes.HasPrefix(full, []byte("\n")) {
		fl.missingHBSep = true
	}
	return &msgState{e: e, env: env, raw: raw, full: full, root: root, hdrs: root.headers, rawH: hb, flags: fl,
		getCache: map[string][]string{}, hits: map[string]float64{}, evalCache: map[string]any{},
		vals: make([]float64, len(e.slots))}
}

// setHit records a rule's hit value.
func (m *msgState) setHit(name string, v float64) {
	m.hits[name] = v
	if i, ok := m.e.slots[name]; ok {
		m.vals[i] = v
	}
}

// headerValues returns SA's get() list for name with modifiers.
func (m *msgState) headerValues(name string, mods []string) []string {
	key := name + ":" + strings.Join(mods, ":")
	if v, ok := m.getCache[key]; ok {
		return v
	}
	v := m.computeGet(name, mods)
	m.getCache[key] = v
	return v
}

func hasMod(mods []string, s string) bool {
	for _, m := range mods {
		if m == s {
			return true
		}
	}
	return false
}

func (m *msgState) computeGet(name string, mods []string) []string {
	raw := hasMod(mods, "raw")
	var res []string
	switch lname := strings.ToLower(name); {
	case name == "ALL":
		for _, h := range m.hdrs {
			res = append(res, m.allLine(h, raw))
		}
	case strings.HasPrefix(name, "ALL-"):
		res = m.allInRange(name[4:], raw)
	case lname == "envelopefrom":
		if f := m.envelopeFrom(); f != "" {
			res = append(res, f+"\n")
		}
	case strings.HasPrefix(lname, "x-spam-relays-"):
		res = append(res, m.relayString(lname[len("x-spam-relays-"):]))
	case lname == "tocc":
		res = append(res, m.rawOrDec("To", raw)...)
		res = append(res, m.rawOrDec("Cc", raw)...)
	case name == "MESSAGEID":
		for _, h := range []string{"X-Message-Id", "Resent-Message-Id", "X-Original-Message-ID", "Message-Id"} {
			for _, v := range m.rawOrDec(h, raw) {
				if v != "" {
					res = append(res, v)
				}
			}
		}
	default:
		res = m.rawOrDec(name, raw || hasMod(mods, "addr") || hasMod(mods, "name"))
	}
	if len(res) == 0 {
		return nil
	}
	if hasMod(mods, "first") {
		res = res[:1]
	} else if hasMod(mods, "last") {
		res = res[len(res)-1:]
	}
	if hasMod(mods, "addr") || hasMod(mods, "name") {
		res = addrOrName(res, hasMod(mods, "addr"), raw)
	}
	return res
}

func (m *msgState) allLine(h header, raw bool) string {
	if raw {
		return h.name + ": " + h.raw
	}
	return h.name + ": " + h.dec + "\n"
}

// allInRange is SA's get_all_hdrs_in_rcvd_index_range for ALL-TRUSTED,
// ALL-UNTRUSTED, ALL-INTERNAL and ALL-EXTERNAL: the headers up to and
// including the last trusted (internal) Received line, or from the
// first untrusted (external) one on.
func (m *msgState) allInRange(which string, raw bool) []string {
	ri := m.relayInfo()
	idx := ri.lastTrustedIdx
	if which == "INTERNAL" || which == "EXTERNAL" {
		idx = ri.lastInternalIdx
	}
	before := which == "TRUSTED" || which == "INTERNAL"
	var out []string
	cur := -1
	for _, h := range m.hdrs {
		if strings.EqualFold(h.name, "Received") {
			cur++
		}
		if before {
			if cur < idx+1 {
				out = append(out, m.allLine(h, raw))
			} else if cur == idx+1 {
				out = append(out, m.allLine(h, raw))
				break
			}
		} else if cur >= idx+1 {
			out = append(out, m.allLine(h, raw))
		}
	}
	return out
}

// rawOrDec returns every value of header name: raw (folds turned into a
// space) or decoded, each "\n"-terminated.
func (m *msgState) rawOrDec(name string, raw bool) []string {
	var out []string
	for _, h := range m.hdrs {
		if !strings.EqualFold(h.name, name) {
			continue
		}
		if raw {
			out = append(out, foldRaw.ReplaceAllString(h.raw, " "))
		} else {
			out = append(out, h.dec+"\n")
		}
	}
	return out
}

func addrOrName(vals []string, addr, raw bool) []string {
	var out []string
	for _, v := range vals {
		for _, a := range parseAddresses(strings.TrimSuffix(v, "\n")) {
			if addr {
				// "@" or "user@" is no address for SA's parser either.
				if a.addr != "" && !strings.HasPrefix(a.addr, "@") && !strings.HasSuffix(a.addr, "@") {
					out = append(out, a.addr)
				}
				continue
			}
			p := a.phrase
			if !raw {
				p = decodeHeaderValue("X", p)
				p = strings.Join(strings.Fields(p), " ")
				if len(p) >= 2 && p[0] == '\'' && p[len(p)-1] == '\'' {
					p = p[1 : len(p)-1]
				}
			}
			out = append(out, p)
		}
	}
	return out
}

// headerForRule returns the string a header rule matches and whether the
// header was present (SA's $hval, undef when absent).
func (m *msgState) headerForRule(h *HeaderSpec) (string, bool) {
	vals := m.headerValues(h.Name, h.Mods)
	if len(vals) == 0 {
		if h.IfUnset != nil {
			return *h.IfUnset, true
		}
		return "", false
	}
	sep := "\n"
	if strings.HasSuffix(vals[0], "\n") {
		sep = ""
	}
	return strings.Join(vals, sep), true
}

// lastHeader returns the decoded value of the last header named name
// (SA's scalar get_header), without newline.
func (m *msgState) lastHeader(name string) (string, bool) {
	v, ok := "", false
	for _, h := range m.hdrs {
		if strings.EqualFold(h.name, name) {
			v, ok = h.dec, true
		}
	}
	return v, ok
}

// get is SA's scalar $pms->get(): the joined values, or the first one
// without newline for address-style modifiers.
func (m *msgState) get(spec string) string {
	parts := strings.Split(spec, ":")
	vals := m.headerValues(parts[0], parts[1:])
	if len(vals) == 0 {
		return ""
	}
	if len(parts) > 1 && (hasMod(parts[1:], "addr") || hasMod(parts[1:], "name")) || spec == "EnvelopeFrom" {
		return strings.TrimSuffix(vals[0], "\n")
	}
	return strings.Join(vals, "")
}

func (m *msgState) envelopeFrom() string {
	if m.env != nil && m.env.MailFrom != "" {
		return m.env.MailFrom
	}
	return m.headerEnvelopeFrom()
}

// headerEnvelopeFrom is the envelope sender as the header alone tells it
// (Return-Path, the last relay's envfrom...), whatever the SMTP session said.
func (m *msgState) headerEnvelopeFrom() string {
	r := m.relayInfo()
	var last *relay
	if len(r.untrusted) > 0 {
		last = r.untrusted[0]
	} else if len(r.trusted) > 0 {
		last = r.trusted[len(r.trusted)-1]
	}
	if last != nil && strings.Index(last.envfrom, "@") > 0 {
		return last.envfrom
	}
	// X-Sender plus a fetchmail hop means the envelope was lost.
	if xs := m.headerValues("X-Sender", []string{"first", "addr"}); len(xs) > 0 && strings.Contains(xs[0], "@") {
		for _, r := range m.headerValues("Received", nil) {
			if strings.Contains(r, "(fetchmail") {
				return ""
			}
		}
	}
	// A header below a Received line was added before the last hop and
	// cannot be trusted as the envelope sender: SA skips a header when
	// any of its occurrences follows any Received line.
	seenRcvd := false
	first := map[string]string{}
	late := map[string]bool{}
	for _, h := range m.hdrs {
		ln := strings.ToLower(h.name)
		if ln == "received" {
			seenRcvd = true
			continue
		}
		if ln != "x-envelope-from" && ln != "envelope-sender" && ln != "return-path" {
			continue
		}
		late[ln] = late[ln] || seenRcvd
		if _, ok := first[ln]; !ok {
			first[ln] = ""
			if a := parseAddresses(h.dec); len(a) > 0 {
				first[ln] = a[0].addr
			}
		}
	}
	for _, k := range []string{"x-envelope-from", "envelope-sender", "return-path"} {
		v, ok := first[k]
		if !ok {
			continue
		}
		if late[k] {
			if k == "x-envelope-from" {
				return ""
			}
			continue
		}
		return v
	}
	return ""
}
