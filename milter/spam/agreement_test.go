package spam

import (
	"bufio"
	"context"
	"fmt"
	"github.com/gomilter/gomilter/internal/testenv"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"testing"
)

// Floors measured on this corpus; the test fails if we regress below
// them. Raise them as the engine improves.
const (
	floorHitAgreement  = 0.99 // |ref ∩ ours| / |ref ∪ ours| over supported rules (measured 0.9985 subset, 0.992+ full)
	floorPairAgreement = 0.9999
	floorVerdict       = 0.995
)

type refRow struct {
	file, group string
	score       float64
	spam        bool
	rules       map[string]bool
}

func readRef(t *testing.T, path string) []refRow {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var rows []refRow
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<16), 1<<20)
	for sc.Scan() {
		c := strings.Split(sc.Text(), "\t")
		if len(c) < 4 || c[0] == "file" {
			continue
		}
		r := refRow{file: c[0], group: c[1], spam: c[3] == "1", rules: map[string]bool{}}
		fmt.Sscanf(c[2], "%g", &r.score)
		if len(c) > 4 {
			for _, n := range strings.Split(c[4], ",") {
				if n != "" {
					r.rules[n] = true
				}
			}
		}
		rows = append(rows, r)
	}
	return rows
}

// comparable reports whether a rule takes part in the rules-only
// comparison: it runs here and is neither a network nor a Bayes rule.
func (e *Engine) comparable(name string) bool {
	if strings.HasPrefix(name, "RCVD_IN_") || strings.HasPrefix(name, "URIBL_") || strings.HasPrefix(name, "BAYES_") {
		return false
	}
	for _, n := range e.sets[0].ruleList {
		if n == name {
			return true
		}
	}
	return false
}

type agreeStats struct {
	both, refOnly, oursOnly int
	allBoth, allRefOnly     int // every non-network, non-Bayes rule SA hit
	perRuleFN, perRuleFP    map[string]int
	pairs, pairsAgree       int
	verdictAgree, n         int
	refTP, refFP, ourTP     int
	ourFP, nSpam, nHam      int
}

func TestCorpusAgreement(t *testing.T) {
	testenv.SkipShort(t, "corpus run skipped in -short mode")
	e := systemEngine(t)
	dir := corpusDir(t)
	rows := readRef(t, filepath.Join(dir, "sa-results-rules-train.tsv"))
	step := 6 // a fixed subset keeps the test fast; SPAM_FULL_CORPUS=1 runs all
	if raceEnabled {
		step = 300 // the race run checks concurrency, not accuracy
	}
	if os.Getenv("SPAM_FULL_CORPUS") == "1" {
		step = 1
	}
	var sel []refRow
	for i := 0; i < len(rows); i += step {
		sel = append(sel, rows[i])
	}
	results := make([]*Result, len(sel))
	var wg sync.WaitGroup
	next := make(chan int)
	for w := 0; w < 2; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range next {
				raw, err := os.ReadFile(filepath.Join(dir, "train", sel[i].group, sel[i].file))
				if err == nil {
					results[i] = e.CheckBytes(context.Background(), nil, raw)
				}
			}
		}()
	}
	for i := range sel {
		next <- i
	}
	close(next)
	wg.Wait()
	st := compareAll(e, sel, results)
	report(t, st)
}

func compareAll(e *Engine, sel []refRow, results []*Result) *agreeStats {
	st := &agreeStats{perRuleFN: map[string]int{}, perRuleFP: map[string]int{}}
	nComparable := 0
	for _, n := range e.sets[0].ruleList {
		if !strings.HasPrefix(n, "__") && e.comparable(n) {
			nComparable++
		}
	}
	for i, row := range sel {
		res := results[i]
		if res == nil {
			continue
		}
		ours := map[string]bool{}
		for _, r := range res.Rules {
			ours[r] = true
		}
		diff := 0
		for r := range row.rules {
			if !strings.HasPrefix(r, "RCVD_IN_") && !strings.HasPrefix(r, "URIBL_") && !strings.HasPrefix(r, "BAYES_") && r != "" {
				if ours[r] {
					st.allBoth++
				} else {
					st.allRefOnly++
				}
			}
			if !e.comparable(r) {
				continue
			}
			if ours[r] {
				st.both++
			} else {
				st.refOnly++
				st.perRuleFN[r]++
				diff++
			}
		}
		for r := range ours {
			if e.comparable(r) && !row.rules[r] {
				st.oursOnly++
				st.perRuleFP[r]++
				diff++
			}
		}
		st.pairs += nComparable
		st.pairsAgree += nComparable - diff
		st.n++
		if res.IsSpam == row.spam {
			st.verdictAgree++
		}
		isSpamGroup := row.group == "spam-1"
		if isSpamGroup {
			st.nSpam++
		} else {
			st.nHam++
		}
		count := func(v bool, tp, fp *int) {
			if v && isSpamGroup {
				*tp++
			} else if v {
				*fp++
			}
		}
		count(row.spam, &st.refTP, &st.refFP)
		count(res.IsSpam, &st.ourTP, &st.ourFP)
	}
	return st
}

func report(t *testing.T, st *agreeStats) {
	hitAgree := float64(st.both) / float64(max(1, st.both+st.refOnly+st.oursOnly))
	pairAgree := float64(st.pairsAgree) / float64(max(1, st.pairs))
	verdict := float64(st.verdictAgree) / float64(max(1, st.n))
	t.Logf("messages %d; rule hits: both %d, SA only %d, ours only %d", st.n, st.both, st.refOnly, st.oursOnly)
	t.Logf("hit agreement %.2f%%, (message,rule) pair agreement %.3f%%, verdict agreement %.2f%%",
		100*hitAgree, 100*pairAgree, 100*verdict)
	t.Logf("all SA rule hits (including rules whose eval we lack): %d of %d reproduced (%.2f%%)",
		st.allBoth, st.allBoth+st.allRefOnly, pct(st.allBoth, st.allBoth+st.allRefOnly))
	t.Logf("SA:   spam recall %.1f%%, ham FP %.2f%%", pct(st.refTP, st.nSpam), pct(st.refFP, st.nHam))
	t.Logf("ours: spam recall %.1f%%, ham FP %.2f%%", pct(st.ourTP, st.nSpam), pct(st.ourFP, st.nHam))
	t.Logf("top SA-only rules: %s", topN(st.perRuleFN, 25))
	t.Logf("top ours-only rules: %s", topN(st.perRuleFP, 25))
	if raceEnabled {
		return // too few messages for the floors to mean anything
	}
	if hitAgree < floorHitAgreement || pairAgree < floorPairAgreement || verdict < floorVerdict {
		t.Errorf("agreement regressed: hit %.4f (floor %.2f), pair %.4f (floor %.3f), verdict %.4f (floor %.2f)",
			hitAgree, floorHitAgreement, pairAgree, floorPairAgreement, verdict, floorVerdict)
	}
}

func pct(a, b int) float64 { return 100 * float64(a) / float64(max(1, b)) }

func topN(m map[string]int, n int) string {
	type kv struct {
		k string
		v int
	}
	var l []kv
	for k, v := range m {
		l = append(l, kv{k, v})
	}
	sort.Slice(l, func(i, j int) bool { return l[i].v > l[j].v || l[i].v == l[j].v && l[i].k < l[j].k })
	var b strings.Builder
	for i, x := range l {
		if i >= n {
			break
		}
		fmt.Fprintf(&b, "%s=%d ", x.k, x.v)
	}
	return b.String()
}
