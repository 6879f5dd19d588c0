package bayes

import (
	"context"
	"fmt"
	"path/filepath"
	"sync"
	"testing"
)

func TestBoltStore(t *testing.T) {
	path := filepath.Join(t.TempDir(), "bayes.db")
	st, err := OpenBolt(path, BoltOptions{})
	if err != nil {
		t.Fatal(err)
	}
	testLearnSemantics(t, st)
	if _, err := st.Learn(context.Background(), "bob", "m1", []Hash{HashToken("persist")}, true, 0); err != nil {
		t.Fatal(err)
	}
	if err := st.Close(); err != nil {
		t.Fatal(err)
	}
	// Reopened read-only, the counts are still there.
	st, err = OpenBolt(path, BoltOptions{ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	c, err := st.Tokens(context.Background(), "bob", []Hash{HashToken("persist")})
	if err != nil || c[0] != (Counts{Spam: 1}) {
		t.Fatalf("after reopen Tokens = %v, %v", c, err)
	}
	if ns, nh, _ := st.Totals(context.Background(), "nobody"); ns != 0 || nh != 0 {
		t.Errorf("unknown user Totals = %d, %d", ns, nh)
	}
}

func TestBoltExpire(t *testing.T) {
	st, err := OpenBolt(filepath.Join(t.TempDir(), "b.db"), BoltOptions{NoSync: true})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	testExpire(t, st)
}

// TestBoltTokenCache reads counts between every kind of write: each read
// after a write must see it, though the read before it filled the cache.
func TestBoltTokenCache(t *testing.T) {
	ctx := context.Background()
	st, err := OpenBolt(filepath.Join(t.TempDir(), "c.db"), BoltOptions{NoSync: true})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	a, b := HashToken("alpha"), HashToken("beta")
	want := func(step string, user string, wa, wb Counts) {
		t.Helper()
		for pass := 0; pass < 2; pass++ { // from the file, then from the cache
			got, err := st.Tokens(ctx, user, []Hash{a, b})
			if err != nil || got[0] != wa || got[1] != wb {
				t.Fatalf("%s (pass %d): Tokens = %v, %v; want [%v %v]", step, pass, got, err, wa, wb)
			}
		}
	}
	want("empty", "", Counts{}, Counts{})
	if _, err := st.Learn(ctx, "", "m1", []Hash{a, b}, true, 0); err != nil {
		t.Fatal(err)
	}
	want("learned spam", "", Counts{Spam: 1}, Counts{Spam: 1})
	want("other user", "carol", Counts{}, Counts{})
	if _, err := st.Learn(ctx, "", "m1", []Hash{a, b}, false, 0); err != nil {
		t.Fatal(err)
	}
	want("moved to ham", "", Counts{Ham: 1}, Counts{Ham: 1})
	if _, err := st.Learn(ctx, "", "m2", []Hash{a}, true, 0); err != nil {
		t.Fatal(err)
	}
	want("second message", "", Counts{Spam: 1, Ham: 1}, Counts{Ham: 1})
	if _, err := st.Forget(ctx, "", "m1", []Hash{a, b}); err != nil {
		t.Fatal(err)
	}
	want("forgotten", "", Counts{Spam: 1}, Counts{})
	want("other user unchanged", "carol", Counts{}, Counts{})
	if _, err := st.Learn(ctx, "", "m3", []Hash{HashToken("gamma")}, true, 0); err != nil {
		t.Fatal(err)
	}
	// Two tokens over a limit of 1: both go (expiry keeps 3/4 of it).
	if n, err := st.Expire(ctx, "", 1); err != nil || n != 2 {
		t.Fatalf("Expire = %d, %v; want 2", n, err)
	}
	want("expired", "", Counts{}, Counts{})

	// A full cache starts over rather than growing.
	st.cache.max = 3
	many := []Hash{HashToken("1"), HashToken("2"), HashToken("3"), HashToken("4")}
	for i := range many {
		if _, err := st.Tokens(ctx, "", many[:i+1]); err != nil {
			t.Fatal(err)
		}
		if st.cache.n > st.cache.max {
			t.Fatalf("cache holds %d counts, bound %d", st.cache.n, st.cache.max)
		}
	}
}

// TestBoltTokenCacheConcurrent learns while other goroutines read: once
// the writes are done, every read must see their final counts (run with
// -race).
func TestBoltTokenCacheConcurrent(t *testing.T) {
	ctx := context.Background()
	st, err := OpenBolt(filepath.Join(t.TempDir(), "c.db"), BoltOptions{NoSync: true})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	tok := []Hash{HashToken("shared")}
	done := make(chan struct{})
	var wg sync.WaitGroup
	for r := 0; r < 4; r++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				select {
				case <-done:
					return
				default:
				}
				if _, err := st.Tokens(ctx, "", tok); err != nil {
					t.Error(err)
					return
				}
			}
		}()
	}
	const n = 200
	for i := 0; i < n; i++ {
		if _, err := st.Learn(ctx, "", fmt.Sprint("m", i), tok, i%2 == 0, 0); err != nil {
			t.Fatal(err)
		}
	}
	close(done)
	wg.Wait()
	got, err := st.Tokens(ctx, "", tok)
	if err != nil || got[0] != (Counts{Spam: n / 2, Ham: n / 2}) {
		t.Fatalf("after %d learns Tokens = %v, %v", n, got, err)
	}
}
