package dmarc

import (
	"context"
	"net/netip"
	"path/filepath"
	"testing"
	"time"

	"github.com/gomilter/gomilter/internal/mailmsg"
)

func TestChecker(t *testing.T) {
	st, err := OpenBolt(filepath.Join(t.TempDir(), "d.db"), time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	m, _ := NewMetrics(nil)
	c := &Checker{Resolver: zone(), Store: st, Metrics: m,
		Options: Options{TrustedForwarders: []netip.Prefix{netip.MustParsePrefix("198.51.100.0/24")}}}
	env := &mailmsg.Envelope{ClientAddr: netip.MustParseAddr("203.0.113.9"), Rcpts: []string{"u@Receiver.Example"}, QueueID: "ABC"}
	msg := &mailmsg.Message{Header: []mailmsg.Field{{Name: "From", Value: " CEO <ceo@example.com>"}}}
	out := c.Check(context.Background(), msg, env, AuthResult{Domain: "evil.example", Result: "pass"}, nil, Context{})
	if out.Decision.Action != ActionReject || out.AR.Value != "fail" {
		t.Fatalf("Check = %+v", out)
	}
	fwdEnv := *env
	fwdEnv.ClientAddr = netip.MustParseAddr("198.51.100.3")
	out = c.Check(context.Background(), msg, &fwdEnv, AuthResult{}, nil, Context{})
	if out.Decision.Action != ActionAccept || out.Decision.Override != OverrideTrustedForwarder {
		t.Fatalf("forwarder: %+v", out.Decision)
	}
	bad := &mailmsg.Message{Header: []mailmsg.Field{{Name: "From", Value: " a@x.example, b@y.example"}}}
	if out := c.Check(context.Background(), bad, env, AuthResult{}, nil, Context{}); out.Result.Result != ResultPermError || out.Decision.Action != ActionAccept {
		t.Fatalf("two authors: %+v", out)
	}
	var es []Entry
	st.Each(context.Background(), time.Time{}, time.Now().Add(time.Hour), func(e Entry) error { es = append(es, e); return nil })
	if len(es) != 2 || es[0].EnvelopeTo != "receiver.example" || es[0].Disposition != PolicyReject || es[1].Overrides[0].Type != OverrideTrustedForwarder {
		t.Errorf("stored entries: %+v", es)
	}
}
