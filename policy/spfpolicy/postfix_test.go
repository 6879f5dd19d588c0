package spfpolicy

import (
	"bytes"
	"errors"
	"github.com/gomilter/gomilter/internal/testenv"
	"net"
	"net/netip"
	"net/textproto"
	"strings"
	"testing"
	"time"

	"github.com/gomilter/gomilter/internal/postfixtest"
	"github.com/gomilter/gomilter/policy"
	"github.com/prometheus/client_golang/prometheus"
)

// TestRealPostfix runs the SPF policy service behind a real Postfix smtpd
// (check_policy_service at RCPT) with a local DNS server: a "-all" sender
// is refused with 550 5.7.23, a passing sender's mail reaches the relay
// sink with one Received-SPF header however many recipients it has, and a
// DNS timeout gives 450 4.7.24.
func TestRealPostfix(t *testing.T) {
	testenv.SkipShort(t, "real Postfix instance in -short mode")
	z := zone(t)
	z.AddTXT("local.example", "v=spf1 ip4:127.0.0.1 -all")
	h := newHandler(t, z, Options{InternalNetworks: []netip.Prefix{}})
	srv, err := policy.NewServer(h, policy.Options{Registerer: prometheus.NewRegistry()})
	if err != nil {
		t.Fatal(err)
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go srv.Serve(l)
	t.Cleanup(func() { srv.Close() })

	inst := postfixtest.Start(t, postfixtest.Options{
		NoLocalNetworks: true, // 127.0.0.1 must not be trusted, or it is never checked
		MainCF: map[string]string{
			"relay_domains": "dest.example",
			"smtpd_recipient_restrictions": "reject_unauth_destination, check_policy_service inet:" +
				l.Addr().String(),
		},
	})
	msg := []byte("From: a@local.example\r\nTo: u@dest.example\r\nSubject: spf\r\n\r\nhello\r\n")

	err = inst.Send(t, "a@fail.example", []string{"u@dest.example"}, msg)
	if code := postfixtest.Code(err); code != 550 || !strings.Contains(err.Error(), "5.7.23") ||
		!strings.Contains(err.Error(), "is not a mail server of fail.example") {
		t.Errorf("fail sender: %v (code %d), want 550 5.7.23 with the exp= text", err, code)
	}

	err = inst.Send(t, "a@slow.example", []string{"u@dest.example"}, msg)
	var te *textproto.Error
	if !errors.As(err, &te) || te.Code != 450 || !strings.Contains(te.Msg, "4.7.24") {
		t.Errorf("temperror sender: %v, want 450 4.7.24", err)
	}

	if err := inst.Send(t, "a@local.example", []string{"u1@dest.example", "u2@dest.example"}, msg); err != nil {
		t.Fatalf("pass sender refused: %v\n%s", err, inst.Log())
	}
	got := inst.Sink().WaitMessages(t, 1, 20*time.Second)
	hdr, _, _ := bytes.Cut(got[0].Data, []byte("\r\n\r\n"))
	if n := bytes.Count(hdr, []byte("Received-SPF:")); n != 1 {
		t.Fatalf("%d Received-SPF headers, want 1:\n%s", n, hdr)
	}
	if !bytes.Contains(hdr, []byte("Received-SPF: pass (mx.test: domain of a@local.example designates 127.0.0.1 as permitted sender)")) ||
		!bytes.Contains(hdr, []byte("identity=mailfrom")) {
		t.Errorf("Received-SPF header wrong:\n%s", hdr)
	}
	if !strings.Contains(inst.Log(), "Recipient address rejected: Message rejected due to:") {
		t.Errorf("maillog lacks the policy rejection:\n%s", inst.Log())
	}
	if len(got[0].To) != 2 {
		t.Errorf("sink recipients = %v, want both", got[0].To)
	}
}
