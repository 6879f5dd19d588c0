package dovecotauth

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"path"
	"sort"
	"strconv"
	"strings"
	"time"
)

// masterConn is one auth-userdb / auth-master connection: requests are
// answered in order, one at a time (Dovecot's LMTP and doveadm wait for
// each reply).
type masterConn struct {
	s  *Server
	nc net.Conn
	r  *bufio.Reader
}

func (s *Server) handleMaster(nc net.Conn) {
	m := &masterConn{s: s, nc: nc, r: bufio.NewReaderSize(nc, 4096)}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go func() {
		select {
		case <-s.shutdown:
			nc.Close() // requests here are short; no draining needed
		case <-ctx.Done():
		}
	}()
	if err := m.write(fmt.Sprintf("VERSION\t%d\t%d\nSPID\t%d\n", protoMajor, masterMinor, s.pid)); err != nil {
		return
	}
	defer func() {
		if v := recover(); v != nil {
			s.metrics.panics.Inc()
			s.opts.Logger.Error("panic in userdb request", slog.Any("panic", v))
		}
	}()
	for {
		line, err := readLine(m.r, nc, s.opts.MaxLineLength, s.opts.IdleTimeout)
		if err != nil {
			return
		}
		if err := m.dispatch(ctx, splitLine(line)); err != nil {
			s.opts.Logger.Info("userdb connection closed", slog.Any("err", err))
			return
		}
	}
}

func (m *masterConn) write(s string) error {
	m.nc.SetWriteDeadline(time.Now().Add(m.s.opts.WriteTimeout))
	_, err := m.nc.Write([]byte(s))
	return err
}

func (m *masterConn) dispatch(ctx context.Context, f []string) error {
	switch f[0] {
	case cmdVersion:
		if len(f) < 3 || f[1] != strconv.Itoa(protoMajor) {
			return fmt.Errorf("%w: version %q", errSyntax, strings.Join(f, " "))
		}
		return nil
	case cmdUser, cmdPass:
		if len(f) < 3 {
			return errSyntax
		}
		id, err := parseID(f[1])
		if err != nil {
			return err
		}
		info, ok := parseMasterParams(f[3:])
		if !ok {
			return fmt.Errorf("%w: %s without service", errSyntax, f[0])
		}
		if f[0] == cmdUser {
			return m.user(ctx, id, unescapeValue(f[2]), info)
		}
		return m.pass(ctx, id, unescapeValue(f[2]), info)
	case "CACHE-FLUSH":
		if len(f) < 2 {
			return errSyntax
		}
		id, err := parseID(f[1])
		if err != nil {
			return err
		}
		return m.cacheFlush(id)
	case cmdList:
		if len(f) < 2 {
			return errSyntax
		}
		id, err := parseID(f[1])
		if err != nil {
			return err
		}
		return m.list(ctx, id, f[2:])
	}
	return fmt.Errorf("%w: unknown command %.20q", errSyntax, f[0])
}

func parseMasterParams(f []string) (RequestInfo, bool) {
	var a authCommand
	for _, p := range f {
		k, v, _ := strings.Cut(p, "=")
		a.applyParam(k, unescapeValue(v))
	}
	return a.info, a.info.Service != ""
}

// answer maps a lookup error to NOTFOUND / FAIL and records the metric.
func (m *masterConn) answer(cmd string, id uint32, err error, ok func() string) error {
	sid := strconv.FormatUint(uint64(id), 10)
	switch {
	case err == nil:
		m.s.metrics.userdb.WithLabelValues(cmd, "ok").Inc()
		return m.write(ok())
	case errors.Is(err, ErrUnknownUser):
		m.s.metrics.userdb.WithLabelValues(cmd, "notfound").Inc()
		return m.write(replyNotFound + "\t" + sid + "\n")
	}
	m.s.metrics.userdb.WithLabelValues(cmd, "fail").Inc()
	m.s.opts.Logger.Warn("userdb lookup failed", slog.String("cmd", cmd), slog.Any("err", err))
	return m.write(replyFail + "\t" + sid + "\treason=Internal error occurred\n")
}

func (m *masterConn) user(ctx context.Context, id uint32, name string, info RequestInfo) error {
	ul, ok := m.s.auth.(UserLookuper)
	user, valid := m.s.normalise(name)
	var u UserFields
	var err error
	switch {
	case !ok:
		err = errors.New("authenticator has no userdb")
	case !valid:
		err = ErrUnknownUser
	default:
		lctx, cancel := context.WithTimeout(ctx, m.s.opts.LookupTimeout)
		u, err = ul.LookupUser(lctx, user, info)
		cancel()
	}
	return m.answer("USER", id, err, func() string {
		if u.User == "" {
			u.User = user
		}
		return "USER\t" + strconv.FormatUint(uint64(id), 10) + "\t" + escapeValue(u.User) +
			formatFields(u.Fields) + "\n"
	})
}

func (m *masterConn) pass(ctx context.Context, id uint32, name string, info RequestInfo) error {
	user, valid := m.s.normalise(name)
	var cred Credentials
	err := error(ErrUnknownUser)
	if valid {
		lctx, cancel := context.WithTimeout(ctx, m.s.opts.LookupTimeout)
		cred, err = m.s.auth.Lookup(lctx, user, info)
		cancel()
	}
	return m.answer("PASS", id, err, func() string {
		if cred.User == "" {
			cred.User = user
		}
		f := map[string]string{"user": cred.User}
		if cred.NoPassword {
			f["nopassword"] = ""
		} else {
			f["password"] = cred.Password
		}
		return "PASS\t" + strconv.FormatUint(uint64(id), 10) + formatFields(f) + "\n"
	})
}

func (m *masterConn) list(ctx context.Context, id uint32, params []string) error {
	sid := strconv.FormatUint(uint64(id), 10)
	it, ok := m.s.auth.(UserIterator)
	if !ok {
		return m.write("DONE\t" + sid + "\tfail\n")
	}
	mask := "*"
	for _, p := range params {
		if v, ok := strings.CutPrefix(p, "user="); ok {
			mask = unescapeValue(v)
		}
	}
	err := it.Iterate(ctx, func(u string) error {
		if match, _ := path.Match(mask, u); !match {
			return nil
		}
		return m.write("LIST\t" + sid + "\t" + escapeValue(u) + "\n")
	})
	if err != nil {
		m.s.opts.Logger.Warn("userdb iterate failed", slog.Any("err", err))
		return m.write("DONE\t" + sid + "\tfail\n")
	}
	return m.write("DONE\t" + sid + "\n")
}

// CacheFlusher is the optional add-on interface behind CACHE-FLUSH
// (userdb.Cache implements it).
type CacheFlusher interface{ Flush() }

// cacheFlush empties the store's cache; Dovecot answers with the number of
// entries removed, which we do not track, so we report 0.
func (m *masterConn) cacheFlush(id uint32) error {
	if f, ok := m.s.auth.(CacheFlusher); ok {
		f.Flush()
	}
	return m.write("OK\t" + strconv.FormatUint(uint64(id), 10) + "\t0\n")
}

// formatFields renders "\tk=v" pairs in a stable order ("k" alone for an
// empty value, as Dovecot writes booleans).
func formatFields(f map[string]string) string {
	keys := make([]string, 0, len(f))
	for k := range f {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var b strings.Builder
	for _, k := range keys {
		b.WriteByte('\t')
		b.WriteString(escapeValue(k))
		if f[k] != "" {
			b.WriteByte('=')
			b.WriteString(escapeValue(f[k]))
		}
	}
	return b.String()
}
