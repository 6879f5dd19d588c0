package spam

import (
	"context"
	"fmt"
	"os"
	"testing"
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
