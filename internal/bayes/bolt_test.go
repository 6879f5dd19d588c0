package bayes

import (
	"context"
	"path/filepath"
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
