//go:build spamdebug

package spam

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"testing"
	"time"
)

func TestDebugGate(t *testing.T) {
	name := os.Getenv("SPAM_DEBUG_GATE")
	if name == "" {
		t.Skip("set SPAM_DEBUG_GATE=RULE")
	}
	e := systemEngine(t)
	r := e.conf.Rules[name]
	g := r.re.Gate()
	fmt.Printf("insts %d classes %d start %d\n", len(g.prog.Inst), g.nclass, len(g.line))
	files, _ := filepath.Glob(corpusDir(t) + "/train/*/*.eml")
	var yes, no int
	var d time.Duration
	for i, f := range files {
		if i%10 != 0 {
			continue
		}
		raw, _ := os.ReadFile(f)
		m := newMsgState(e, nil, raw)
		m.set = e.sets[0]
		s := m.joinedText(r.Kind).s
		t0 := time.Now()
		ok := g.mayMatch(s)
		d += time.Since(t0)
		if ok {
			yes++
		} else {
			no++
		}
	}
	fmt.Printf("yes %d no %d time %v states %d cells %d resets %d\n", yes, no, d, len(g.states), g.cells, g.resets)
}

func TestDebugGateMiss(t *testing.T) {
	f := os.Getenv("SPAM_DEBUG_FILE")
	if f == "" {
		t.Skip("set SPAM_DEBUG_FILE")
	}
	e := systemEngine(t)
	if os.Getenv("SPAM_DEBUG_WARM") != "" {
		files, _ := filepath.Glob(corpusDir(t) + "/train/*/*.eml")
		for _, f := range files {
			raw, _ := os.ReadFile(f)
			e.CheckBytes(context.Background(), nil, raw)
		}
	}
	raw, _ := os.ReadFile(f)
	m := newMsgState(e, nil, raw)
	m.set = e.sets[0]
	for _, r := range m.set.active {
		g := textGate(r)
		if g == nil {
			continue
		}
		lines := m.linesFor(r.Kind)
		if matchLines(r, lines, false) != 0 && !g.mayMatch(m.joinedText(r.Kind).s) {
			fmt.Printf("MISS %s %s\n", r.Name, r.re.String()[:min(100, len(r.re.String()))])
		}
	}
}

func TestDebugGateStats(t *testing.T) {
	if os.Getenv("SPAM_DEBUG_GATESTATS") == "" {
		t.Skip("set SPAM_DEBUG_GATESTATS=1")
	}
	e := systemEngine(t)
	files, _ := filepath.Glob(corpusDir(t) + "/train/*/*.eml")
	type tally struct{ rules, scans, yes, litFail, bytes int }
	st := map[string]*tally{}
	for i, f := range files {
		if i%10 != 0 {
			continue
		}
		raw, _ := os.ReadFile(f)
		m := newMsgState(e, nil, raw)
		m.set = e.sets[0]
		for _, r := range m.set.active {
			g := textGate(r)
			if g == nil {
				continue
			}
			lits := r.re.Prefilter()
			cat := "nolits"
			switch {
			case lits != nil && len(lits) <= 4:
				cat = "few"
			case lits != nil:
				cat = "many"
			}
			x := st[cat]
			if x == nil {
				x = &tally{}
				st[cat] = x
			}
			x.rules++
			lower := m.lowerFor(r.Kind)
			if lits != nil && !containsAny(lower, lits) {
				x.litFail++
				if cat == "few" {
					continue
				}
			}
			s := m.joinedText(r.Kind).s
			x.scans++
			x.bytes += len(s)
			if g.mayMatch(s) {
				x.yes++
			}
		}
	}
	for k, v := range st {
		fmt.Printf("%-7s %+v\n", k, *v)
	}
}

// TestDebugGateMem scores the corpus and prints the DFA caches' sizes and
// the heap (SPAM_DEBUG_GATEMEM=1).
func TestDebugGateMem(t *testing.T) {
	if os.Getenv("SPAM_DEBUG_GATEMEM") == "" {
		t.Skip("set SPAM_DEBUG_GATEMEM=1")
	}
	e := systemEngine(t)
	files, _ := filepath.Glob(corpusDir(t) + "/train/*/*.eml")
	for _, f := range files {
		raw, _ := os.ReadFile(f)
		e.CheckBytes(context.Background(), nil, raw)
	}
	total, states := 0, 0
	for _, r := range e.usable {
		if r.re == nil {
			continue
		}
		if g := r.re.Gate(); g != nil {
			total += g.cells
			states += len(g.states)
		}
	}
	var ms runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&ms)
	fmt.Println("total cells", total, "states", states, "heap MiB", ms.HeapInuse>>20)
}

// textGate is the DFA gate of a regex rule on body, rawbody, full or uri
// text, or nil.
func textGate(r *Rule) *dfaGate {
	switch r.Kind {
	case KindBody, KindRawbody, KindFull, KindURI:
	default:
		return nil
	}
	if r.re == nil || r.Eval != nil {
		return nil
	}
	return r.re.Gate()
}
