package sieve

import (
	"strings"
)

var copyTag = TagDef{Name: "copy", Ext: "copy"}
var flagsTag = TagDef{Name: "flags", Param: TStringList, Ext: "imap4flags"}

func actionSpecs() []*Spec {
	return []*Spec{
		{Name: "keep", Tags: []TagDef{flagsTag}, Run: runKeep},
		{Name: "discard", Run: func(r *Runtime, n *Node) error {
			return r.AddAction(n, &Action{Kind: ActDiscard}, true)
		}},
		{Name: "redirect", Tags: []TagDef{copyTag, {Name: "list", Param: TString, Ext: "extlists"}},
			Args: []ValType{TString}, Check: checkRedirect, Run: runRedirect},
		{Name: "fileinto", Ext: "fileinto", Tags: []TagDef{copyTag, flagsTag,
			{Name: "create", Ext: "mailbox"}, {Name: "specialuse", Param: TString, Ext: "special-use"}},
			Args: []ValType{TString}, Check: checkFileinto, Run: runFileinto},
		{Name: "reject", Ext: "reject", Args: []ValType{TString}, Run: runReject(ActReject)},
		{Name: "ereject", Ext: "ereject", Args: []ValType{TString}, Run: runReject(ActEreject)},
	}
}

func runKeep(r *Runtime, n *Node) error {
	flags := r.actionFlags(n)
	return r.AddAction(n, &Action{Kind: ActKeep, Flags: flags}, true)
}

// actionFlags returns the flags for keep/fileinto: :flags, else the
// internal flag variable (RFC 5232 section 5).
func (r *Runtime) actionFlags(n *Node) []string {
	if v := n.TagValue("flags"); v != nil {
		return parseFlagList(r.Strings(v))
	}
	// The internal flags carry over between scripts of a sequence, also
	// into scripts that do not use imap4flags themselves.
	if len(r.flags) > 0 {
		return append([]string(nil), r.flags...)
	}
	return nil
}

func (r *Runtime) implicitFlags() []string {
	if r.root.required["imap4flags"] || len(r.flags) > 0 {
		return append([]string(nil), r.flags...)
	}
	return nil
}

func checkRedirect(c *Compiler, n *Node) {
	a := n.Args[0].Str()
	if c.ConstString(a) {
		if p := parseSieveAddress(a); p.err != "" {
			c.Errorf(n.Args[0].Pos, "specified redirect address '%s' is invalid: %s", sanitize(a, 128), p.err)
		}
	}
}

// normalizeRedirect reduces "Name <a@b>" to a@b and checks it is one
// plain address with a domain.
func normalizeRedirect(a string) (string, bool) {
	p := parseSieveAddress(a)
	if p.err != "" {
		return "", false
	}
	return p.String(), true
}

func runRedirect(r *Runtime, n *Node) error {
	raw := r.String(n.Args[0])
	addr, ok := normalizeRedirect(raw)
	if !ok {
		return r.errorf(n.Pos, "specified redirect address '%s' is invalid", raw)
	}
	cp := n.Tag("copy")
	return r.AddAction(n, &Action{Kind: ActRedirect, Address: addr, Copy: cp}, !cp)
}

func checkFileinto(c *Compiler, n *Node) {
	m := n.Args[0].Str()
	if e := mailboxNameError(m); c.ConstString(m) && e != "" {
		c.Errorf(n.Args[0].Pos, "fileinto command: invalid folder name '%s' specified: %s", sanitize(m, 256), e)
	}
}

func runFileinto(r *Runtime, n *Node) error {
	m := r.String(n.Args[0])
	if e := mailboxNameError(m); e != "" {
		return r.errorf(n.Pos, "fileinto command: invalid folder name '%s' specified: %s", sanitize(m, 256), e)
	}
	cp := n.Tag("copy")
	a := &Action{Kind: ActFileinto, Mailbox: normalizeInbox(m), Copy: cp, Create: n.Tag("create"),
		SpecialUse: r.String(n.TagValue("specialuse")), Flags: r.actionFlags(n)}
	return r.AddAction(n, a, !cp)
}

// normalizeInbox spells the INBOX name and prefix in upper case: IMAP
// treats "inbox" case-insensitively (RFC 3501 5.1).
func normalizeInbox(m string) string {
	if len(m) >= 5 && strings.EqualFold(m[:5], "INBOX") && (len(m) == 5 || m[5] == '.' || m[5] == '/') {
		return "INBOX" + m[5:]
	}
	return m
}

func runReject(kind ActionKind) func(r *Runtime, n *Node) error {
	return func(r *Runtime, n *Node) error {
		return r.AddAction(n, &Action{Kind: kind, Reason: r.String(n.Args[0])}, true)
	}
}
