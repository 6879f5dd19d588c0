package maildir

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync/atomic"
	"time"
)

// ErrNoFolder is returned when a delivery names a folder that does not
// exist and Create was not set (Sieve fileinto without :create).
var ErrNoFolder = errors.New("maildir: folder does not exist")

// Maildir is one user's Maildir++ root.
type Maildir struct {
	// Root holds tmp/, new/, cur/ (INBOX) and the ".Folder" directories.
	Root string
	// UID and GID own created files and directories when Chown is set
	// (deliveries running as root for a virtual mail user).
	UID, GID int
	Chown    bool
	// LayoutFS stores folders as root/Name/Sub (Dovecot's
	// mail_location ...:LAYOUT=fs) instead of Maildir++ root/.Name.Sub.
	LayoutFS bool
}

// Delivery is one message to store.
type Delivery struct {
	// Folder is "INBOX" (or "") or a folder name with "/" or "." as the
	// hierarchy separator.
	Folder string
	// Create makes a missing folder (and its parents) instead of failing.
	Create bool
	// Flags are IMAP system flags (\Seen, \Answered, \Flagged, \Deleted,
	// \Draft); keywords are ignored (they live in Dovecot's
	// dovecot-keywords, which only Dovecot may write).
	Flags []string
	// Message is the message text, CRLF or LF line ends.
	Message []byte
	// Time is the delivery time (file mtime = IMAP INTERNALDATE); zero
	// means now.
	Time time.Time
}

// Result describes a stored message.
type Result struct {
	Path  string // final path
	Size  int64  // S=: bytes stored
	VSize int64  // W=: size with CRLF line ends
	// Ignored lists the flags that could not be stored (keywords).
	Ignored []string
}

var counter atomic.Uint64

// hostname is the host part of file names, with "/" and ":" encoded as
// the Maildir spec asks.
var hostname = func() string {
	h, err := os.Hostname()
	if err != nil || h == "" {
		h = "localhost"
	}
	h = strings.ReplaceAll(h, "/", `\057`)
	return strings.ReplaceAll(h, ":", `\072`)
}()

// baseName returns a unique base name: seconds, microseconds, pid and a
// per-process counter, so concurrent deliveries never collide even within
// one microsecond.
func baseName(t time.Time) string {
	return fmt.Sprintf("%d.M%dP%dQ%d.%s", t.Unix(), t.Nanosecond()/1000, os.Getpid(), counter.Add(1), hostname)
}

// toLF converts CRLF line ends to LF as Dovecot stores mail
// (mail_save_crlf = no) and returns the CRLF size (W=).
func toLF(msg []byte) (lf []byte, vsize int64) {
	lf = bytes.ReplaceAll(msg, []byte("\r\n"), []byte("\n"))
	return lf, int64(len(lf) + bytes.Count(lf, []byte("\n")))
}

// Deliver stores d atomically: a reader never sees a partial file.
func (m *Maildir) Deliver(d Delivery) (*Result, error) {
	dir, err := m.folderDir(d.Folder, d.Create)
	if err != nil {
		return nil, err
	}
	if d.Time.IsZero() {
		d.Time = time.Now()
	}
	lf, vsize := toLF(d.Message)
	info, ignored := infoFlags(d.Flags)
	base := baseName(d.Time)
	tmp := filepath.Join(dir, "tmp", base)
	if err := m.writeSynced(tmp, lf, d.Time); err != nil {
		return nil, err
	}
	name := base + ",S=" + strconv.Itoa(len(lf)) + ",W=" + strconv.FormatInt(vsize, 10)
	sub := "new"
	if info != "" {
		sub, name = "cur", name+":2,"+info
	}
	final := filepath.Join(dir, sub, name)
	if err := os.Rename(tmp, final); err != nil {
		os.Remove(tmp)
		return nil, fmt.Errorf("maildir: %w", err)
	}
	if err := syncDir(filepath.Join(dir, sub)); err != nil {
		return nil, err
	}
	return &Result{Path: final, Size: int64(len(lf)), VSize: vsize, Ignored: ignored}, nil
}

// writeSynced creates path exclusively (0600), writes data, fixes the
// owner and mtime, and fsyncs before closing.
func (m *Maildir) writeSynced(path string, data []byte, mtime time.Time) error {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return fmt.Errorf("maildir: %w", err)
	}
	fail := func(err error) error {
		f.Close()
		os.Remove(path)
		return fmt.Errorf("maildir: %w", err)
	}
	if _, err := f.Write(data); err != nil {
		return fail(err)
	}
	if m.Chown {
		if err := f.Chown(m.UID, m.GID); err != nil {
			return fail(err)
		}
	}
	if err := f.Sync(); err != nil {
		return fail(err)
	}
	if err := f.Close(); err != nil {
		os.Remove(path)
		return fmt.Errorf("maildir: %w", err)
	}
	if err := os.Chtimes(path, mtime, mtime); err != nil {
		os.Remove(path)
		return fmt.Errorf("maildir: %w", err)
	}
	return nil
}

func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return fmt.Errorf("maildir: %w", err)
	}
	defer d.Close()
	if err := d.Sync(); err != nil {
		return fmt.Errorf("maildir: %w", err)
	}
	return nil
}

// systemFlags maps IMAP system flags to Maildir info letters.
var systemFlags = map[string]byte{
	`\draft`: 'D', `\flagged`: 'F', `\answered`: 'R', `\seen`: 'S', `\deleted`: 'T',
}

// infoFlags returns the sorted info letters for flags and the flags that
// have no letter.
func infoFlags(flags []string) (string, []string) {
	var letters []byte
	var ignored []string
	for _, f := range flags {
		c, ok := systemFlags[strings.ToLower(f)]
		if !ok {
			ignored = append(ignored, f)
			continue
		}
		if bytes.IndexByte(letters, c) < 0 {
			letters = append(letters, c)
		}
	}
	sort.Slice(letters, func(i, j int) bool { return letters[i] < letters[j] })
	return string(letters), ignored
}
