package dkim

import (
	"fmt"
	"strings"
)

// confHandlers are the opendkim.conf directives gomilter implements.
var confHandlers map[string]confHandler

func init() {
	confHandlers = map[string]confHandler{
		"mode":                      parseMode,
		"domain":                    listOpt(func(o *Options, v []string) { o.Domains = v }),
		"selector":                  stringOpt(func(o *Options, s string) { o.Selector = s }),
		"keyfile":                   keyFileOpt,
		"keytable":                  keyTableOpt,
		"signingtable":              signingTableOpt,
		"multiplesignatures":        boolOpt(func(o *Options, b bool) { o.MultipleSignatures = b }),
		"subdomains":                boolOpt(func(o *Options, b bool) { o.SubDomains = b }),
		"canonicalization":          parseCanonOpt,
		"internalhosts":             parseHosts(func(o *Options, h *HostList) { o.InternalHosts = h }),
		"externalignorelist":        parseHosts(func(o *Options, h *HostList) { o.ExternalIgnoreList = h }),
		"peerlist":                  parseHosts(func(o *Options, h *HostList) { o.PeerList = h }),
		"mta":                       listOpt(func(o *Options, v []string) { o.MTA = v }),
		"oversignheaders":           listOpt(func(o *Options, v []string) { o.OversignHeaders = v }),
		"signheaders":               listOpt(func(o *Options, v []string) { o.SignHeaders = v }),
		"dontsignmailto":            listOpt(func(o *Options, v []string) { o.DontSignMailTo = v }),
		"signaturettl":              parseTTL,
		"signaturealgorithm":        parseAlgorithm,
		"minimumkeybits":            intOpt(func(o *Options, n int) { o.MinimumKeyBits = n }),
		"maximumsignaturestoverify": intOpt(func(o *Options, n int) { o.MaxSignaturesToVerify = n }),
		"alwaysaddarheader":         boolOpt(func(o *Options, b bool) { o.AlwaysAddARHeader = b }),
		"authservid":                stringOpt(func(o *Options, s string) { o.AuthservID = s }),
		"socket":                    stringOpt(func(o *Options, s string) { o.Socket = s }),
		"umask":                     stringOpt(func(o *Options, s string) { o.UMask = s }),
		"testpublickeys":            pathOpt(func(o *Options, s string) { o.TestPublicKeys = s }),
		"on-default":                actionOpt(func(o *Options, a Action) { o.setAll(a) }),
		"on-badsignature":           actionOpt(func(o *Options, a Action) { o.OnBadSignature = a }),
		"on-dnserror":               actionOpt(func(o *Options, a Action) { o.OnDNSError = a }),
		"on-internalerror":          actionOpt(func(o *Options, a Action) { o.OnInternalError = a }),
		"on-keynotfound":            actionOpt(func(o *Options, a Action) { o.OnKeyNotFound = a }),
		"on-nosignature":            actionOpt(func(o *Options, a Action) { o.OnNoSignature = a }),
		"on-security":               actionOpt(func(o *Options, a Action) { o.OnSecurity = a }),
		"on-signatureerror":         actionOpt(func(o *Options, a Action) { o.OnSignatureError = a }),
		"allowsha1only":             boolOpt(func(o *Options, b bool) { o.AllowSHA1 = b }),
		"nameservers":               listOpt(func(o *Options, v []string) { o.Nameservers = v }),
		"dnstimeout":                dnsTimeoutOpt,
	}
}

// confNoEffect are directives about OpenDKIM's own process or logging,
// which gomilter handles elsewhere (its own config, systemd, slog).
var confNoEffect = map[string]string{
	"background": "gomilter always runs in the foreground", "autorestart": "use systemd Restart=",
	"autorestartcount": "use systemd", "autorestartrate": "use systemd",
	"pidfile": "use systemd", "userid": "use the systemd unit's User=",
	"syslog": "gomilter logs through slog", "syslogsuccess": "logged at Info level",
	"syslogfacility": "gomilter logs through slog", "syslogname": "gomilter logs through slog",
	"logwhy": "reasons are always logged at Debug level", "logresults": "results are logged at Debug level",
	"enablecoredumps": "Go runtime", "changerootdirectory": "use systemd RootDirectory=",
	"requiresafekeys": "keys must not be world-readable; gomilter only warns",
	"trustanchorfile": "DNSSEC is the resolver's business", "temporarydirectory": "no temporary files are used",
	"keeptemporaryfiles": "no temporary files are used", "milterdebug": "use the milter trace option",
	"softwareheader": "gomilter adds no software header", "disablecryptoinit": "Go crypto",
	"querycache": "the shared resolver caches", "resolvertracing": "no tracing",
	"resolverconfiguration": "set the resolver in gomilter's config", "basedirectory": "paths are relative to this file",
	"fixcrlf": "bare LF is always fixed", "dnsconnect": "the shared resolver picks UDP/TCP",
}

// confUnsupported are OpenDKIM features gomilter does not implement.
var confUnsupported = map[string]bool{}

func init() {
	for _, n := range strings.Fields(`authservidwithjobid bodylengthdb boguskey captureunknownerrors
		clockdrift diagnostics diagnosticdirectory domainkeyscompat exemptdomains finalpolicyscript
		identityheader identityheaderremove ignoremalformedmail include keepauthresults
		ldapauthmechanism ldapauthname ldapauthrealm ldapauthuser ldapbindpassword ldapbinduser
		ldapdisablecache ldapkeepaliveidle ldapkeepaliveinterval ldapkeepaliveprobes ldaptimeout
		ldapusetls macrolist maximumheaders maximumsignedbytes minimum mtacommand mustbesigned
		noheaderb omitheaders popdbfile quarantine redirectfailuresto removearall removearfrom
		removeoldsignatures replaceheaders replacerules reportaddress reportbccaddress requestreports
		requiredheaders resignall resignmailto screenpolicyscript selectcanonicalizationheader
		senderheaders sendermacro sendreports setuppolicyscript smtpuri softstart statistics
		statisticsname statisticspolicyscript statisticsprefix strictheaders stricttestmode
		testdnsdata trustsignaturesfrom unprotectedkey vbr-certifiers vbr-purgefields
		vbr-trustedcertifiers vbr-trustedcertifiersonly vbr-type weaksyntaxchecks atpsdomains
		atpshashalgorithm addallsignatureresults on-policyerror reputationlimits reputationratios
		reputationtimefactor reputationspamcheck reputationcache reputationcachettl reputationduplicates
		reputationlimitmodifiers reputationlowtime reputationminimum reputationrate reputationreject
		reputationtest reputationverbose senderpolicyscript signaturettlmaximum luagcfrequency`) {
		confUnsupported[n] = true
	}
}

func pathOpt(set func(o *Options, s string)) confHandler {
	return func(p *confParser, l confLine) error {
		set(p.opts, resolvePath(l.value, p.base))
		return nil
	}
}

func keyFileOpt(p *confParser, l confLine) error {
	p.opts.KeyFile = resolvePath(l.value, p.base)
	return nil
}

func dnsTimeoutOpt(p *confParser, l confLine) error {
	return intOpt(func(o *Options, n int) { o.DNSTimeoutSeconds = n })(p, l)
}

// keyTableOpt reads "name domain:selector:key" lines.
func keyTableOpt(p *confParser, l confLine) error {
	d, err := loadDataset(l.value, p.base)
	if err != nil {
		return err
	}
	var specs []KeySpec
	for _, e := range d.Entries {
		ks, err := parseKeyTableValue(e.Key, e.Value, filepathDir(d.Path, p.base))
		if err != nil {
			return fmt.Errorf("%s: %v", d.where(e), err)
		}
		specs = append(specs, ks)
	}
	p.opts.KeyTable = specs
	return nil
}

func filepathDir(path, def string) string {
	if i := strings.LastIndexByte(path, '/'); i >= 0 {
		return path[:i]
	}
	return def
}

func parseKeyTableValue(name, value, base string) (KeySpec, error) {
	parts := strings.SplitN(value, ":", 3)
	if len(parts) != 3 || parts[0] == "" || parts[1] == "" || strings.TrimSpace(parts[2]) == "" {
		return KeySpec{}, fmt.Errorf("key %q: want domain:selector:keyfile-or-keydata", trimQ(name))
	}
	ks := KeySpec{Name: name, Domain: strings.ToLower(parts[0]), Selector: parts[1]}
	k := strings.TrimSpace(parts[2])
	switch {
	case strings.HasPrefix(k, "/") || strings.HasPrefix(k, "./") || strings.HasPrefix(k, "../"):
		ks.Path = resolvePath(k, base)
	case strings.HasPrefix(k, "-----BEGIN"):
		ks.Data = k
	default:
		// OpenDKIM reads anything else as base64 DER; a bare relative
		// file name is a common mistake, so take it as a path if it is
		// not base64 (decoding decides at load time).
		ks.Data, ks.Path = k, resolvePath(k, base)
	}
	return ks, nil
}

// signingTableOpt reads "pattern keyname[:signer]" lines.
func signingTableOpt(p *confParser, l confLine) error {
	d, err := loadDataset(l.value, p.base)
	if err != nil {
		return err
	}
	st := &SigningTable{Wildcard: d.Kind == "refile"}
	for _, e := range d.Entries {
		key, signer, _ := strings.Cut(e.Value, ":")
		if key == "" {
			return fmt.Errorf("%s: pattern %q names no key", d.where(e), trimQ(e.Key))
		}
		st.Rules = append(st.Rules, SigningRule{Pattern: e.Key, KeyName: key, Signer: signer})
	}
	p.opts.SigningTable = st
	return nil
}

// finish checks cross-directive consistency the way OpenDKIM refuses to
// start (t-conf-check*.conf): a SigningTable naming a key missing from the
// KeyTable, a SigningTable without KeyTable, Domain without KeyFile.
func (p *confParser) finish() {
	o := p.opts
	end := confLine{name: "(signing setup)", line: 0}
	if o.SigningTable != nil && o.KeyTable == nil {
		p.errorf(end, "SigningTable needs a KeyTable")
	}
	if o.SigningTable != nil {
		names := map[string]bool{}
		for _, k := range o.KeyTable {
			names[k.Name] = true
		}
		for _, r := range o.SigningTable.Rules {
			if !names[r.KeyName] {
				p.errorf(end, "SigningTable names key %q, which the KeyTable lacks", trimQ(r.KeyName))
			}
		}
	}
	if o.KeyTable == nil && len(o.Domains) > 0 && (o.KeyFile == "" || o.Selector == "") && o.Mode&ModeSign != 0 {
		p.errorf(end, "Domain is set but KeyFile or Selector is missing")
	}
	if o.KeyTable != nil && (o.KeyFile != "" || len(o.Domains) > 0) {
		p.warns = append(p.warns, p.file+": Domain/Selector/KeyFile are ignored because KeyTable is set (as in OpenDKIM)")
	}
}
