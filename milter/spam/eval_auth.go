package spam

import (
	"context"
	"net/netip"
	"regexp"
	"strings"
	"time"

	"github.com/gomilter/gomilter/internal/spf"
	"github.com/gomilter/gomilter/milter/arc"
	"github.com/gomilter/gomilter/milter/dkim"
)

// Auth hands the engine sender authentication its caller already did, as
// SpamAssassin's callers may pass verified DKIM signatures instead of
// letting the DKIM plugin look keys up again. The milter verifies DKIM,
// SPF and ARC before spam scoring; with Auth the DKIM and SPF rules answer
// from those results (and stay consistent with the Authentication-Results
// field). Every part is optional: a part not supplied is verified here
// when network tests are on, and its rules stay quiet when they are off
// (they are network rules in SpamAssassin too).
type Auth struct {
	// DKIMVerified says DKIM lists the outcome of every DKIM-Signature
	// field of the message (an empty list: the message is not signed).
	DKIMVerified bool
	DKIM         []DKIMSignature
	// SPF is the RFC 7208 result for the MAIL FROM identity and SPFHelo
	// for the HELO name: "pass", "fail", "softfail", "neutral", "none",
	// "temperror", "permerror". "" means not checked; SPFSkipped means
	// checked and not applicable (the null sender has no MAIL FROM
	// identity), so no SPF rule for that identity hits.
	SPF, SPFHelo string
	// ARC is the chain's verdict: "none", "pass" or "fail"; "" means not
	// checked.
	ARC string
}

// SPFSkipped marks an SPF identity that was not applicable (see Auth).
const SPFSkipped = "skipped"

// DKIMSignature is the verifier's outcome for one DKIM-Signature field.
type DKIMSignature struct {
	Domain    string // d=
	Identity  string // i= (AUID); "" means "@" + Domain
	Selector  string // s=
	Algorithm string // a=, e.g. rsa-sha256 or ed25519-sha256
	// Result is the RFC 8601 dkim result: only "pass" counts as valid.
	Result string
	// KeyBits is the public key size, 0 when unknown.
	KeyBits int
	// Testing is set when the key record carries t=y.
	Testing bool
}

// sdid is the domain a signature vouches for as SpamAssassin sees it:
// the domain part of i= (which defaults to d=), lower-cased.
func (s DKIMSignature) sdid() string {
	if s.Identity != "" {
		if at := strings.LastIndexByte(s.Identity, '@'); at >= 0 && at+1 < len(s.Identity) {
			return strings.ToLower(s.Identity[at+1:])
		}
	}
	return strings.ToLower(s.Domain)
}

// strongEnough applies dkim_minimum_key_bits. It only measures RSA: an
// Ed25519 key is 256 bits by design and as strong as 3072-bit RSA.
func (s DKIMSignature) strongEnough(min int) bool {
	if min <= 0 || s.KeyBits == 0 || !strings.HasPrefix(strings.ToLower(s.Algorithm), "rsa") {
		return true
	}
	return s.KeyBits >= min
}

// authConf holds the DKIM part of the welcomelists (the SPF and auth
// parts are plain address lists in Conf.addrLists) and its settings.
type authConf struct {
	dkimWL, defDkimWL []dkimWLEntry
	minKeyBits        int // dkim_minimum_key_bits; -1 means SA's default, 1024
}

// dkimWLEntry is one welcomelist_from_dkim address with the signing
// domain it requires ("" means the author's own domain must sign).
type dkimWLEntry struct {
	glob addrGlob
	sdid string
}

func (c *authConf) minBits() int {
	if c.minKeyBits < 0 {
		return 1024
	}
	return c.minKeyBits
}

// authSetting parses the welcomelist directives of SpamAssassin's DKIM and
// SPF plugins and welcomelist_auth, which feeds both.
func (p *confParser) authSetting(key, val string) bool {
	c := p.c
	if c.auth == nil {
		c.auth = &authConf{minKeyBits: -1}
	}
	k := strings.NewReplacer("whitelist", "welcomelist").Replace(key)
	switch k {
	case "welcomelist_from_spf", "def_welcomelist_from_spf", "welcomelist_auth", "def_welcomelist_auth":
		c.addrLists[k] = appendGlobs(c.addrLists[k], val)
	case "unwelcomelist_from_spf":
		c.addrLists["welcomelist_from_spf"] = removeGlobs(c.addrLists["welcomelist_from_spf"], val)
		c.addrLists["def_welcomelist_from_spf"] = removeGlobs(c.addrLists["def_welcomelist_from_spf"], val)
	case "unwelcomelist_auth":
		c.addrLists["welcomelist_auth"] = removeGlobs(c.addrLists["welcomelist_auth"], val)
		c.addrLists["def_welcomelist_auth"] = removeGlobs(c.addrLists["def_welcomelist_auth"], val)
	case "welcomelist_from_dkim", "def_welcomelist_from_dkim", "unwelcomelist_from_dkim":
		f := strings.Fields(val)
		if len(f) == 0 || len(f) > 2 {
			p.warnf("%s: want an address and an optional signing domain", key)
			return true
		}
		g, ok := newAddrGlob(f[0])
		if !ok {
			p.warnf("%s: bad address %q", key, f[0])
			return true
		}
		e := dkimWLEntry{glob: g}
		if len(f) == 2 {
			e.sdid = strings.ToLower(f[1])
		}
		switch k {
		case "welcomelist_from_dkim":
			c.auth.dkimWL = append(c.auth.dkimWL, e)
		case "def_welcomelist_from_dkim":
			c.auth.defDkimWL = append(c.auth.defDkimWL, e)
		default:
			c.auth.dkimWL = removeDKIMWL(c.auth.dkimWL, e)
			c.auth.defDkimWL = removeDKIMWL(c.auth.defDkimWL, e)
		}
	case "dkim_minimum_key_bits":
		var v float64
		p.float(val, &v)
		c.auth.minKeyBits = int(v)
	default:
		return false
	}
	return true
}

func removeDKIMWL(list []dkimWLEntry, drop dkimWLEntry) []dkimWLEntry {
	out := list[:0]
	for _, e := range list {
		if e.glob.src != drop.glob.src || e.sdid != drop.sdid {
			out = append(out, e)
		}
	}
	return out
}

// authState is one message's DKIM, SPF and ARC facts, from Auth or, with
// network tests on, from our own verification, each part worked out at
// most once and only when a rule asks.
type authState struct {
	in *Auth

	dkimDone   bool
	dkimReady  bool // signatures known: supplied or verified here
	sigs       []DKIMSignature
	authors    []string        // From addresses
	authorDoms map[string]bool // their domains, lower-cased
	validAU    bool            // a valid, strong author domain signature

	spfDone, heloDone bool
	spf, spfHelo      string // result; "" when no check was possible

	arcDone bool
	arc     string

	wlDone            bool
	dkimWL, defDkimWL bool
}

// Time bounds of SpamAssassin's own lookups (dkim_timeout, spf_timeout).
const (
	dkimTimeout = 5 * time.Second
	spfTimeout  = 5 * time.Second
)

func (m *msgState) authFacts() *authState {
	if m.auth == nil {
		m.auth = &authState{}
	}
	return m.auth
}

func (m *msgState) dkimFacts() *authState {
	a := m.authFacts()
	if a.dkimDone {
		return a
	}
	a.dkimDone = true
	a.authorDoms = map[string]bool{}
	for _, addr := range m.headerValues("From", []string{"addr"}) {
		addr = strings.TrimRight(addr, " \t\n")
		if addr == "" {
			continue
		}
		a.authors = append(a.authors, addr)
		if at := strings.LastIndexByte(addr, '@'); at >= 0 && at+1 < len(addr) {
			a.authorDoms[strings.ToLower(addr[at+1:])] = true
		}
	}
	switch {
	case a.in != nil && a.in.DKIMVerified:
		a.sigs, a.dkimReady = a.in.DKIM, true
	case m.e.opts.Resolver != nil:
		a.sigs, a.dkimReady = m.verifyDKIM()
	}
	min := m.e.conf.authMinBits()
	for _, s := range a.sigs {
		if s.Selector != "" && s.Result == "pass" && s.strongEnough(min) && a.authorDoms[s.sdid()] {
			a.validAU = true
		}
	}
	return a
}

// verifyDKIM checks the signatures itself, as SpamAssassin does when its
// caller supplied none. Keys are not refused for size here:
// dkim_minimum_key_bits is applied by the rules that care, as SA does.
func (m *msgState) verifyDKIM() ([]DKIMSignature, bool) {
	msg, err := dkim.ReadMessage(m.raw)
	if err != nil {
		return nil, false
	}
	ctx, cancel := context.WithTimeout(m.context(), dkimTimeout)
	defer cancel()
	v := dkim.NewVerifier(m.e.opts.Resolver, dkim.VerifyOptions{MinimumKeyBits: 1, AllowSHA1: true, MaxSignatures: 50})
	var out []DKIMSignature
	for _, r := range v.Verify(ctx, msg) {
		out = append(out, DKIMSignatureOf(r))
	}
	return out, true
}

// DKIMSignatureOf converts a milter/dkim verification result.
func DKIMSignatureOf(r dkim.Result) DKIMSignature {
	return DKIMSignature{Domain: r.Domain, Identity: r.Identity, Selector: r.Selector,
		Algorithm: r.Algorithm, Result: string(r.Status), KeyBits: r.KeyBits, Testing: r.Testing}
}

func (m *msgState) context() context.Context {
	if m.ctx != nil {
		return m.ctx
	}
	return context.Background()
}

func (c *Conf) authMinBits() int {
	if c.auth == nil {
		return 1024
	}
	return c.auth.minBits()
}

// domainMatches is DKIM.pm's acceptable-domain test: ".example.com" or
// "*.example.com" accepts the domain and its subdomains, anything else
// only the domain itself.
func domainMatches(sdid, want string) bool {
	want = strings.ToLower(want)
	rest, ok := strings.CutPrefix(want, "*.")
	if !ok {
		rest, ok = strings.CutPrefix(want, ".")
	}
	if ok {
		return sdid == rest || strings.HasSuffix(sdid, "."+rest)
	}
	return sdid == want
}

// signedBy is DKIM.pm's _check_dkim_signed_by.
func (a *authState) signedBy(min int, mustBeValid, mustBeAuthor bool, domains []string) bool {
	for _, s := range a.sigs {
		if mustBeValid && (s.Result != "pass" || !s.strongEnough(min)) {
			continue
		}
		sdid := s.sdid()
		if sdid == "" || mustBeAuthor && !a.authorDoms[sdid] {
			continue
		}
		if len(domains) == 0 {
			return true
		}
		for _, d := range domains {
			if domainMatches(sdid, d) {
				return true
			}
		}
	}
	return false
}

// signedValid: any signature counts as signed, a passing one (with a
// selector) as valid, whatever its key size, as in DKIM.pm.
func (a *authState) signedValid() (signed, valid bool) {
	signed = len(a.sigs) > 0
	for _, s := range a.sigs {
		if s.Selector != "" && s.Result == "pass" {
			valid = true
		}
	}
	return signed, valid
}

func init() {
	regEval("check_dkim_signed", boolEval(func(m *msgState, args []string) bool {
		a := m.dkimFacts()
		signed, _ := a.signedValid()
		return signed && (len(args) == 0 || a.signedBy(0, false, false, args))
	}))
	regEval("check_dkim_valid", boolEval(func(m *msgState, args []string) bool {
		a := m.dkimFacts()
		_, valid := a.signedValid()
		return valid && (len(args) == 0 || a.signedBy(m.e.conf.authMinBits(), true, false, args))
	}))
	regEval("check_dkim_verified", evalFuncs["check_dkim_valid"])
	regEval("check_dkim_valid_author_sig", boolEval(func(m *msgState, args []string) bool {
		a := m.dkimFacts()
		return a.validAU && a.signedBy(m.e.conf.authMinBits(), true, true, args)
	}))
	regEval("check_dkim_valid_envelopefrom", boolEval(func(m *msgState, _ []string) bool {
		from := m.get("EnvelopeFrom:addr")
		at := strings.IndexByte(from, '@')
		if at < 0 || at+1 >= len(from) {
			return false
		}
		f := strings.Fields(from[at+1:])
		if len(f) == 0 {
			return false
		}
		dom := strings.ToLower(f[0])
		a := m.dkimFacts()
		_, valid := a.signedValid()
		return valid && a.signedBy(m.e.conf.authMinBits(), true, false, []string{dom})
	}))
	// dependable: the caller's results, or our own verification, are in.
	// SpamAssassin also drops this for a truncated message (spamc's size
	// limit), which never reaches the engine cut.
	regEval("check_dkim_dependable", boolEval(func(m *msgState, _ []string) bool {
		return m.dkimFacts().dkimReady
	}))
	regEval("check_dkim_testing", boolEval(func(m *msgState, _ []string) bool {
		for _, s := range m.dkimFacts().sigs {
			if s.Testing {
				return true
			}
		}
		return false
	}))
	// ADSP (RFC 5617) is historic: no domain publishes it any more, so
	// every author domain's practice is "unknown" unless adsp_override
	// says otherwise, which nobody does for the rules that score.
	regEval("check_dkim_adsp", boolEval(func(*msgState, []string) bool { return false }))
	regEval("check_dkim_signsome", boolEval(func(*msgState, []string) bool { return false }))
	regEval("check_dkim_signall", boolEval(func(*msgState, []string) bool { return false }))
	regEval("check_for_dkim_welcomelist_from", boolEval(func(m *msgState, _ []string) bool {
		return m.dkimWelcome().dkimWL
	}))
	regEval("check_for_dkim_whitelist_from", evalFuncs["check_for_dkim_welcomelist_from"])
	regEval("check_for_def_dkim_welcomelist_from", boolEval(func(m *msgState, _ []string) bool {
		return m.dkimWelcome().defDkimWL
	}))
	regEval("check_for_def_dkim_whitelist_from", evalFuncs["check_for_def_dkim_welcomelist_from"])

	regEval("check_arc_signed", boolEval(func(m *msgState, _ []string) bool {
		r := m.arcFacts()
		return r == "pass" || r == "fail"
	}))
	regEval("check_arc_valid", boolEval(func(m *msgState, _ []string) bool { return m.arcFacts() == "pass" }))

	for _, res := range []string{"pass", "neutral", "none", "fail", "softfail", "permerror", "temperror"} {
		regEval("check_for_spf_"+res, boolEval(func(m *msgState, _ []string) bool { return m.spfFacts(false) == res }))
		regEval("check_for_spf_helo_"+res, boolEval(func(m *msgState, _ []string) bool { return m.spfFacts(true) == res }))
	}
	regEval("check_for_spf_welcomelist_from", boolEval(func(m *msgState, _ []string) bool {
		return m.spfWelcome("welcomelist_from_spf", "welcomelist_auth")
	}))
	regEval("check_for_spf_whitelist_from", evalFuncs["check_for_spf_welcomelist_from"])
	regEval("check_for_def_spf_welcomelist_from", boolEval(func(m *msgState, _ []string) bool {
		return m.spfWelcome("def_welcomelist_from_spf", "def_welcomelist_auth")
	}))
	regEval("check_for_def_spf_whitelist_from", evalFuncs["check_for_def_spf_welcomelist_from"])
}

// dkimWelcome is DKIM.pm's welcomelist check: an author address listed in
// welcomelist_from_dkim with a valid signature by the named domain (or,
// with none named, by the author's domain), or listed in welcomelist_auth
// with a valid author domain signature.
func (m *msgState) dkimWelcome() *authState {
	a := m.dkimFacts()
	if a.wlDone {
		return a
	}
	a.wlDone = true
	var auth, defAuth []dkimWLEntry
	for _, g := range m.e.conf.addrLists["welcomelist_auth"] {
		auth = append(auth, dkimWLEntry{glob: g})
	}
	for _, g := range m.e.conf.addrLists["def_welcomelist_auth"] {
		defAuth = append(defAuth, dkimWLEntry{glob: g})
	}
	var wl, defWL []dkimWLEntry
	if c := m.e.conf.auth; c != nil {
		wl, defWL = c.dkimWL, c.defDkimWL
	}
	min := m.e.conf.authMinBits()
	a.dkimWL = a.welcomed(min, wl) || a.welcomed(min, auth)
	a.defDkimWL = a.welcomed(min, defWL) || a.welcomed(min, defAuth)
	return a
}

func (a *authState) welcomed(min int, list []dkimWLEntry) bool {
	if len(list) == 0 {
		return false
	}
	for _, author := range a.authors {
		lc := strings.ToLower(author)
		authorDom := ""
		if at := strings.LastIndexByte(lc, '@'); at >= 0 {
			authorDom = lc[at+1:]
		}
		for _, e := range list {
			if !e.glob.match(lc) {
				continue
			}
			for _, s := range a.sigs {
				if s.Selector == "" || s.Result != "pass" || !s.strongEnough(min) {
					continue
				}
				if dkimWLMatch(s.sdid(), e.sdid, authorDom) {
					return true
				}
			}
		}
	}
	return false
}

// dkimWLMatch: an entry without a domain wants the author's own domain;
// "@example.com" and "example.com" want that domain, ".example.com" or
// "*.example.com" its subdomains only (DKIM.pm's reading).
func dkimWLMatch(sdid, want, authorDom string) bool {
	if sdid == "" {
		return false
	}
	if want == "" {
		return sdid == authorDom
	}
	if at := strings.LastIndexByte(want, '@'); at >= 0 {
		want = want[at+1:]
	}
	if rest, ok := strings.CutPrefix(want, "*."); ok {
		return strings.HasSuffix(sdid, "."+rest)
	}
	if rest, ok := strings.CutPrefix(want, "."); ok {
		return strings.HasSuffix(sdid, "."+rest)
	}
	return sdid == want
}

// lastHop is the first external relay, whose address SPF judges.
func (m *msgState) lastHop() *relay {
	if ext := m.relayInfo().external; len(ext) > 0 {
		return ext[0]
	}
	return nil
}

// spfSender is SPF.pm's envelope sender: the first external relay's
// envelope-from, else the envelope (or the header that carries it).
func (m *msgState) spfSender() string {
	if h := m.lastHop(); h != nil && strings.Contains(h.envfrom, "@") {
		return strings.ToLower(strings.Trim(h.envfrom, "<>"))
	}
	if a := parseAddresses(m.envelopeFrom()); len(a) > 0 {
		return strings.ToLower(a[0].addr)
	}
	return ""
}

var (
	heloIPLiteral = regexp.MustCompile(`^[\[!]?\d+\.\d+\.\d+\.\d+[\]!]?$`)
	spfCodes      = map[string]bool{"pass": true, "neutral": true, "none": true, "fail": true, "softfail": true, "permerror": true, "temperror": true}
)

// spfFacts returns the SPF result for the MAIL FROM identity, or for the
// HELO name, "" when unknown.
func (m *msgState) spfFacts(helo bool) string {
	a := m.authFacts()
	done, res, given := &a.spfDone, &a.spf, ""
	if helo {
		done, res = &a.heloDone, &a.spfHelo
	}
	if *done {
		return *res
	}
	*done = true
	if a.in != nil {
		given = a.in.SPF
		if helo {
			given = a.in.SPFHelo
		}
	}
	switch {
	case given != "":
		*res = strings.ToLower(given)
		if *res == "hardfail" {
			*res = "fail"
		}
		if !spfCodes[*res] {
			*res = ""
		}
	case m.e.opts.Resolver != nil:
		*res = m.checkSPF(helo)
	}
	return *res
}

// checkSPF runs SPF itself against the first external relay, as SPF.pm
// does when nobody supplied a result; the resolver must be able to answer
// every record type SPF uses (internal/dns's can).
func (m *msgState) checkSPF(helo bool) string {
	r, ok := m.e.opts.Resolver.(spf.Resolver)
	hop := m.lastHop()
	if !ok || hop == nil {
		return ""
	}
	ip, err := netip.ParseAddr(strings.TrimPrefix(hop.ip, "IPv6:"))
	if err != nil {
		return ""
	}
	c, err := spf.New(spf.Options{Resolver: r, Receiver: m.e.opts.Hostname, Timeout: spfTimeout})
	if err != nil {
		return ""
	}
	ctx, cancel := context.WithTimeout(m.context(), spfTimeout)
	defer cancel()
	if helo {
		if hop.helo == "" || heloIPLiteral.MatchString(hop.helo) || !strings.Contains(hop.helo, ".") {
			return ""
		}
		return string(c.CheckHelo(ctx, ip, hop.helo).Code)
	}
	sender := m.spfSender()
	if sender == "" {
		return ""
	}
	h := hop.helo
	if h == "" {
		h = "unknown"
	}
	return string(c.Check(ctx, ip, h, sender).Code)
}

// spfWelcome is SPF.pm's welcomelist check: the envelope sender is listed
// and SPF passed for it.
func (m *msgState) spfWelcome(lists ...string) bool {
	sender := m.spfSender()
	if a := m.authFacts(); a.in != nil && a.in.SPF != "" && m.env != nil {
		// A supplied result speaks for the envelope we were given.
		sender = strings.ToLower(m.env.MailFrom)
	}
	if sender == "" {
		return false
	}
	listed := false
	for _, l := range lists {
		if matchGlobs(m.e.conf.addrLists[l], sender) {
			listed = true
		}
	}
	return listed && m.spfFacts(false) == "pass"
}

// arcFacts returns the ARC chain verdict, "" when unknown.
func (m *msgState) arcFacts() string {
	a := m.authFacts()
	if a.arcDone {
		return a.arc
	}
	a.arcDone = true
	switch {
	case a.in != nil && a.in.ARC != "":
		a.arc = strings.ToLower(a.in.ARC)
	case m.e.opts.Resolver != nil:
		msg, err := dkim.ReadMessage(m.raw)
		if err != nil {
			return ""
		}
		ctx, cancel := context.WithTimeout(m.context(), dkimTimeout)
		defer cancel()
		a.arc = arc.Verify(ctx, m.e.opts.Resolver, msg).Status
	}
	return a.arc
}
