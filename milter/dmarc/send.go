package dmarc

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"strings"
	"time"

	"github.com/emersion/go-smtp"
)

// Sender mails aggregate reports through an SMTP relay (RFC 9990
// section 5). Sending is optional: `gomilter dmarc report` only writes
// files unless a relay is configured.
type Sender struct {
	Relay    string        // host:port, e.g. 127.0.0.1:25 (the local Postfix)
	From     string        // envelope and header sender, e.g. dmarc-noreply@example.org
	Helo     string        // EHLO name; "localhost" when empty
	Reporter Reporter      // Domain names us in the Subject
	Resolver Resolver      // for the external destination check; nil skips mailing to other domains
	Timeout  time.Duration // whole SMTP transaction; 60s when zero
	Config   Config        // organizational-domain rules for the destination check
}

// Send mails f to every mailto: URI of rua that is allowed (RFC 9990
// section 4: a destination outside the policy domain's organization must
// publish <policy-domain>._report._dmarc.<destination>). It returns the
// addresses it sent to.
func (s *Sender) Send(ctx context.Context, f *Feedback, rua []string) ([]string, error) {
	var to []string
	for _, a := range MailtoAddrs(rua) {
		ok, err := s.allowed(ctx, f.Published.Domain, a)
		if err != nil {
			return nil, err
		}
		if ok {
			to = append(to, a)
		}
	}
	if len(to) == 0 {
		return nil, nil
	}
	msg, err := s.message(f, to)
	if err != nil {
		return nil, err
	}
	return to, s.deliver(ctx, to, msg)
}

// allowed runs the external destination verification.
func (s *Sender) allowed(ctx context.Context, policyDomain, addr string) (bool, error) {
	dest := normalize(addr[strings.LastIndexByte(addr, '@')+1:])
	if s.Resolver == nil {
		return dest == policyDomain || strings.HasSuffix(dest, "."+policyDomain), nil
	}
	a, err := s.Config.OrgDomain(ctx, s.Resolver, policyDomain)
	if err != nil {
		return false, err
	}
	b, err := s.Config.OrgDomain(ctx, s.Resolver, dest)
	if err != nil || a == b {
		return err == nil, err
	}
	txts, err := s.Resolver.LookupTXT(ctx, policyDomain+"._report._dmarc."+dest)
	if err != nil {
		return false, nil // no authorization published
	}
	for _, t := range txts {
		if strings.HasPrefix(strings.TrimSpace(t), "v=DMARC1") {
			return true, nil
		}
	}
	return false, nil
}

// message builds the MIME report mail with the gzip attachment.
func (s *Sender) message(f *Feedback, to []string) ([]byte, error) {
	var gz bytes.Buffer
	if err := f.WriteGzip(&gz); err != nil {
		return nil, err
	}
	bnd := randomHex(12)
	name := f.Filename(s.Reporter.Domain)
	var b bytes.Buffer
	fmt.Fprintf(&b, "From: %s\r\nTo: %s\r\nDate: %s\r\n", s.From, strings.Join(to, ", "), time.Now().UTC().Format(time.RFC1123Z))
	fmt.Fprintf(&b, "Message-ID: <%s@%s>\r\n", randomHex(16), s.Reporter.Domain)
	fmt.Fprintf(&b, "Subject: Report Domain: %s Submitter: %s Report-ID: <%s>\r\n", f.Published.Domain, s.Reporter.Domain, f.Metadata.ReportID)
	fmt.Fprintf(&b, "MIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=\"%s\"\r\n\r\n", bnd)
	fmt.Fprintf(&b, "--%s\r\nContent-Type: text/plain; charset=us-ascii\r\n\r\nDMARC aggregate report for %s.\r\n\r\n", bnd, f.Published.Domain)
	fmt.Fprintf(&b, "--%s\r\nContent-Type: application/gzip; name=\"%s\"\r\nContent-Disposition: attachment; filename=\"%s\"\r\nContent-Transfer-Encoding: base64\r\n\r\n", bnd, name, name)
	enc := base64.StdEncoding.EncodeToString(gz.Bytes())
	for len(enc) > 76 {
		b.WriteString(enc[:76] + "\r\n")
		enc = enc[76:]
	}
	fmt.Fprintf(&b, "%s\r\n--%s--\r\n", enc, bnd)
	return b.Bytes(), nil
}

func (s *Sender) deliver(ctx context.Context, to []string, msg []byte) error {
	timeout := s.Timeout
	if timeout == 0 {
		timeout = time.Minute
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	var d net.Dialer
	conn, err := d.DialContext(ctx, "tcp", s.Relay)
	if err != nil {
		return fmt.Errorf("dmarc: relay: %w", err)
	}
	deadline, _ := ctx.Deadline()
	conn.SetDeadline(deadline)
	c := smtp.NewClient(conn)
	defer c.Close()
	helo := s.Helo
	if helo == "" {
		helo = "localhost"
	}
	if err := c.Hello(helo); err != nil {
		return err
	}
	if err := c.Mail(s.From, nil); err != nil {
		return err
	}
	for _, r := range to {
		if err := c.Rcpt(r, nil); err != nil {
			return err
		}
	}
	w, err := c.Data()
	if err != nil {
		return err
	}
	if _, err := w.Write(msg); err != nil {
		return err
	}
	if err := w.Close(); err != nil {
		return err
	}
	return c.Quit()
}

func randomHex(n int) string {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		panic(errors.New("crypto/rand failed")) // never happens on Linux
	}
	return hex.EncodeToString(b)
}
