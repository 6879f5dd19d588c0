package milter

import (
	"bytes"
	"context"
	"io"
	"net"
	"reflect"
	"testing"
	"time"
)

// transcript returns a Postfix-like session as raw bytes: OPTNEG (v6 or
// v2), CONNECT, HELO, one transaction, QUIT.
func transcript(version uint32, proto OptProtocol) []byte {
	var b []byte
	p := func(c Code, d ...[]byte) { b = AppendPacket(b, c, d...) }
	p(CmdOptNeg, OptNeg{Version: version, Actions: 0x1FF, Protocol: proto}.Encode())
	p(CmdMacro, []byte{'C'}, EncodeStrings("j", "mx.example", "{daemon_name}", "mx", "v", "Postfix 3.7.11"))
	p(CmdConnect, ConnectInfo{Host: "client.example", Family: FamilyInet6, Port: 4242, Addr: mustAddr("2001:db8::1")}.Encode())
	p(CmdHelo, EncodeStrings("client.example"))
	p(CmdMacro, []byte{'M'}, EncodeStrings("{auth_authen}", "alice", "{mail_addr}", "a@example.com"))
	p(CmdMail, EncodeStrings("<a@example.com>", "SIZE=42"))
	p(CmdMacro, []byte{'R'}, EncodeStrings("i", "4Q1", "{rcpt_addr}", "b@example.org"))
	p(CmdRcpt, EncodeStrings("<b@example.org>"))
	p(CmdData)
	p(CmdHeader, EncodeStrings("Subject", " hello\n\tworld"))
	p(CmdHeader, EncodeStrings("From", " a@example.com"))
	p(CmdEOH)
	p(CmdBody, []byte("hello\r\n"))
	p(CmdMacro, []byte{'E'}, EncodeStrings("i", "4Q1"))
	p(CmdEOB)
	p(CmdAbort)
	p(CmdUnknown, EncodeStrings("XFOO"))
	p(CmdQuitNC)
	p(CmdConnect, ConnectInfo{Host: "localhost", Family: FamilyUnix, Path: "/run/sock"}.Encode())
	p(CmdQuit)
	return b
}

func FuzzDecode(f *testing.F) {
	tr := transcript(6, 0x1FFFFF)
	for len(tr) > 0 {
		p, _, err := ReadPacket(bytes.NewReader(tr), 1<<20, nil)
		if err != nil {
			break
		}
		f.Add(byte(p.Code), append([]byte(nil), p.Data...))
		tr = tr[5+len(p.Data):]
	}
	f.Add(byte(CmdConnect), []byte("h\x00U"))
	f.Fuzz(func(t *testing.T, code byte, data []byte) {
		if o, err := DecodeOptNeg(data); err == nil {
			if o2, err := DecodeOptNeg(o.Encode()); err != nil || !reflect.DeepEqual(o, o2) {
				t.Fatalf("OptNeg round trip: %+v -> %+v, %v", o, o2, err)
			}
		}
		if c, err := DecodeConnect(data); err == nil {
			if c2, err := DecodeConnect(c.Encode()); err != nil || c2 != c {
				t.Fatalf("Connect round trip: %+v -> %+v, %v", c, c2, err)
			}
		}
		if s, err := DecodeStrings(data); err == nil && !bytes.Equal(EncodeStrings(s...), data) {
			t.Fatalf("Strings round trip: %q -> %q", data, s)
		}
		DecodeMacros(data)
		DecodeHeader(data)
		DecodeIndexed(data)
		framed := AppendPacket(nil, Code(code), data)
		p, _, err := ReadPacket(bytes.NewReader(framed), 1<<20, nil)
		if err != nil || p.Code != Code(code) || !bytes.Equal(p.Data, data) {
			t.Fatalf("packet round trip: %v", err)
		}
	})
}

// fuzzMilter does a bit of everything at end of message.
type fuzzMilter struct{ NoOpMilter }

func (fuzzMilter) Header(_ context.Context, name, _ string, _ *Macros) (Response, error) {
	if name == "X-Reject" {
		return Reject, nil
	}
	return Continue, nil
}

func (fuzzMilter) BodyChunk(context.Context, []byte, *Macros) (Response, error) { return Skip, nil }

func (fuzzMilter) EndOfMessage(_ context.Context, mod *Modifier, m *Macros) (Response, error) {
	mod.AddHeader("X-Queue", m.Get("i"))
	mod.ChangeHeader(1, "Subject", "")
	mod.Quarantine("fuzz")
	return Accept, nil
}

// FuzzSession feeds raw bytes to a whole server session from several
// starting states (fresh, negotiated v6, negotiated v2, inside a
// transaction). The session must end (no hang) and never panic.
func FuzzSession(f *testing.F) {
	f.Add(uint8(0), transcript(6, 0x1FFFFF))
	f.Add(uint8(0), transcript(2, 0x7F))
	tr := transcript(6, 0x1FFFFF)
	f.Add(uint8(1), tr[4+13:])
	f.Add(uint8(3), AppendPacket(AppendPacket(nil, CmdHeader, EncodeStrings("X-Reject", "1")), CmdEOB))
	f.Add(uint8(2), []byte{0, 0, 0, 1, 'Q'})
	f.Fuzz(func(t *testing.T, start uint8, data []byte) {
		prefixes := [][]byte{
			nil,
			AppendPacket(nil, CmdOptNeg, OptNeg{Version: 6, Actions: 0x1FF, Protocol: 0x1FFFFF}.Encode()),
			AppendPacket(nil, CmdOptNeg, OptNeg{Version: 2, Actions: 0x3F, Protocol: 0x7F}.Encode()),
			AppendPacket(AppendPacket(nil, CmdOptNeg, OptNeg{Version: 6, Actions: 0x1FF, Protocol: 0x1FFFFF}.Encode()),
				CmdMail, EncodeStrings("<a@b>")),
		}
		input := append(append([]byte(nil), prefixes[int(start)%len(prefixes)]...), data...)
		srv, err := NewServer(func(context.Context) Milter { return fuzzMilter{} },
			Options{MaxPacketSize: 1 << 17, ReadTimeout: 2 * time.Second, WriteTimeout: 2 * time.Second})
		if err != nil {
			t.Fatal(err)
		}
		a, b := net.Pipe()
		done := make(chan struct{})
		go func() { defer close(done); srv.ServeConn(b) }()
		go io.Copy(io.Discard, a)
		a.SetWriteDeadline(time.Now().Add(2 * time.Second))
		a.Write(input)
		a.Close()
		select {
		case <-done:
		case <-time.After(5 * time.Second):
			t.Fatal("session did not end")
		}
		if n := metricValue(srv.m.panics); n != 0 {
			t.Fatalf("panics_total = %v", n)
		}
	})
}
