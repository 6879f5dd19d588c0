package lmtp

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"testing"

	"github.com/gomilter/gomilter/internal/userdb"
	"github.com/prometheus/client_golang/prometheus/testutil"
)

const testMsg = "Received: from mx.example.net (mx.example.net [192.0.2.1])\r\n\tby mx.example.org (Postfix) with ESMTP id 4ABCDEF123\r\n\tfor <alice@example.org>; Sun, 22 Nov 2026 05:00:00 +0000 (UTC)\r\n" +
	"From: sender@example.net\r\nTo: alice@example.org\r\nSubject: hello\r\nMessage-ID: <m1@example.net>\r\n\r\nHi Alice.\r\n.leading dot\r\n"

func TestGreetingAndCapabilities(t *testing.T) {
	e := newTestEnv(t, nil)
	c := e.dial()
	c.send("EHLO x")
	c.expect("500 5.5.1 This is a LMTP server, use LHLO")
	c.send("LHLO mx.example.org")
	lines := c.expect("250 *")
	all := strings.Join(lines, "\n")
	for _, capa := range []string{"PIPELINING", "8BITMIME", "ENHANCEDSTATUSCODES", "SMTPUTF8"} {
		if !strings.Contains(all, capa) {
			t.Errorf("LHLO reply lacks %s:\n%s", capa, all)
		}
	}
}

// Statuses come one per accepted RCPT, in RCPT order, and the whole
// transaction is pipelined the way Postfix's lmtp client sends it.
func TestPerRecipientStatusesPipelined(t *testing.T) {
	e := newTestEnv(t, nil)
	e.fail["bob@example.org"] = &userdb.TempError{Err: errors.New("db down at 10.0.0.5")}
	c := e.dial()
	c.send("LHLO mx", "MAIL FROM:<sender@example.net>", "RCPT TO:<alice@example.org>", "RCPT TO:<nobody@example.org>",
		"RCPT TO:<bob@example.org>", "RCPT TO:<Alice+news@Example.org>", "DATA")
	c.expect("250 *")
	c.expect("250 2.0.0 *")
	c.expect("250 2.0.0 *")
	c.expect("550 5.1.1 <nobody@example.org> User doesn't exist: nobody@example.org")
	c.expect("451 4.3.0 <bob@example.org> Temporary internal error")
	c.expect("250 2.0.0 *")
	c.expect("354 *")
	c.data(testMsg)
	first := c.expect("250 2.0.0 <alice@example.org> * Saved")
	c.expect("250 2.0.0 <Alice+news@Example.org> * Saved")
	if strings.Contains(first[0], "10.0.0.5") {
		t.Error("internal error text leaked")
	}
	got := files(t, e.users["alice@example.org"].MailDir)
	if len(got) != 2 {
		t.Fatalf("alice has %d messages, want 2 (one per accepted RCPT)", len(got))
	}
	body := readFile(t, got[0])
	if !strings.HasPrefix(body, "Return-Path: <sender@example.net>\nReceived: from mx\n\tby mda.test with LMTP\n\tid ") {
		t.Errorf("prepended headers wrong:\n%s", body)
	}
	if strings.Contains(body, "Delivered-To:") {
		t.Error("Delivered-To added to a multi-recipient transaction")
	}
	if !strings.Contains(body, "\n.leading dot\n") {
		t.Error("dot-unstuffing or LF conversion wrong:\n" + body)
	}
	if n := testutil.ToFloat64(e.srv.metrics.deliveries.WithLabelValues(resultSaved)); n != 2 {
		t.Errorf("saved counter = %v, want 2", n)
	}
	// The connection is reused (lmtp_cache_connection): RSET, then more.
	c.send("RSET", "MAIL FROM:<>", "RCPT TO:<bob@example.org>", "DATA")
	c.expect("250 *")
	c.expect("250 *")
	c.expect("451 4.3.0 *")
	c.expect("502 5.5.1 *") // no recipient accepted: DATA refused
}

func TestSingleRecipientHeaders(t *testing.T) {
	e := newTestEnv(t, nil)
	c := e.dial()
	c.send("LHLO mx", "MAIL FROM:<>", "RCPT TO:<alice+x@example.org>", "DATA")
	c.expect("250 *")
	c.expect("250 *")
	c.expect("250 *")
	c.expect("354 *")
	c.data("Subject: bounce\r\n\r\nbody\r\n")
	c.expect("250 2.0.0 <alice+x@example.org> * Saved")
	got := files(t, e.users["alice@example.org"].MailDir)
	if len(got) != 1 {
		t.Fatalf("%d messages", len(got))
	}
	body := readFile(t, got[0])
	if !strings.HasPrefix(body, "Return-Path: <>\nDelivered-To: alice+x@example.org\nReceived: ") ||
		!strings.Contains(body, "\tfor <alice+x@example.org>; ") {
		t.Errorf("headers:\n%s", body)
	}
}

func TestOversize(t *testing.T) {
	e := newTestEnv(t, func(o *Options) { o.MaxMessageBytes = 1000 })
	c := e.dial()
	c.send("LHLO mx", "MAIL FROM:<a@example.net>", "RCPT TO:<alice@example.org>", "RCPT TO:<bob@example.org>", "DATA")
	for range 4 {
		c.expect("250 *")
	}
	c.expect("354 *")
	c.data("Subject: big\r\n\r\n" + strings.Repeat("0123456789abcdef\r\n", 200))
	c.expect("552 5.3.4 <alice@example.org> *")
	c.expect("552 5.3.4 <bob@example.org> *")
	if n := len(files(t, e.users["alice@example.org"].MailDir)); n != 0 {
		t.Errorf("oversize message stored %d times", n)
	}
	c.send("NOOP")
	c.expect("250 *")
}

func TestMaxRecipients(t *testing.T) {
	e := newTestEnv(t, func(o *Options) { o.MaxRecipients = 1 })
	c := e.dial()
	c.send("LHLO mx", "MAIL FROM:<a@example.net>", "RCPT TO:<alice@example.org>", "RCPT TO:<bob@example.org>")
	c.expect("250 *")
	c.expect("250 *")
	c.expect("250 *")
	c.expect("452 4.5.3 *")
}

func TestQuota(t *testing.T) {
	e := newTestEnv(t, nil)
	u := e.users["alice@example.org"]
	u.QuotaBytes = 600
	e.users["alice@example.org"] = u
	writeFile(t, filepath.Join(u.MailDir, "maildirsize"), "600S\n500 1\n")
	c := e.dial()
	c.send("LHLO mx", "MAIL FROM:<a@example.net>", "RCPT TO:<alice@example.org>", "RCPT TO:<bob@example.org>", "DATA")
	for range 4 {
		c.expect("250 *")
	}
	c.expect("354 *")
	c.data("Subject: q\r\n\r\n" + strings.Repeat("x", 200) + "\r\n")
	c.expect("552 5.2.2 <alice@example.org> Quota exceeded (mailbox for user is full)")
	c.expect("250 2.0.0 <bob@example.org> *")

	e2 := newTestEnv(t, func(o *Options) { o.QuotaFullTempfail = true })
	u.MailDir = filepath.Join(e2.dir, "alice", "Maildir")
	e2.users["alice@example.org"] = u
	writeFile(t, filepath.Join(u.MailDir, "maildirsize"), "600S\n600 1\n")
	c = e2.dial()
	c.send("LHLO mx", "MAIL FROM:<a@example.net>", "RCPT TO:<alice@example.org>", "DATA")
	for range 3 {
		c.expect("250 *")
	}
	c.expect("354 *")
	c.data("Subject: q\r\n\r\nx\r\n")
	c.expect("452 4.2.2 <alice@example.org> *")
}

func TestUnknownUserLookupKey(t *testing.T) {
	e := newTestEnv(t, nil)
	c := e.dial()
	c.send("LHLO mx", "MAIL FROM:<a@example.net>", "RCPT TO:<Nobody+tag@Example.ORG>")
	c.expect("250 *")
	c.expect("250 *")
	c.expect("550 5.1.1 <Nobody+tag@Example.ORG> User doesn't exist: Nobody@Example.ORG")
}

// The same recipient twice gets two replies and one stored copy.
func TestDuplicateRecipient(t *testing.T) {
	e := newTestEnv(t, nil)
	c := e.dial()
	c.send("LHLO mx", "MAIL FROM:<a@example.net>", "RCPT TO:<alice@example.org>", "RCPT TO:<alice@example.org>", "DATA")
	for range 4 {
		c.expect("250 *")
	}
	c.expect("354 *")
	c.data("Subject: dup\r\n\r\nx\r\n")
	c.expect("250 2.0.0 <alice@example.org> * Saved")
	c.expect("250 2.0.0 <alice@example.org> * Saved")
	if n := len(files(t, e.users["alice@example.org"].MailDir)); n != 1 {
		t.Errorf("%d copies stored, want 1", n)
	}
}

// Shutdown lets an open connection finish its transaction.
func TestShutdownDrains(t *testing.T) {
	e := newTestEnv(t, nil)
	c := e.dial()
	c.send("LHLO mx", "MAIL FROM:<a@example.net>", "RCPT TO:<alice@example.org>")
	c.expect("250 *")
	c.expect("250 *")
	c.expect("250 *")
	done := make(chan error, 1)
	go func() { done <- e.srv.Shutdown(context.Background()) }()
	c.send("DATA")
	c.expect("354 *")
	c.data("Subject: late\r\n\r\nx\r\n")
	c.expect("250 2.0.0 *")
	c.send("QUIT")
	c.expect("221 *")
	c.c.Close()
	if err := <-done; err != nil {
		t.Errorf("Shutdown: %v", err)
	}
}

// BDAT (CHUNKING, which go-smtp offers) gives the same per-recipient
// replies after the LAST chunk.
func TestBDAT(t *testing.T) {
	e := newTestEnv(t, nil)
	c := e.dial()
	msg := "Subject: chunked\r\n\r\nbody\r\n"
	c.send("LHLO mx", "MAIL FROM:<a@example.net>", "RCPT TO:<alice@example.org>", "RCPT TO:<bob@example.org>",
		"BDAT 10")
	for range 4 {
		c.expect("250 *")
	}
	c.tp.W.WriteString(msg[:10])
	c.tp.W.Flush()
	c.expect("250 *")
	c.send(fmt.Sprintf("BDAT %d LAST", len(msg)-10))
	c.tp.W.WriteString(msg[10:])
	c.tp.W.Flush()
	c.expect("250 2.0.0 <alice@example.org> * Saved")
	c.expect("250 2.0.0 <bob@example.org> * Saved")
	got := files(t, e.users["bob@example.org"].MailDir)
	if len(got) != 1 || !strings.HasSuffix(readFile(t, got[0]), "Subject: chunked\n\nbody\n") {
		t.Errorf("bob's copy: %v", got)
	}
}

// A panicking backend costs one recipient a 451, not the connection.
func TestPanicRecovered(t *testing.T) {
	e := newTestEnv(t, nil)
	e.panics = 1
	c := e.dial()
	c.send("LHLO mx", "MAIL FROM:<a@example.net>", "RCPT TO:<panic@example.org>", "RCPT TO:<alice@example.org>")
	c.expect("250 *")
	c.expect("250 *")
	c.expect("451 4.3.0 <panic@example.org> Temporary internal error")
	c.expect("250 *")
}

// SMTPUTF8 (RFC 6531): UTF-8 addresses and headers are accepted and
// stored unchanged.
func TestSMTPUTF8(t *testing.T) {
	e := newTestEnv(t, nil)
	u := e.users["alice@example.org"]
	u.Name = "jörg@example.org"
	e.users["jörg@example.org"] = u
	c := e.dial()
	c.send("LHLO mx", "MAIL FROM:<renée@example.net> SMTPUTF8 BODY=8BITMIME", "RCPT TO:<Jörg@example.org>", "DATA")
	for range 3 {
		c.expect("250 *")
	}
	c.expect("354 *")
	c.data("Subject: Grüße\r\n\r\nÄpfel\r\n")
	c.expect("250 2.0.0 <Jörg@example.org> * Saved")
	got := files(t, u.MailDir)
	if len(got) != 1 || !strings.Contains(readFile(t, got[0]), "Return-Path: <renée@example.net>\nDelivered-To: Jörg@example.org\n") ||
		!strings.HasSuffix(readFile(t, got[0]), "Subject: Grüße\n\nÄpfel\n") {
		t.Errorf("stored %v", got)
	}
}

func TestLineTooLong(t *testing.T) {
	e := newTestEnv(t, func(o *Options) { o.MaxLineLength = 100 })
	c := e.dial()
	c.send("LHLO mx", "MAIL FROM:<a@example.net>", "RCPT TO:<alice@example.org>", "DATA")
	for range 3 {
		c.expect("250 *")
	}
	c.expect("354 *")
	c.data("Subject: x\r\n\r\n" + strings.Repeat("y", 300) + "\r\n")
	c.expect("554 5.6.0 <alice@example.org> Message line too long")
	if n := len(files(t, e.users["alice@example.org"].MailDir)); n != 0 {
		t.Errorf("%d stored", n)
	}
}
