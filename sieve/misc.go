package sieve

import (
	"regexp"
	"strconv"
	"strings"
	"time"
)

// environment (RFC 5183), ihave (RFC 5463), duplicate (RFC 7352),
// spamtest/virustest (RFC 5235) and mailboxexists (RFC 5490).

func miscSpecs() []*Spec {
	return []*Spec{
		{Name: "environment", Ext: "environment", IsTest: true, Tags: tags(matchTags),
			Args: []ValType{TString, TStringList}, Check: func(c *Compiler, n *Node) { c.compileMatch(n, 1) },
			Eval: evalEnvironment},
		{Name: "ihave", Ext: "ihave", IsTest: true, Args: []ValType{TStringList}, Eval: evalIhave},
		{Name: "error", Ext: "ihave", Args: []ValType{TString}, Run: func(r *Runtime, n *Node) error {
			return r.errorf(n.Pos, "%s", r.String(n.Args[0]))
		}},
		// vnd.dovecot.duplicate is Pigeonhole's deprecated name, with
		// :value where RFC 7352 has :uniqueid.
		{Name: "duplicate", Ext: "duplicate|vnd.dovecot.duplicate", IsTest: true, Tags: []TagDef{
			{Name: "handle", Param: TString}, {Name: "header", Param: TString, Group: "id"},
			{Name: "uniqueid", Param: TString, Group: "id", Ext: "duplicate"},
			{Name: "value", Param: TString, Group: "id", Ext: "vnd.dovecot.duplicate"},
			{Name: "seconds", Param: TNumber}, {Name: "last"}}, Eval: evalDuplicate},
		{Name: "spamtest", Ext: "spamtest", IsTest: true, Tags: tags(matchTags,
			[]TagDef{{Name: "percent", Ext: "spamtestplus"}}), Args: []ValType{TString},
			Check: func(c *Compiler, n *Node) { c.compileMatch(n, 0) }, Eval: evalScoreTest},
		{Name: "virustest", Ext: "virustest", IsTest: true, Tags: tags(matchTags), Args: []ValType{TString},
			Check: func(c *Compiler, n *Node) { c.compileMatch(n, 0) }, Eval: evalScoreTest},
		{Name: "mailboxexists", Ext: "mailbox", IsTest: true, Args: []ValType{TStringList}, Eval: evalMailboxExists},
	}
}

func (r *Runtime) environment(name string) (string, bool) {
	if v, ok := r.in.Environment[name]; ok {
		return v, true
	}
	switch name {
	case "name":
		return "Pigeonhole Sieve", true
	case "version":
		return "0.5.19", true
	case "location":
		return "MDA", true
	case "phase":
		return "during", true
	case "domain", "host":
		if v, ok := r.in.Environment["host"]; ok {
			if name == "domain" {
				if _, d, ok := strings.Cut(v, "."); ok {
					return d, true
				}
			}
			return v, true
		}
		return "localhost", true
	}
	return "", false
}

func evalEnvironment(r *Runtime, n *Node) (bool, error) {
	v, ok := r.environment(strings.ToLower(r.String(n.Args[0])))
	if !ok {
		return false, nil
	}
	return r.matchValues(n, []string{v}, n.Args[1].Strs)
}

// ihaveAllowed reports whether ihave may enable ext: the extensions that
// change how the script text itself is read (encoded-character,
// variables) cannot be switched on inside a block (Pigeonhole).
func ihaveAllowed(o *Options, ext string) bool {
	return o.enabled(ext) && ext != "encoded-character" && ext != "variables"
}

func evalIhave(r *Runtime, n *Node) (bool, error) {
	for _, ext := range r.Strings(n.Args[0]) {
		if !ihaveAllowed(r.opts, ext) && !r.script.required[ext] {
			return false, nil
		}
	}
	return true, nil
}

func evalDuplicate(r *Runtime, n *Node) (bool, error) {
	id := ""
	switch {
	case n.Tag("uniqueid"):
		id = r.String(n.TagValue("uniqueid"))
	case n.Tag("value"):
		id = r.String(n.TagValue("value"))
	case n.Tag("header"):
		vals := fieldValues(r.msg.header, r.String(n.TagValue("header")), false)
		if len(vals) == 0 {
			return false, nil
		}
		id = vals[0]
	default:
		vals := fieldValues(r.msg.header, "Message-ID", false)
		if len(vals) == 0 {
			return false, nil
		}
		id = vals[0]
	}
	key := r.String(n.TagValue("handle")) + "\x00" + id
	period := 12 * time.Hour
	if s := n.TagValue("seconds"); s != nil {
		// Pigeonhole caps :seconds at sieve_duplicate_max_period (2d).
		period = min(durationOf(s.Num, time.Second), 48*time.Hour)
	}
	for _, d := range r.res.Duplicates {
		if d.ID == key {
			return true, nil
		}
	}
	seen := false
	if r.in.Duplicates != nil {
		var err error
		if seen, err = r.in.Duplicates.Seen(r.ctx, key); err != nil {
			return false, r.errorf(n.Pos, "duplicate test: %v", err)
		}
	}
	r.res.Duplicates = append(r.res.Duplicates, DuplicateMark{ID: key, Period: period})
	return seen, nil
}

func evalMailboxExists(r *Runtime, n *Node) (bool, error) {
	if r.in.Mailboxes == nil {
		return false, nil
	}
	for _, m := range r.Strings(n.Args[0]) {
		ok, err := r.in.Mailboxes.MailboxExists(r.ctx, m)
		if err != nil {
			return false, r.errorf(n.Pos, "mailboxexists: %v", err)
		}
		if !ok {
			return false, nil
		}
	}
	return true, nil
}

func evalScoreTest(r *Runtime, n *Node) (bool, error) {
	cfg, max := r.opts.SpamTest, 10.0
	if n.Spec.Name == "virustest" {
		cfg, max = r.opts.VirusTest, 5.0
	}
	v := r.scoreValue(cfg, max, n.Tag("percent"))
	return r.matchValues(n, []string{v}, n.Args[0].Strs)
}

// headerRegexValue reads "Header[: regexp]" from the message: the first
// group of the regexp, or the whole value.
func (r *Runtime) headerRegexValue(spec string) (string, bool) {
	name, pattern, hasRe := strings.Cut(spec, ":")
	vals := fieldValues(r.msg.header, strings.TrimSpace(name), true)
	if len(vals) == 0 {
		return "", false
	}
	if !hasRe || strings.TrimSpace(pattern) == "" {
		return vals[0], true
	}
	re, err := regexp.Compile(strings.TrimSpace(pattern))
	if err != nil {
		return "", false
	}
	m := re.FindStringSubmatch(vals[0])
	if m == nil {
		return "", false
	}
	if len(m) > 1 {
		return m[1], true
	}
	return m[0], true
}

// scoreValue computes the RFC 5235 value as Pigeonhole does: scores are
// scaled to 1..max (or 0..100 with :percent) and truncated; "0" means the
// message was not tested.
func (r *Runtime) scoreValue(cfg ScoreConfig, top float64, percent bool) string {
	if cfg.StatusHeader == "" {
		return "0"
	}
	raw, ok := r.headerRegexValue(cfg.StatusHeader)
	if !ok {
		return "0"
	}
	var score, max float64
	switch cfg.StatusType {
	case "strlen":
		score = float64(len(raw))
	case "text":
		for i := 0; i <= 10; i++ {
			if cfg.TextValueDefined[i] && cfg.TextValues[i] == raw {
				return scale(float64(i), 10, top, percent, true)
			}
		}
		return "0"
	default:
		f, err := strconv.ParseFloat(strings.TrimSpace(raw), 64)
		if err != nil {
			return "0"
		}
		score = f
	}
	if cfg.MaxHeader != "" {
		mv, ok := r.headerRegexValue(cfg.MaxHeader)
		if !ok {
			return "0"
		}
		f, err := strconv.ParseFloat(strings.TrimSpace(mv), 64)
		if err != nil {
			return "0"
		}
		max = f
	} else if f, err := strconv.ParseFloat(cfg.MaxValue, 64); err == nil {
		max = f
	}
	if max <= 0 {
		return "0"
	}
	return scale(score, max, top, percent, false)
}

func scale(score, max, top float64, percent, text bool) string {
	if percent {
		p := score/max*100 + 1e-9
		if p < 0 {
			p = 0
		}
		if p > 100 {
			p = 100
		}
		return strconv.Itoa(int(p))
	}
	if text {
		return strconv.Itoa(int(score))
	}
	if score <= 0 {
		return "1"
	}
	v := 1 + (top-1)*score/max
	if v > top {
		v = top
	}
	return strconv.Itoa(int(v))
}
