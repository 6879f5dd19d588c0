package lmtp

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestStores(t *testing.T) {
	bolt, err := OpenStore(filepath.Join(t.TempDir(), "lmtp.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer bolt.Close()
	ctx := context.Background()
	for name, s := range map[string]ResponseStore{"memory": NewMemoryStore(), "bolt": bolt} {
		if seen, err := s.Seen(ctx, "k"); seen || err != nil {
			t.Errorf("%s: unmarked key seen=%v err=%v", name, seen, err)
		}
		s.Mark(ctx, "k", time.Hour)
		s.Mark(ctx, "gone", -time.Second)
		if seen, _ := s.Seen(ctx, "k"); !seen {
			t.Errorf("%s: marked key not seen", name)
		}
		if seen, _ := s.Seen(ctx, "gone"); seen {
			t.Errorf("%s: expired key still seen", name)
		}
	}
}

func TestSendmailRelay(t *testing.T) {
	dir := t.TempDir()
	script := filepath.Join(dir, "sendmail")
	out := filepath.Join(dir, "out")
	writeFile(t, script, "#!/bin/sh\necho \"$@\" > "+out+"\ncat >> "+out+"\n")
	os.Chmod(script, 0o755)
	r := &SendmailRelay{Path: script}
	if err := r.Send(context.Background(), "", []string{"bob@example.net"}, []byte("Subject: v\r\n\r\nx\r\n")); err != nil {
		t.Fatal(err)
	}
	got := readFile(t, out)
	if !strings.HasPrefix(got, "-i -f <> -- bob@example.net\nSubject: v") {
		t.Errorf("sendmail got %q", got)
	}
	if err := r.Send(context.Background(), "a@b", []string{"-oQ/tmp"}, nil); err == nil {
		t.Error("an option-like address was passed to sendmail")
	}
}

func TestLogFields(t *testing.T) {
	msg := []byte("Received: from mx.example.net (mx.example.net [192.0.2.1])\r\n\tby mx.example.org (Postfix) with ESMTPS id 4Xyz12AbC\r\n\tfor <a@example.org>; date\r\nMessage-ID: <abc@x>\r\n\r\nbody Message-ID: <no@x>\r\n")
	if q := queueID(msg); q != "4Xyz12AbC" {
		t.Errorf("queueID = %q", q)
	}
	if m := messageID(msg); m != "<abc@x>" {
		t.Errorf("messageID = %q", m)
	}
	if q, m := queueID([]byte("Subject: x\r\n\r\nwith SMTP id NOPE\r\n")), messageID([]byte("x")); q != "" || m != "" {
		t.Errorf("found %q %q in a message without them", q, m)
	}
}
