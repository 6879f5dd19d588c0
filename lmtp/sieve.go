package lmtp

import (
	"context"
	"errors"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/gomilter/gomilter/lmtp/maildir"
	"github.com/gomilter/gomilter/sieve"
)

// SieveOptions locate and run scripts the way Pigeonhole's LMTP plugin
// does (settings sieve, sieve_default, sieve_before, sieve_after,
// sieve_global; doc Pigeonhole.Sieve.Configuration).
type SieveOptions struct {
	// Script is Pigeonhole's "sieve" setting: "file:~/sieve;active=~/.dovecot.sieve"
	// (default: a directory of scripts, the active one being the
	// ~/.dovecot.sieve symlink ManageSieve maintains) or a plain path to
	// one script. "~" is the user's home.
	Script string
	// Default runs for users without a script (sieve_default).
	Default string
	// Before and After are files or directories of *.sieve run before and
	// after the user's script, in byte order (sieve_before, sieve_after).
	Before, After []string
	// GlobalDir holds scripts for include :global (sieve_global).
	GlobalDir string
	// Options are the compile and run limits, enabled extensions and
	// vacation settings (sieve.Options.Set takes Pigeonhole's names).
	Options sieve.Options
}

const defaultSieveLocation = "file:~/sieve;active=~/.dovecot.sieve"

// userScript returns the active script path and the personal include
// directory for a home.
func (o *SieveOptions) userScript(home string) (script, dir string) {
	loc := o.Script
	if loc == "" {
		loc = defaultSieveLocation
	}
	loc = strings.TrimPrefix(loc, "file:")
	path, params, _ := strings.Cut(loc, ";")
	exp := func(p string) string {
		if strings.HasPrefix(p, "~") {
			return home + p[1:]
		}
		return p
	}
	path = exp(path)
	for _, kv := range strings.Split(params, ";") {
		if k, v, ok := strings.Cut(kv, "="); ok && k == "active" {
			script = exp(v)
		}
	}
	if st, err := os.Stat(path); err == nil && !st.IsDir() {
		return path, filepath.Dir(path)
	}
	return script, path
}

// scriptCache compiles each script file once per (mtime, size); each user
// script gets its own personal include directory.
type scriptCache struct {
	mu      sync.Mutex
	entries map[string]*cachedScript
}

type cachedScript struct {
	mtime  time.Time
	size   int64
	script *sieve.Script
	err    error
}

func newScriptCache() *scriptCache { return &scriptCache{entries: map[string]*cachedScript{}} }

// load returns the compiled script at path; fs.ErrNotExist if absent.
func (c *scriptCache) load(path string, opts sieve.Options) (*sieve.Script, error) {
	st, err := os.Stat(path) // follows the ~/.dovecot.sieve symlink
	if err != nil {
		return nil, err
	}
	key := path + "\x00" + opts.Name
	c.mu.Lock()
	e := c.entries[key]
	c.mu.Unlock()
	if e != nil && e.mtime.Equal(st.ModTime()) && e.size == st.Size() {
		return e.script, e.err
	}
	e = &cachedScript{mtime: st.ModTime(), size: st.Size()}
	if max := opts.MaxScriptSize; st.Size() > int64(max) && max > 0 || st.Size() > 1<<20 && max <= 0 {
		e.err = errors.New("script too large")
	} else if src, err := os.ReadFile(path); err != nil {
		return nil, err
	} else {
		e.script, e.err = sieve.Compile(src, opts)
	}
	c.mu.Lock()
	if len(c.entries) > 10000 {
		c.entries = map[string]*cachedScript{}
	}
	c.entries[key] = e
	c.mu.Unlock()
	return e.script, e.err
}

// expandScripts lists a sieve_before/after entry: a file, or a directory's
// *.sieve files in byte order.
func expandScripts(entries []string) []string {
	var out []string
	for _, p := range entries {
		st, err := os.Stat(p)
		if err != nil {
			continue
		}
		if !st.IsDir() {
			out = append(out, p)
			continue
		}
		files, _ := filepath.Glob(filepath.Join(p, "*.sieve"))
		sort.Strings(files)
		out = append(out, files...)
	}
	return out
}

// scriptsFor compiles the sequence for a user. A script that does not
// compile is skipped and logged; the others still run.
func (s *Server) scriptsFor(log *slog.Logger, u User, rcpt string) ([]*sieve.Script, sieve.Options) {
	so := s.opts.Sieve
	userPath, dir := "", ""
	if u.Home != "" { // no home, no personal scripts (never "/.dovecot.sieve")
		userPath, dir = so.userScript(u.Home)
	}
	opts := so.Options
	opts.RecipientDelimiter = s.opts.RecipientDelimiter
	if opts.UserEmail == "" {
		opts.UserEmail = rcpt
	}
	var list []*sieve.Script
	add := func(path string, personal string) bool {
		o := opts
		o.Name = path
		o.Include = sieve.DirResolver{Personal: personal, Global: so.GlobalDir}
		sc, err := s.scripts.load(path, o)
		if errors.Is(err, fs.ErrNotExist) {
			return false
		}
		if err != nil {
			s.metrics.sieve.WithLabelValues("error").Inc()
			log.Warn("sieve script not usable", "script", path, "err", err)
			return true
		}
		list = append(list, sc)
		return true
	}
	for _, p := range expandScripts(so.Before) {
		add(p, "")
	}
	if userPath == "" || !add(userPath, dir) {
		if so.Default != "" {
			add(so.Default, dir)
		}
	}
	for _, p := range expandScripts(so.After) {
		add(p, "")
	}
	return list, opts
}

// runSieve runs the user's scripts and turns the result into stores,
// a reject, and messages sent through the relay.
func (s *Server) runSieve(ctx context.Context, log *slog.Logger, t *transaction, rc *recipient, md *maildir.Maildir, msg []byte) *outcome {
	keep := &outcome{stores: []store{{implicit: true, folder: "INBOX", msg: msg}}}
	scripts, opts := s.scriptsFor(log, rc.user, rc.addr)
	if len(scripts) == 0 {
		return keep
	}
	env := sieve.Envelope{From: t.from, To: rc.addr, OrigTo: rc.orcpt}
	in := &sieve.Input{Message: sieve.ParseMessage(msg), Envelope: env, Now: t.received,
		Environment: map[string]string{"host": s.opts.Hostname, "location": "MDA", "phase": "during", "name": "gomilter"},
		Duplicates:  dupTracker{s.opts.Responses, rc.user.Name}, Mailboxes: mailboxes{md}}
	res, err := sieve.RunSequence(ctx, scripts, in)
	if err != nil {
		s.metrics.sieve.WithLabelValues("error").Inc()
		log.Warn("sieve runtime error: implicit keep", "err", err)
	}
	if res == nil {
		return keep
	}
	out := s.perform(ctx, log, res, env, &opts, rc)
	for _, d := range res.Duplicates {
		if err := s.opts.Responses.Mark(ctx, "dup\x00"+rc.user.Name+"\x00"+d.ID, d.Period); err != nil {
			log.Warn("recording duplicate id failed", "err", err)
		}
	}
	return out
}

// dupTracker answers the duplicate test per user.
type dupTracker struct {
	store ResponseStore
	user  string
}

func (d dupTracker) Seen(ctx context.Context, id string) (bool, error) {
	return d.store.Seen(ctx, "dup\x00"+d.user+"\x00"+id)
}

// mailboxes answers mailboxexists from the user's Maildir.
type mailboxes struct{ md *maildir.Maildir }

func (m mailboxes) MailboxExists(_ context.Context, name string) (bool, error) {
	return m.md.Exists(name), nil
}
