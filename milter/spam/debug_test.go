//go:build spamdebug

// Developer aids, built only with -tags spamdebug, e.g.
//
//	SPAM_DEBUG_RULE=RDNS_NONE go test -tags spamdebug -run DebugRuleDiff -v
package spam

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"
)

// TestDebugMessage prints internals for SPAM_DEBUG_FILE (developer aid).
func TestDebugMessage(t *testing.T) {
	f := os.Getenv("SPAM_DEBUG_FILE")
	if f == "" {
		t.Skip("set SPAM_DEBUG_FILE")
	}
	e := systemEngine(t)
	raw, err := os.ReadFile(f)
	if err != nil {
		t.Fatal(err)
	}
	m := newMsgState(e, nil, raw)
	for _, w := range []string{"trusted", "untrusted"} {
		fmt.Printf("%s: %s\n", w, m.relayString(w))
	}
	m.render()
	for _, l := range m.bodyLines {
		fmt.Printf("BODY: %q\n", l)
	}
	for _, u := range m.uriList() {
		fmt.Printf("URI: %q\n", u)
	}
	res := e.CheckBytes(context.Background(), nil, raw)
	fmt.Println(res.Score, res.Rules)
}

// TestDebugUnparseable lists Received lines we cannot parse in messages
// SA parsed fine (developer aid; set SPAM_DEBUG_RCVD=1).
func TestDebugUnparseable(t *testing.T) {
	if os.Getenv("SPAM_DEBUG_RCVD") == "" {
		t.Skip("set SPAM_DEBUG_RCVD")
	}
	dir := corpusDir(t)
	for _, row := range readRef(t, dir+"/sa-results-rules-train.tsv") {
		if row.rules["UNPARSEABLE_RELAY"] {
			continue
		}
		raw, _ := os.ReadFile(dir + "/train/" + row.group + "/" + row.file)
		for _, h := range parseHeaderBlock(normalizeNL(raw[:max(0, len(raw))])) {
			if h.name != "Received" {
				continue
			}
			if r, skip := parseReceived(h.raw); r == nil && !skip {
				fmt.Println(row.file, strings.Join(strings.Fields(h.raw), " "))
			}
		}
	}
}

// TestDebugRules prints which of SPAM_DEBUG_RULES hit for SPAM_DEBUG_FILE.
func TestDebugRules(t *testing.T) {
	f := os.Getenv("SPAM_DEBUG_FILE")
	if f == "" || os.Getenv("SPAM_DEBUG_RULES") == "" {
		t.Skip("set SPAM_DEBUG_FILE and SPAM_DEBUG_RULES")
	}
	e := systemEngine(t)
	raw, _ := os.ReadFile(f)
	m := newMsgState(e, nil, raw)
	m.set = e.sets[0]
	e.runRules(m)
	for _, r := range strings.Split(os.Getenv("SPAM_DEBUG_RULES"), ",") {
		_, active := e.conf.Rules[r]
		fmt.Printf("%s = %v (defined %v)\n", r, m.hits[r], active)
	}
}

// TestDebugRuleDiff lists corpus files where SA and we disagree on
// SPAM_DEBUG_RULE (developer aid).
func TestDebugRuleDiff(t *testing.T) {
	rule := os.Getenv("SPAM_DEBUG_RULE")
	if rule == "" {
		t.Skip("set SPAM_DEBUG_RULE")
	}
	e := systemEngine(t)
	dir := corpusDir(t)
	for _, row := range readRef(t, dir+"/sa-results-rules-train.tsv") {
		raw, _ := os.ReadFile(dir + "/train/" + row.group + "/" + row.file)
		res := e.CheckBytes(context.Background(), nil, raw)
		ours := false
		for _, r := range res.Rules {
			ours = ours || r == rule
		}
		if ours != row.rules[rule] {
			fmt.Printf("%s/train/%s/%s SA=%v ours=%v\n", dir, row.group, row.file, row.rules[rule], ours)
		}
	}
}

// TestDebugRuleCost prints the rules costing most time (SPAM_DEBUG_COST=1).
func TestDebugRuleCost(t *testing.T) {
	if os.Getenv("SPAM_DEBUG_COST") == "" {
		t.Skip("set SPAM_DEBUG_COST")
	}
	e := systemEngine(t)
	files, _ := filepath.Glob(corpusDir(t) + "/train/*/*.eml")
	sample := 10
	if g := os.Getenv("SPAM_DEBUG_COST"); g != "1" {
		files, _ = filepath.Glob(g) // the messages named, every one
		sample = 1
	}
	cost := map[string]time.Duration{}
	if os.Getenv("SPAM_DEBUG_WARM") != "" { // cost after the gates are built
		for i, f := range files {
			if i%sample == 0 {
				raw, _ := os.ReadFile(f)
				e.CheckBytes(context.Background(), nil, raw)
			}
		}
	}
	kindCost := map[RuleKind]time.Duration{}
	defer func() { fmt.Println("by kind:", kindCost) }()
	for i, f := range files {
		if i%sample != 0 {
			continue
		}
		raw, _ := os.ReadFile(f)
		m := newMsgState(e, nil, raw)
		m.set = e.sets[0]
		for _, r := range m.set.active {
			if r.Kind == KindMeta {
				continue
			}
			t0 := time.Now()
			m.runRule(r)
			cost[r.Name] += time.Since(t0)
			kindCost[r.Kind] += time.Since(t0)
		}
	}
	names := sortedKeys(cost)
	sort.Slice(names, func(i, j int) bool { return cost[names[i]] > cost[names[j]] })
	var total, bt time.Duration
	for _, n := range names {
		total += cost[n]
		if _, ok := e.conf.Rules[n].re.(*btMatcher); ok {
			bt += cost[n]
		}
	}
	fmt.Printf("total %v, regexp2 rules %v\n", total, bt)
	cls := map[string]time.Duration{}
	for _, n := range names {
		r := e.conf.Rules[n]
		c := r.Kind.String() + "/"
		switch {
		case r.Eval != nil:
			c += "eval"
		case r.Kind == KindHeader:
			c += r.Header.Name + ":" + strings.Join(r.Header.Mods, ":")
		default:
			c += "re"
		}
		if _, ok := r.re.(*btMatcher); ok {
			c += "/bt"
		}
		cls[c] += cost[n]
	}
	for _, c := range sortedKeys(cls) {
		fmt.Printf("  %-20s %v\n", c, cls[c])
	}
	for _, n := range names[:40] {
		_, isBT := e.conf.Rules[n].re.(*btMatcher)
		fmt.Printf("%-32s %v bt=%v %s %.60s\n", n, cost[n], isBT, e.conf.Rules[n].Kind, e.conf.Rules[n].Source)
	}
}

// TestDebugSlow prints the slowest messages and their costliest rules
// (SPAM_DEBUG_SLOW=1).
func TestDebugSlow(t *testing.T) {
	if os.Getenv("SPAM_DEBUG_SLOW") == "" {
		t.Skip("set SPAM_DEBUG_SLOW")
	}
	e := systemEngine(t)
	for _, g := range []string{"spam-1", "easy-ham-1", "hard-ham-1"} {
		files, _ := filepath.Glob(corpusDir(t) + "/train/" + g + "/*.eml")
		for i, f := range files {
			if i >= 60 {
				break
			}
			raw, _ := os.ReadFile(f)
			m := newMsgState(e, nil, raw)
			m.set = e.sets[0]
			cost := map[string]time.Duration{}
			var total time.Duration
			for _, r := range m.set.active {
				if r.Kind == KindMeta {
					continue
				}
				t0 := time.Now()
				m.runRule(r)
				d := time.Since(t0)
				cost[r.Name] += d
				total += d
			}
			if total < 300*time.Millisecond {
				continue
			}
			names := sortedKeys(cost)
			sort.Slice(names, func(i, j int) bool { return cost[names[i]] > cost[names[j]] })
			fmt.Printf("%s %v len=%d\n", f, total, len(raw))
			for _, n := range names[:5] {
				fmt.Printf("   %-30s %v\n", n, cost[n])
			}
		}
	}
}

// TestDebugDumpHits writes every rule hit, `__` subrules and meta rules
// included, for every corpus message to SPAM_DEBUG_DUMP: two dumps from
// two revisions must be identical when a change only makes matching
// faster.
func TestDebugDumpHits(t *testing.T) {
	out := os.Getenv("SPAM_DEBUG_DUMP")
	if out == "" {
		t.Skip("set SPAM_DEBUG_DUMP")
	}
	e := systemEngine(t)
	files, _ := filepath.Glob(corpusDir(t) + "/train/*/*.eml")
	var b strings.Builder
	for _, f := range files {
		raw, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		m := newMsgState(e, nil, raw)
		m.deadline = time.Now().Add(time.Minute)
		m.set = e.sets[0]
		e.runRules(m)
		names := sortedKeys(m.hits)
		fmt.Fprintf(&b, "%s", filepath.Base(filepath.Dir(f))+"/"+filepath.Base(f))
		for _, n := range names {
			fmt.Fprintf(&b, " %s=%g", n, m.hits[n])
		}
		b.WriteByte('\n')
	}
	if err := os.WriteFile(out, []byte(b.String()), 0o644); err != nil {
		t.Fatal(err)
	}
}
