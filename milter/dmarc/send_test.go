package dmarc

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/base64"
	"encoding/xml"
	"io"
	"mime"
	"mime/multipart"
	"net/mail"
	"reflect"
	"testing"
	"time"

	"github.com/gomilter/gomilter/internal/smtpsink"
)

func TestSenderAllowed(t *testing.T) {
	r := newFake().
		add("_dmarc.example.com", "v=DMARC1; p=reject").
		add("_dmarc.reports.example", "v=DMARC1; p=none").
		add("example.com._report._dmarc.reports.example", "v=DMARC1")
	s := &Sender{Resolver: r}
	for addr, want := range map[string]bool{
		"agg@example.com":       true, // same domain
		"agg@sub.example.com":   true, // same organization
		"agg@reports.example":   true, // authorized external destination
		"agg@elsewhere.example": false,
	} {
		got, err := s.allowed(context.Background(), "example.com", addr)
		if err != nil || got != want {
			t.Errorf("allowed(%s) = %v, %v, want %v", addr, got, err, want)
		}
	}
}

func TestSenderSend(t *testing.T) {
	sink := smtpsink.Start(t, smtpsink.Options{})
	r := newFake().add("_dmarc.example.com", "v=DMARC1; p=reject")
	s := &Sender{Relay: sink.Addr(), From: "dmarc@receiver.example", Reporter: Reporter{Domain: "receiver.example"}, Resolver: r, Timeout: 10 * time.Second}
	t0 := time.Date(2026, 11, 21, 0, 0, 0, 0, time.UTC)
	f := Aggregate(sampleEntries(t0), s.Reporter, t0, t0.Add(24*time.Hour))[0]
	to, err := s.Send(context.Background(), f, []string{"mailto:agg@example.com!10m", "mailto:x@elsewhere.example"})
	if err != nil || !reflect.DeepEqual(to, []string{"agg@example.com"}) {
		t.Fatalf("Send = %v, %v", to, err)
	}
	msgs := sink.Messages()
	if len(msgs) != 1 || msgs[0].From != "dmarc@receiver.example" || !reflect.DeepEqual(msgs[0].To, []string{"agg@example.com"}) {
		t.Fatalf("sink got %+v", msgs)
	}
	m, err := mail.ReadMessage(bytes.NewReader(msgs[0].Data))
	if err != nil {
		t.Fatal(err)
	}
	if got := m.Header.Get("Subject"); got != "Report Domain: example.com Submitter: receiver.example Report-ID: <"+f.Metadata.ReportID+">" {
		t.Errorf("Subject = %q", got)
	}
	_, params, _ := mime.ParseMediaType(m.Header.Get("Content-Type"))
	mr := multipart.NewReader(m.Body, params["boundary"])
	mr.NextPart()
	part, err := mr.NextPart()
	if err != nil || part.FileName() != f.Filename("receiver.example") {
		t.Fatalf("attachment: %v %q", err, part.FileName())
	}
	raw, _ := io.ReadAll(base64.NewDecoder(base64.StdEncoding, part))
	zr, err := gzip.NewReader(bytes.NewReader(raw))
	if err != nil {
		t.Fatal(err)
	}
	var back Feedback
	if err := xml.NewDecoder(zr).Decode(&back); err != nil || back.Published.Domain != "example.com" {
		t.Errorf("attachment XML: %v %+v", err, back.Published)
	}
}
