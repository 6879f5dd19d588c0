package dkim

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
)

// maxDatasetFile bounds a table file read into memory.
const maxDatasetFile = 16 << 20

// dsEntry is one line of an OpenDKIM dataset: a key and the rest.
type dsEntry struct {
	Key, Value string
	Line       int
}

// dataset is a loaded OpenDKIM "dataset" (opendkim.conf(5), DATA SETS):
// file: (exact keys), refile: (wildcard keys, in file order) or csl:/a
// bare comma-separated list.
type dataset struct {
	Kind    string // "file", "refile" or "csl"
	Path    string // file name for file and refile
	Entries []dsEntry
}

// errUnsupportedDataset is returned for db:, dsn:, ldap:, lua:, memcache:...
var errUnsupportedDataset = errors.New("dataset type not supported by gomilter (use file: or refile:)")

// loadDataset opens a dataset spec; relative paths are taken from baseDir
// (the directory of the config file that names them).
func loadDataset(spec, baseDir string) (*dataset, error) {
	spec = strings.TrimSpace(spec)
	kind, rest, hasKind := strings.Cut(spec, ":")
	if !hasKind || strings.HasPrefix(spec, "/") {
		kind, rest = "", spec
	}
	switch strings.ToLower(kind) {
	case "file", "refile":
		return loadDatasetFile(strings.ToLower(kind), rest, baseDir)
	case "csl":
		return cslDataset(rest), nil
	case "":
		if strings.HasPrefix(rest, "/") && !strings.Contains(rest, ",") {
			if strings.HasSuffix(rest, ".db") {
				return nil, errUnsupportedDataset
			}
			return loadDatasetFile("file", rest, baseDir)
		}
		return cslDataset(rest), nil
	default:
		return nil, fmt.Errorf("%w: %q", errUnsupportedDataset, kind)
	}
}

func cslDataset(s string) *dataset {
	d := &dataset{Kind: "csl"}
	for v := range strings.SplitSeq(s, ",") {
		if v = strings.TrimSpace(v); v != "" {
			// "key=value" pairs make a csl: usable as a table.
			k, val, _ := strings.Cut(v, "=")
			d.Entries = append(d.Entries, dsEntry{Key: k, Value: val})
		}
	}
	return d
}

func resolvePath(p, baseDir string) string {
	if p == "" || filepath.IsAbs(p) || baseDir == "" {
		return p
	}
	return filepath.Join(baseDir, p)
}

func loadDatasetFile(kind, path, baseDir string) (*dataset, error) {
	path = resolvePath(path, baseDir)
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, maxDatasetFile+1))
	if err != nil {
		return nil, err
	}
	if len(data) > maxDatasetFile {
		return nil, fmt.Errorf("%s: larger than %d bytes", path, maxDatasetFile)
	}
	d := &dataset{Kind: kind, Path: path, Entries: parseDatasetLines(data)}
	return d, nil
}

// parseDatasetLines splits "key value" lines; '#' starts a comment and
// blank lines are skipped.
func parseDatasetLines(data []byte) []dsEntry {
	var out []dsEntry
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(make([]byte, 64<<10), maxDatasetFile)
	n := 0
	for sc.Scan() {
		n++
		line := sc.Text()
		if i := strings.IndexByte(line, '#'); i >= 0 {
			line = line[:i]
		}
		line = strings.TrimSpace(line)
		if line == "" {
			continue
		}
		key, value, _ := strings.Cut(line, " ")
		if k2, v2, ok := strings.Cut(line, "\t"); ok && len(k2) < len(key) {
			key, value = k2, v2
		}
		out = append(out, dsEntry{Key: key, Value: strings.TrimSpace(value), Line: n})
	}
	return out
}

// keys returns every entry key (for list-like datasets: Domain,
// InternalHosts, SignHeaders...).
func (d *dataset) keys() []string {
	out := make([]string, 0, len(d.Entries))
	for _, e := range d.Entries {
		out = append(out, e.Key)
	}
	return out
}

// where names an entry for error messages.
func (d *dataset) where(e dsEntry) string {
	if d.Path == "" {
		return "inline list"
	}
	return fmt.Sprintf("%s:%d", d.Path, e.Line)
}

// wildcardMatch matches s against a pattern where '*' stands for any run
// of characters (refile: tables), case-insensitively, without backtracking
// blow-up (greedy with one restart point).
func wildcardMatch(pattern, s string) bool {
	pattern, s = strings.ToLower(pattern), strings.ToLower(s)
	px, sx := 0, 0
	starPx, starSx := -1, -1
	for sx < len(s) {
		switch {
		case px < len(pattern) && pattern[px] == '*':
			starPx, starSx = px, sx
			px++
		case px < len(pattern) && pattern[px] == s[sx]:
			px++
			sx++
		case starPx >= 0:
			starSx++
			px, sx = starPx+1, starSx
		default:
			return false
		}
	}
	for px < len(pattern) && pattern[px] == '*' {
		px++
	}
	return px == len(pattern)
}
