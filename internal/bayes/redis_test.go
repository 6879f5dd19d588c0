package bayes

import (
	"context"
	"fmt"
	"os"
	"testing"

	"github.com/gomilter/gomilter/internal/testenv"
	"github.com/redis/go-redis/v9"
)

func TestRedisStore(t *testing.T) {
	testenv.Service(t, "127.0.0.1:6379")
	ctx := context.Background()
	client := redis.NewClient(&redis.Options{Addr: "127.0.0.1:6379"})
	defer client.Close()
	prefix := fmt.Sprintf("gomilter-test:bayes:%d:", os.Getpid())
	t.Cleanup(func() {
		keys, _ := client.Keys(ctx, prefix+"*").Result()
		if len(keys) > 0 {
			client.Del(ctx, keys...)
		}
	})
	st := NewRedisStore(client, prefix)
	testLearnSemantics(t, st)
	if err := st.DeleteUser(ctx, "alice"); err != nil {
		t.Fatal(err)
	}
	if ns, nh, err := st.Totals(ctx, "alice"); err != nil || ns != 0 || nh != 0 {
		t.Errorf("after DeleteUser Totals = %d, %d, %v", ns, nh, err)
	}
	// Expiry on a fresh user database.
	st.DeleteUser(ctx, "")
	testExpire(t, st)
	// Forgetting removes tokens from the time index too.
	n, _ := client.ZCard(ctx, st.keys("")[4]).Result()
	if _, err := st.Learn(ctx, "", "extra", []Hash{HashToken("only-here")}, true, 0); err != nil {
		t.Fatal(err)
	}
	if _, err := st.Forget(ctx, "", "extra", []Hash{HashToken("only-here")}); err != nil {
		t.Fatal(err)
	}
	if n2, _ := client.ZCard(ctx, st.keys("")[4]).Result(); n2 != n {
		t.Errorf("time index has %d entries after learn+forget, want %d", n2, n)
	}
}
