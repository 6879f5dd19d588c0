package sieve

import "strings"

// enotify (RFC 5435) with the mailto method (RFC 5436).

func notifySpecs() []*Spec {
	return []*Spec{
		{Name: "notify", Ext: "enotify", Tags: []TagDef{{Name: "from", Param: TString},
			{Name: "importance", Param: TString}, {Name: "options", Param: TStringList},
			{Name: "message", Param: TString}}, Args: []ValType{TString}, Check: checkNotify, Run: runNotify},
		{Name: "valid_notify_method", Ext: "enotify", IsTest: true, Args: []ValType{TStringList},
			Eval: func(r *Runtime, n *Node) (bool, error) {
				for _, u := range r.Strings(n.Args[0]) {
					if _, ok := parseMailtoURI(u); !ok {
						return false, nil
					}
				}
				return true, nil
			}},
		{Name: "notify_method_capability", Ext: "enotify", IsTest: true, Tags: tags(matchTags),
			Args: []ValType{TString, TString, TStringList}, Check: func(c *Compiler, n *Node) { c.compileMatch(n, 2) },
			Eval: evalNotifyCapability},
	}
}

// parseMailtoURI parses a mailto: URI; ok is false for another scheme
// or a malformed URI. A URI without recipients is valid (it notifies no
// one), as in Pigeonhole.
func parseMailtoURI(u string) (*mailtoURI, bool) {
	scheme, rest, ok := strings.Cut(u, ":")
	if !ok || !strings.EqualFold(scheme, "mailto") {
		return nil, false
	}
	m, err := parseMailto(rest)
	return m, err == ""
}

func checkNotify(c *Compiler, n *Node) {
	m := n.Args[0].Str()
	if c.ConstString(m) {
		if scheme, body, ok := strings.Cut(m, ":"); ok && strings.EqualFold(scheme, "mailto") {
			if e := mailtoError(body); e != "" {
				c.Errorf(n.Args[0].Pos, "notify command: mailto URI: %s", e)
			}
		} else if ok {
			c.Errorf(n.Args[0].Pos, "notify command: invalid method '%s'", sanitize(scheme, 80))
		} else {
			c.Errorf(n.Args[0].Pos, "notify command: invalid method URI '%s'", sanitize(m, 80))
		}
	}
	if v := n.TagValue("options"); v != nil {
		for _, o := range v.Strs {
			if c.ConstString(o) {
				if e := notifyOptionError(o); e != "" {
					c.Errorf(v.Pos, "notify command: %s", e)
					break
				}
			}
		}
	}
	if v := n.TagValue("importance"); v != nil && c.ConstString(v.Str()) {
		if s := v.Str(); s != "1" && s != "2" && s != "3" {
			c.Errorf(v.Pos, "invalid :importance value '%s' for notify command", s)
		}
	}
	if v := n.TagValue("from"); v != nil && c.ConstString(v.Str()) {
		if a := parseSieveAddress(v.Str()); a.err != "" {
			c.Errorf(v.Pos, "notify command: specified :from address '%s' is invalid for the mailto method: %s", sanitize(v.Str(), 80), a.err)
		}
	}
}

func runNotify(r *Runtime, n *Node) error {
	m := r.String(n.Args[0])
	if _, ok := parseMailtoURI(m); !ok {
		return r.errorf(n.Pos, "invalid notify method '%s'", m)
	}
	imp := r.String(n.TagValue("importance"))
	if imp == "" {
		imp = "2"
	}
	nt := &Notify{Method: m, From: r.String(n.TagValue("from")), Importance: imp,
		Options: r.Strings(n.TagValue("options")), Message: r.String(n.TagValue("message"))}
	if nt.Message == "" {
		subj := fieldValues(r.msg.header, "Subject", true)
		from := fieldValues(r.msg.header, "From", true)
		nt.Message = strings.Join(append(from[:min(1, len(from))], subj[:min(1, len(subj))]...), ": ")
	}
	return r.AddAction(n, &Action{Kind: ActNotify, Notify: nt}, false)
}

func evalNotifyCapability(r *Runtime, n *Node) (bool, error) {
	if _, ok := parseMailtoURI(r.String(n.Args[0])); !ok {
		return false, nil
	}
	if !strings.EqualFold(r.String(n.Args[1]), "online") {
		return false, nil
	}
	return r.matchValues(n, []string{"maybe"}, n.Args[2].Strs)
}
