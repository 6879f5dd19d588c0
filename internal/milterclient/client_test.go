package milterclient

import (
	"context"
	"net"
	"net/netip"
	"reflect"
	"strings"
	"testing"

	gomilter "github.com/emersion/go-milter"

	"github.com/gomilter/gomilter/milter"
)

func TestSplitMessage(t *testing.T) {
	tests := []struct {
		name      string
		raw       string
		leadSpace bool
		want      []header
		body      string
	}{
		{"crlf", "Subject: hi\r\nFrom:  a@b\r\n\r\nbody\r\n", false,
			[]header{{"Subject", "hi"}, {"From", " a@b"}}, "body\r\n"},
		{"leadspc kept", "Subject: hi\r\n\r\nx\r\n", true, []header{{"Subject", " hi"}}, "x\r\n"},
		{"folded LF file", "Subject: a\n\tb\n c\nTo:x\n\nl1\nl2\n", true,
			[]header{{"Subject", " a\n\tb\n c"}, {"To", "x"}}, "l1\r\nl2\r\n"},
		{"tab not stripped", "X:\tv\r\n\r\n", false, []header{{"X", "\tv"}}, ""},
		{"no body", "X: v\r\n", false, []header{{"X", "v"}}, ""},
		{"garbage line starts body", "X: v\r\nnot a header\r\nmore\r\n", false,
			[]header{{"X", "v"}}, "not a header\r\nmore\r\n"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			h, b := splitMessage([]byte(tc.raw), tc.leadSpace)
			if !reflect.DeepEqual(h, tc.want) || string(b) != tc.body {
				t.Errorf("splitMessage(%q) = %q, %q; want %q, %q", tc.raw, h, b, tc.want, tc.body)
			}
		})
	}
}

func TestToCRLF(t *testing.T) {
	for in, want := range map[string]string{
		"a\nb\n":     "a\r\nb\r\n",
		"a\r\nb\r\n": "a\r\nb\r\n",
		"a\nb":       "a\r\nb",
		"a\r\nb\n":   "a\r\nb\r\n",
		"":           "",
	} {
		if got := string(ToCRLF([]byte(in))); got != want {
			t.Errorf("ToCRLF(%q) = %q, want %q", in, got, want)
		}
	}
}

// signer is a gomilter Milter that records what it saw and adds a header.
type signer struct {
	milter.NoOpMilter
	helo, authUser, qid string
	headers             []string
	bodyLen             int
	rejectRcpt          string
}

func (s *signer) Helo(_ context.Context, name string, _ *milter.Macros) (milter.Response, error) {
	s.helo = name
	return milter.Continue, nil
}
func (s *signer) MailFrom(_ context.Context, _ string, _ []string, m *milter.Macros) (milter.Response, error) {
	s.authUser, s.headers, s.bodyLen = m.Get("{auth_authen}"), nil, 0
	return milter.Continue, nil
}
func (s *signer) RcptTo(_ context.Context, rcpt string, _ []string, _ *milter.Macros) (milter.Response, error) {
	if rcpt == s.rejectRcpt {
		return milter.ReplyCode("550 5.1.1 unknown user")
	}
	return milter.Continue, nil
}
func (s *signer) Header(_ context.Context, name, value string, _ *milter.Macros) (milter.Response, error) {
	s.headers = append(s.headers, name+":"+value)
	return milter.Continue, nil
}
func (s *signer) BodyChunk(_ context.Context, c []byte, _ *milter.Macros) (milter.Response, error) {
	s.bodyLen += len(c)
	return milter.Continue, nil
}
func (s *signer) EndOfMessage(_ context.Context, mod *milter.Modifier, m *milter.Macros) (milter.Response, error) {
	s.qid = m.Get("i")
	if s.authUser == "" {
		return milter.Continue, nil
	}
	return milter.Continue, mod.InsertHeader(0, "DKIM-Signature", " v=1; d=example.com; u="+s.helo)
}

func pipeServer(t *testing.T, m milter.Milter, opts milter.Options) net.Conn {
	t.Helper()
	srv, err := milter.NewServer(func(context.Context) milter.Milter { return m }, opts)
	if err != nil {
		t.Fatal(err)
	}
	a, b := net.Pipe()
	done := make(chan struct{})
	go func() { defer close(done); srv.ServeConn(b) }()
	t.Cleanup(func() { a.Close(); <-done })
	return a
}

const testMsg = "From: a@example.com\nSubject: test\n\tfolded\n\nhello\nworld\n"

func TestAgainstOurServer(t *testing.T) {
	ctx := context.Background()
	s := &signer{rejectRcpt: "nobody@example.org"}
	c, err := NewConn(ctx, pipeServer(t, s, milter.Options{}), Options{})
	if err != nil {
		t.Fatal(err)
	}
	if c.Negotiated().Protocol&milter.ProtoHdrLeadSpc == 0 {
		t.Fatalf("LEADSPC not negotiated: %#x", c.Negotiated().Protocol)
	}
	if r, err := c.Connect(ctx, "client.example", netip.MustParseAddr("192.0.2.1"), 4000); err != nil || r.Code != milter.RespContinue {
		t.Fatalf("Connect = %v, %v", r, err)
	}
	if _, err := c.Helo(ctx, "client.example"); err != nil {
		t.Fatal(err)
	}
	res, err := c.Transaction(ctx, Tx{From: "a@example.com", Rcpts: []string{"b@example.org", "nobody@example.org"},
		AuthUser: "alice", QueueID: "4AbC1", Message: []byte(testMsg)})
	if err != nil {
		t.Fatal(err)
	}
	if res.Outcome() != "accept" || len(res.HeadersAdded()) != 1 || res.Mods[0].Name != "DKIM-Signature" ||
		res.Mods[0].Value != " v=1; d=example.com; u=client.example" {
		t.Errorf("result = %+v", res)
	}
	if len(res.Rcpts) != 2 || res.Rcpts[1].Result() != "reject" || res.Rcpts[1].Text != "550 5.1.1 unknown user" {
		t.Errorf("rcpt replies = %+v", res.Rcpts)
	}
	wantHdrs := []string{"From: a@example.com", "Subject: test\n\tfolded"}
	if !reflect.DeepEqual(s.headers, wantHdrs) || s.bodyLen != len("hello\r\nworld\r\n") || s.qid != "4AbC1" || s.authUser != "alice" {
		t.Errorf("milter saw headers %q body %d qid %q auth %q", s.headers, s.bodyLen, s.qid, s.authUser)
	}
	// Second message on the same connection, unauthenticated: not signed.
	res, err = c.Transaction(ctx, Tx{From: "x@y", Rcpts: []string{"b@example.org"}, QueueID: "5DEF", Message: []byte(testMsg)})
	if err != nil || res.Outcome() != "accept" || len(res.Mods) != 0 {
		t.Errorf("second transaction = %+v, %v", res, err)
	}
	// All recipients refused: the transaction ends at RCPT with ABORT.
	res, err = c.Transaction(ctx, Tx{From: "x@y", Rcpts: []string{"nobody@example.org"}, Message: []byte(testMsg)})
	if err != nil || res.Outcome() != "reject" || res.Stage != milter.CmdRcpt {
		t.Errorf("refused transaction = %+v, %v", res, err)
	}
	if err := c.Close(); err != nil {
		t.Error(err)
	}
}

type skipper struct{ milter.NoOpMilter }

func (skipper) BodyChunk(context.Context, []byte, *milter.Macros) (milter.Response, error) {
	return milter.Skip, nil
}

func TestSkipAndReplyAlways(t *testing.T) {
	ctx := context.Background()
	c, err := NewConn(ctx, pipeServer(t, skipper{}, milter.Options{ReplyAlways: true}), Options{})
	if err != nil {
		t.Fatal(err)
	}
	big := testMsg + strings.Repeat("x", 3*milter.MaxBodyChunk)
	res, err := c.Transaction(ctx, Tx{From: "a@b", Rcpts: []string{"c@d"}, Message: []byte(big)})
	if err != nil || !res.Skipped || res.Outcome() != "accept" {
		t.Errorf("result = %+v, %v; want skipped accept", res, err)
	}
}

// goMilterV2 is emersion/go-milter v0.5.0, which answers OPTNEG with
// version 2 whatever is offered: the client must fall back.
type goMilterV2 struct{ gomilter.NoOpMilter }

func (goMilterV2) Body(m *gomilter.Modifier) (gomilter.Response, error) {
	return gomilter.RespAccept, m.AddHeader("X-V2", "yes")
}

func TestVersion2Milter(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := &gomilter.Server{
		NewMilter: func() gomilter.Milter { return goMilterV2{} },
		Actions:   gomilter.OptAddHeader,
		Protocol:  gomilter.OptNoConnect | gomilter.OptNoHelo,
	}
	go srv.Serve(l)
	defer srv.Close()
	ctx := context.Background()
	c, err := Dial(ctx, "", "inet:"+l.Addr().String(), Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if c.Negotiated().Version != 2 || c.Negotiated().Protocol&milter.ProtoNoData == 0 {
		t.Fatalf("negotiated %+v; want v2 with DATA suppressed", c.Negotiated())
	}
	if r, err := c.Connect(ctx, "h", netip.MustParseAddr("2001:db8::1"), 25); err != nil || r.Code != 0 {
		t.Fatalf("Connect (NOCONNECT) = %+v, %v", r, err)
	}
	res, err := c.Transaction(ctx, Tx{From: "a@b", Rcpts: []string{"c@d"}, Message: []byte(testMsg)})
	if err != nil || res.Reply.Code != milter.RespAccept || len(res.Mods) != 1 || res.Mods[0].Value != "yes" {
		t.Errorf("v2 transaction = %+v, %v", res, err)
	}
}

func TestParseAddr(t *testing.T) {
	for in, want := range map[string][2]string{
		"inet:127.0.0.1:8891": {"tcp", "127.0.0.1:8891"},
		"unix:/run/m.sock":    {"unix", "/run/m.sock"},
		"local:/run/m.sock":   {"unix", "/run/m.sock"},
	} {
		n, a, err := ParseAddr(in)
		if err != nil || n != want[0] || a != want[1] {
			t.Errorf("ParseAddr(%q) = %q, %q, %v", in, n, a, err)
		}
	}
	if _, _, err := ParseAddr("127.0.0.1:25"); err == nil {
		t.Error("ParseAddr without scheme succeeded")
	}
}
