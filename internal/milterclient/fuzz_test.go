package milterclient

import (
	"bytes"
	"context"
	"io"
	"net"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/gomilter/gomilter/milter"
)

// FuzzSplitMessage: the header/body split must keep every byte of the
// message (modulo the LF->CRLF and leading-space rules) and never panic.
func FuzzSplitMessage(f *testing.F) {
	f.Add([]byte("From: a@b\r\nSubject: x\r\n\tfolded\r\n\r\nbody\r\n"), false)
	f.Add([]byte("From a@b Mon\nX:y\n\nb\n"), true)
	f.Add([]byte("no header line\r\n\r\nbody"), false)
	f.Fuzz(func(t *testing.T, raw []byte, lead bool) {
		hdrs, body := splitMessage(raw, lead)
		var rebuilt strings.Builder
		for _, h := range hdrs {
			if h.name == "" || strings.ContainsAny(h.name, " \t:") {
				t.Fatalf("bad header name %q", h.name)
			}
			rebuilt.WriteString(h.name + ":" + h.value + "\n")
		}
		norm := strings.ReplaceAll(string(raw), "\r\n", "\n")
		if lead && len(hdrs) > 0 && !strings.HasPrefix(norm+"\n", rebuilt.String()) {
			t.Fatalf("headers %q are not a prefix of %q", rebuilt.String(), norm)
		}
		if bytes.Count(body, []byte("\n")) != bytes.Count(body, []byte("\r\n")) {
			t.Fatalf("body has bare LF: %q", body)
		}
	})
}

// FuzzReplies: whatever a milter answers, the client returns (an error or
// a result) without panicking or hanging.
func FuzzReplies(f *testing.F) {
	neg := milter.AppendPacket(nil, milter.CmdOptNeg, milter.OptNeg{Version: 6, Actions: 0x1FF, Protocol: 0x100400}.Encode())
	ok := neg
	for range 8 {
		ok = milter.AppendPacket(ok, milter.RespContinue)
	}
	f.Add(ok)
	f.Add(milter.AppendPacket(milter.AppendPacket(milter.AppendPacket(neg, milter.RespContinue), milter.RespProgress),
		milter.RespAddHeader, milter.EncodeStrings("X", " y")))
	f.Add(milter.AppendPacket(neg, milter.RespSkip))
	f.Add(milter.AppendPacket(milter.AppendPacket(nil, milter.CmdOptNeg, milter.OptNeg{Version: 2, Actions: 1, Protocol: 0}.Encode()), milter.RespReplyCode, milter.EncodeStrings("550 5.7.1 no")))
	f.Fuzz(func(t *testing.T, replies []byte) {
		a, b := net.Pipe()
		go func() { io.Copy(io.Discard, b) }()
		go func() { b.Write(replies); b.Close() }()
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		done := make(chan struct{})
		go func() {
			defer close(done)
			c, err := NewConn(ctx, a, Options{Timeout: time.Second})
			if err != nil {
				return
			}
			c.Connect(ctx, "h", netip.MustParseAddr("192.0.2.1"), 1)
			c.Transaction(ctx, Tx{From: "a@b", Rcpts: []string{"c@d", "e@f"}, Message: []byte("S: x\r\n\r\nb\r\n")})
			c.Close()
		}()
		select {
		case <-done:
		case <-time.After(5 * time.Second):
			t.Fatal("client hung")
		}
		a.Close()
	})
}
