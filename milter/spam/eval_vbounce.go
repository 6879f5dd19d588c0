package spam

import (
	"bytes"
	"regexp"
	"strings"
)

// SA's VBounce plugin: a bounce that quotes a Received line of one of
// our own outgoing relays (welcomelist_bounce_relays) answers mail we
// really sent, so the virus-bounce rules leave it alone.

func init() {
	regEval("have_any_bounce_relays", boolEval(func(m *msgState, _ []string) bool {
		return len(m.e.conf.addrLists["welcomelist_bounce_relays"]) > 0
	}))
	regEval("check_welcomelist_bounce_relays", boolEval(evalBounceRelays))
	regEval("check_whitelist_bounce_relays", evalFuncs["check_welcomelist_bounce_relays"])
}

var (
	quotedRcvd   = regexp.MustCompile(`(?i)^[> ]*Received:`)
	rcvdInBody   = regexp.MustCompile(`(?i)Received:`)
	spacedHost   = regexp.MustCompile(` (\S+\.\S+) `)
	wsBoundHost  = regexp.MustCompile(`\s(\S+\.\S+)\s`)
	leadingSpace = regexp.MustCompile(`^\s`)
)

func evalBounceRelays(m *msgState, _ []string) bool {
	list := m.e.conf.addrLists["welcomelist_bounce_relays"]
	if len(list) == 0 {
		return false
	}
	m.render()
	// The rendered text first: a Received line pasted into the bounce.
	for _, ln := range m.bodyLines {
		if !quotedRcvd.MatchString(ln) {
			continue
		}
		for _, mm := range spacedHost.FindAllStringSubmatch(ln, -1) {
			if matchGlobs(list, mm[1]) {
				return true
			}
		}
	}
	// Then the raw body, where a returned message/rfc822 part keeps its
	// header block, folded lines and all.
	_, body := splitHeaderBody(m.full)
	if !rcvdInBody.Match(body) {
		return false
	}
	return rawBodyRelayListed(body, list)
}

// rawBodyRelayListed joins each Received field of the raw body with its
// continuation lines (as SA does: without a separator) and looks for a
// listed host between whitespace. Checking the whole field once finds
// every name SA's line-by-line rescans find, in linear time.
func rawBodyRelayListed(body []byte, list []addrGlob) bool {
	var field strings.Builder
	inRcvd := false
	check := func() bool {
		if !inRcvd {
			return false
		}
		for _, mm := range wsBoundHost.FindAllStringSubmatch(latin1s(field.String()), -1) {
			if matchGlobs(list, mm[1]) {
				return true
			}
		}
		return false
	}
	for len(body) > 0 {
		var line []byte
		if i := bytes.IndexByte(body, '\n'); i >= 0 {
			line, body = body[:i], body[i+1:]
		} else {
			line, body = body, nil
		}
		if leadingSpace.Match(line) {
			if inRcvd {
				field.Write(line)
			}
			continue
		}
		if check() {
			return true
		}
		field.Reset()
		inRcvd = quotedRcvd.Match(line)
		if inRcvd {
			field.Write(line)
		}
	}
	return check()
}
