package lmtp

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"runtime/debug"
	"strings"
	"time"

	"github.com/emersion/go-smtp"
)

// session is one LMTP connection's transaction state (go-smtp Session
// plus LMTPSession for per-recipient replies).
type session struct {
	s      *Server
	id     string
	helo   string
	remote string
	be     Backend

	from  string
	rcpts []*recipient // accepted RCPTs in order, duplicates included
}

// recipient is one accepted RCPT.
type recipient struct {
	addr  string // as sent (with detail)
	orcpt string // DSN ORCPT, if any
	user  User
}

var _ smtp.LMTPSession = (*session)(nil)

func (s *Server) newSession(c *smtp.Conn) (smtp.Session, error) {
	if s.closing.Load() {
		return nil, &Reply{Code: 421, EnhancedCode: smtp.EnhancedCode{4, 3, 2}, Message: "Server shutting down"}
	}
	remote := ""
	if a, ok := c.Conn().RemoteAddr().(*net.TCPAddr); ok {
		remote = a.IP.String()
	}
	return &session{s: s, id: s.nextID(), helo: c.Hostname(), remote: remote, be: s.backend.Load().b}, nil
}

// Reset implements smtp.Session (RSET, and after each DATA).
func (ss *session) Reset() {
	ss.from, ss.rcpts = "", nil
	ss.be = ss.s.backend.Load().b // pick up a reloaded backend between transactions
}

// Logout implements smtp.Session.
func (ss *session) Logout() error { return nil }

// Mail implements smtp.Session. Dovecot refuses SIZE= (it does not offer
// SIZE); go-smtp offers it and checks it against MaxMessageBytes.
func (ss *session) Mail(from string, _ *smtp.MailOptions) error {
	ss.from = from
	ss.rcpts = nil
	return nil
}

// Rcpt implements smtp.Session: the user is looked up now so unknown
// users are refused before any data is sent.
func (ss *session) Rcpt(to string, opts *smtp.RcptOptions) (err error) {
	defer func() {
		if p := recover(); p != nil {
			ss.s.metrics.panics.Inc()
			ss.s.opts.Logger.Error("panic during user lookup", "session", ss.id, "rcpt", to, "panic", fmt.Sprint(p), "stack", string(debug.Stack()))
			err = replyTempRcpt(to)
		}
	}()
	name := ss.stripDetail(to)
	key := strings.ToLower(name)
	ctx, cancel := context.WithTimeout(ss.s.ctx, ss.s.opts.LookupTimeout)
	defer cancel()
	u, err := ss.be.LookupUser(ctx, key)
	switch {
	case err == nil:
	case isNotFound(err):
		ss.s.metrics.deliveries.WithLabelValues(resultNoUser).Inc()
		ss.s.opts.Logger.Info("unknown user", "session", ss.id, "from", ss.from, "rcpt", to, "user", key)
		return replyNoUser(to, name)
	default:
		ss.s.metrics.deliveries.WithLabelValues(resultTempfail).Inc()
		ss.s.opts.Logger.Warn("user lookup failed", "session", ss.id, "rcpt", to, "reply", "451 4.3.0", "err", err)
		return replyTempRcpt(to)
	}
	r := &recipient{addr: to, user: u}
	if opts != nil && opts.OriginalRecipient != "" {
		r.orcpt = opts.OriginalRecipient
	}
	ss.rcpts = append(ss.rcpts, r)
	return nil
}

// stripDetail removes the detail (user+detail@dom -> user@dom). The
// userdb key is this, lower-cased (Dovecot's auth_username_format %Lu);
// the reply names it as given, as Dovecot does.
func (ss *session) stripDetail(addr string) string {
	local, domain, hasAt := strings.Cut(addr, "@")
	if i := strings.IndexAny(local, ss.s.opts.RecipientDelimiter); i > 0 {
		local = local[:i]
	}
	if hasAt {
		return local + "@" + domain
	}
	return local
}

// Data implements smtp.Session; LMTP always uses LMTPData.
func (ss *session) Data(r io.Reader) error {
	return ss.LMTPData(r, discardStatus{})
}

type discardStatus struct{}

func (discardStatus) SetStatus(string, error) {}

// LMTPData reads the message once and delivers one copy per recipient,
// setting exactly one status per accepted RCPT in RCPT order.
func (ss *session) LMTPData(r io.Reader, status smtp.StatusCollector) (err error) {
	defer func() {
		if p := recover(); p != nil {
			ss.s.metrics.panics.Inc()
			ss.s.opts.Logger.Error("panic during delivery", "session", ss.id, "panic", fmt.Sprint(p), "stack", string(debug.Stack()))
			// go-smtp gives this to every recipient still without a status.
			err = replyTemp
		}
	}()
	data, err := io.ReadAll(r)
	if err != nil {
		return ss.dataFailed(err)
	}
	t := &transaction{id: ss.id, helo: ss.helo, remote: ss.remote, from: ss.from, rcpts: ss.rcpts, received: time.Now()}
	results := map[string]error{}
	for _, rc := range ss.rcpts {
		res, seen := results[rc.addr]
		if !seen {
			res = ss.s.deliver(t, rc, data)
			results[rc.addr] = res
		}
		status.SetStatus(rc.addr, res)
	}
	return nil
}

// dataFailed maps a read error (too large, connection lost) to the reply
// every recipient gets.
func (ss *session) dataFailed(err error) error {
	if errors.Is(err, smtp.ErrTooLongLine) {
		// Permanent: a retry would carry the same line (Postfix itself
		// folds at 998, so only other clients get here).
		err = &Reply{Code: 554, EnhancedCode: smtp.EnhancedCode{5, 6, 0}, Message: "Message line too long"}
	}
	if rep := asReply(err); rep != nil {
		for range ss.rcpts {
			ss.s.metrics.deliveries.WithLabelValues(resultTooBig).Inc()
		}
		ss.s.opts.Logger.Info("message refused", "session", ss.id, "from", ss.from, "reply", rep.Code, "reason", rep.Message)
		return rep
	}
	ss.s.opts.Logger.Warn("reading message failed", "session", ss.id, "err", err)
	return replyTemp
}
