package bench

import (
	"bytes"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
)

// MaxMessageSize bounds each message file read (larger files are skipped):
// a load generator should not be fooled into reading a mailbox export.
const MaxMessageSize = 32 << 20

// LoadMessages reads every regular file of dir (or of dir/cur and dir/new
// for a Maildir), sorted by name, at most max files when max > 0. LF-only
// files are converted to CRLF, the form messages travel in.
func LoadMessages(dir string, max int) ([][]byte, error) {
	dirs := []string{dir}
	if isDir(filepath.Join(dir, "cur")) || isDir(filepath.Join(dir, "new")) {
		dirs = []string{filepath.Join(dir, "cur"), filepath.Join(dir, "new")}
	}
	var names []string
	for _, d := range dirs {
		ents, err := os.ReadDir(d)
		if err != nil {
			if os.IsNotExist(err) && len(dirs) > 1 {
				continue
			}
			return nil, err
		}
		for _, e := range ents {
			if e.Type().IsRegular() && e.Name()[0] != '.' {
				names = append(names, filepath.Join(d, e.Name()))
			}
		}
	}
	sort.Strings(names)
	var out [][]byte
	for _, n := range names {
		if max > 0 && len(out) >= max {
			break
		}
		b, err := readBounded(n)
		if err != nil {
			return nil, err
		}
		if b != nil {
			out = append(out, crlf(stripMboxFrom(b)))
		}
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("bench: no message files in %s", dir)
	}
	return out, nil
}

func isDir(p string) bool {
	st, err := os.Stat(p)
	return err == nil && st.IsDir()
}

// readBounded returns the file, or nil if it exceeds MaxMessageSize.
func readBounded(name string) ([]byte, error) {
	f, err := os.Open(name)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(f, MaxMessageSize+1))
	if err != nil || len(b) > MaxMessageSize {
		return nil, err
	}
	return b, nil
}

// stripMboxFrom drops a leading mbox "From sender date" line, which
// corpora keep but which never travels in SMTP (it would end the header
// at once, since it has no colon).
func stripMboxFrom(b []byte) []byte {
	if !bytes.HasPrefix(b, []byte("From ")) {
		return b
	}
	if i := bytes.IndexByte(b, '\n'); i >= 0 {
		return b[i+1:]
	}
	return nil
}

// crlf converts LF line ends to CRLF, leaving CRLF alone.
func crlf(b []byte) []byte {
	n := bytes.Count(b, []byte("\n"))
	if n == 0 || n == bytes.Count(b, []byte("\r\n")) {
		return b
	}
	out := make([]byte, 0, len(b)+n)
	for _, c := range b {
		if c == '\n' && (len(out) == 0 || out[len(out)-1] != '\r') {
			out = append(out, '\r')
		}
		out = append(out, c)
	}
	return out
}
