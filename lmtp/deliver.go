package lmtp

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"os"
	"regexp"
	"strings"
	"time"

	"github.com/gomilter/gomilter/lmtp/maildir"
)

// transaction is what one DATA delivers.
type transaction struct {
	id, helo, remote, from string
	rcpts                  []*recipient
	received               time.Time
}

// store is one copy to write.
type store struct {
	implicit bool // the implicit keep (lmtp_save_to_detail_mailbox applies)
	folder   string
	create   bool
	flags    []string
	msg      []byte
}

// outcome is the result of one recipient's delivery plan.
type outcome struct {
	stores []store
	reject string // Sieve reject reason: 550 for this recipient
	notes  []string
}

// deliver stores one recipient's copy and returns its LMTP status.
func (s *Server) deliver(t *transaction, rc *recipient, data []byte) error {
	start := time.Now()
	ctx, cancel := context.WithTimeout(s.ctx, s.opts.DeliveryTimeout)
	defer cancel()
	msg := s.withHeaders(t, rc, data)
	u := rc.user
	md := &maildir.Maildir{Root: u.MailDir, UID: u.UID, GID: u.GID, LayoutFS: u.LayoutFS,
		Chown: os.Geteuid() == 0 && (u.UID >= 0 || u.GID >= 0)}
	log := s.opts.Logger.With("session", t.id, "from", t.from, "rcpt", rc.addr, "user", u.Name,
		"queue_id", queueID(data), "msgid", messageID(data), "size", len(msg))
	defer func() { s.metrics.duration.Observe(time.Since(start).Seconds()) }()
	out := &outcome{stores: []store{{implicit: true, folder: "INBOX", msg: msg}}}
	if s.opts.Sieve != nil {
		out = s.runSieve(ctx, log, t, rc, md, msg)
	}
	s.toDetailMailbox(out, rc.addr)
	if out.reject != "" {
		s.metrics.deliveries.WithLabelValues(resultRejected).Inc()
		log.Info("rejected by sieve", "reason", oneLine(out.reject))
		return replyReject(out.reject)
	}
	// Quota applies to what is stored, as in Dovecot, where it is checked
	// when Sieve's keep/fileinto saves: a discard needs no room.
	if len(out.stores) > 0 && u.QuotaBytes > 0 {
		if rep, err := s.checkQuota(log, u, int64(len(msg))); rep != nil || err != nil {
			if err != nil {
				return s.tempfail(log, "quota usage", err)
			}
			return rep
		}
	}
	folders, err := s.write(md, out.stores, t.received)
	if err != nil {
		return s.tempfail(log, "store", err)
	}
	s.metrics.deliveries.WithLabelValues(resultSaved).Inc()
	log.Info("saved", "folders", strings.Join(folders, ","), "sieve", strings.Join(out.notes, "; "),
		"duration", time.Since(start).Round(time.Microsecond))
	return replySaved(t.id)
}

// checkQuota returns the over-quota reply, or nil when size fits.
func (s *Server) checkQuota(log *slog.Logger, u User, size int64) (*Reply, error) {
	used, _, err := s.quota.Usage(u.MailDir)
	if err != nil {
		return nil, err
	}
	if !maildir.OverQuota(used, size, u.QuotaBytes) {
		return nil, nil
	}
	s.metrics.deliveries.WithLabelValues(resultQuota).Inc()
	rep := replyQuota(s.opts.QuotaFullTempfail)
	log.Info("over quota", "used", used, "limit", u.QuotaBytes, "reply", rep.Code)
	return rep, nil
}

// toDetailMailbox sends the implicit keep of user+Folder@dom to Folder
// (Dovecot's lmtp_save_to_detail_mailbox); a missing folder falls back to
// INBOX unless MailboxAutocreate.
func (s *Server) toDetailMailbox(out *outcome, addr string) {
	if !s.opts.SaveToDetailMailbox {
		return
	}
	local, _, _ := strings.Cut(addr, "@")
	i := strings.IndexAny(local, s.opts.RecipientDelimiter)
	if i <= 0 || i == len(local)-1 {
		return
	}
	for k := range out.stores {
		if out.stores[k].implicit {
			out.stores[k].folder = local[i+1:]
		}
	}
}

func (s *Server) tempfail(log *slog.Logger, what string, err error) error {
	s.metrics.deliveries.WithLabelValues(resultTempfail).Inc()
	log.Warn("delivery failed", "step", what, "reply", "451 4.3.0", "err", err)
	return replyTemp
}

// write performs the stores; a folder that is missing (fileinto without
// :create) falls back to INBOX as Pigeonhole does.
func (s *Server) write(md *maildir.Maildir, stores []store, at time.Time) ([]string, error) {
	var folders []string
	for _, st := range stores {
		create := st.create || s.opts.MailboxAutocreate
		d := maildir.Delivery{Folder: st.folder, Create: create, Flags: st.flags, Message: st.msg, Time: at}
		res, err := md.Deliver(d)
		if errors.Is(err, maildir.ErrNoFolder) {
			d.Folder = "INBOX"
			st.folder = "INBOX(" + st.folder + " missing)"
			res, err = md.Deliver(d)
		}
		if err != nil {
			return folders, err
		}
		s.quota.Added(md, res.Size)
		folders = append(folders, st.folder)
	}
	return folders, nil
}

// withHeaders prepends what Dovecot LMTP adds: Return-Path always,
// Delivered-To when the transaction has one recipient, and Received.
func (s *Server) withHeaders(t *transaction, rc *recipient, data []byte) []byte {
	var b bytes.Buffer
	b.Grow(len(data) + 300)
	b.WriteString("Return-Path: <" + t.from + ">\r\n")
	if len(t.rcpts) == 1 {
		b.WriteString("Delivered-To: " + rc.addr + "\r\n")
	}
	if !s.opts.NoReceived {
		from := t.helo
		if t.remote != "" {
			from += " ([" + t.remote + "])"
		}
		b.WriteString("Received: from " + from + "\r\n\tby " + s.opts.Hostname + " with LMTP\r\n\tid " + t.id +
			"\r\n\t(envelope-from <" + t.from + ">)")
		if len(t.rcpts) == 1 {
			b.WriteString("\r\n\tfor <" + rc.addr + ">")
		}
		b.WriteString("; " + t.received.Format("Mon, 02 Jan 2006 15:04:05 -0700") + "\r\n")
	}
	b.Write(data)
	return b.Bytes()
}

var (
	queueIDRE   = regexp.MustCompile(`(?i)\bwith E?SMTPS?A? id ([0-9A-Za-z]+)`)
	messageIDRE = regexp.MustCompile(`(?im)^Message-ID:[ \t]*(<[^>\r\n]{1,250}>)`)
)

// queueID finds Postfix's queue id in the newest Received header (the
// lmtp client sends none on the wire): best effort, for log lines.
func queueID(data []byte) string {
	hdr := headerPart(data)
	i := bytes.Index(bytes.ToLower(hdr), []byte("received:"))
	if i < 0 {
		return ""
	}
	end := min(len(hdr), i+600)
	if m := queueIDRE.FindSubmatch(hdr[i:end]); m != nil {
		return string(m[1])
	}
	return ""
}

func messageID(data []byte) string {
	if m := messageIDRE.FindSubmatch(headerPart(data)); m != nil {
		return string(m[1])
	}
	return ""
}

// headerPart is the header block (bounded, for log-field scans).
func headerPart(data []byte) []byte {
	data = data[:min(len(data), 64<<10)]
	if i := bytes.Index(data, []byte("\r\n\r\n")); i >= 0 {
		return data[:i+2]
	}
	return data
}
