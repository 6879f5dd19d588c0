package bayes

import (
	"bufio"
	"os"
	"path/filepath"
	"sort"
	"strings"
)

// ReadIgnoreHeaders collects the header names of "bayes_ignore_header NAME"
// lines in the *.cf files of dirs (SpamAssassin keeps a long list of other
// filters' and mailing-list headers in its rule updates), for
// Options.IgnoreHeaders. Missing directories are skipped; conditional
// blocks (if/ifplugin) are not evaluated, all lines count.
func ReadIgnoreHeaders(dirs ...string) ([]string, error) {
	seen := map[string]bool{}
	for _, d := range dirs {
		files, err := filepath.Glob(filepath.Join(d, "*.cf"))
		if err != nil {
			return nil, err
		}
		for _, f := range files {
			if err := scanIgnoreHeaders(f, seen); err != nil {
				return nil, err
			}
		}
	}
	out := make([]string, 0, len(seen))
	for h := range seen {
		out = append(out, h)
	}
	sort.Strings(out)
	return out, nil
}

func scanIgnoreHeaders(path string, seen map[string]bool) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		fields := strings.Fields(sc.Text())
		if len(fields) >= 2 && fields[0] == "bayes_ignore_header" {
			for _, h := range fields[1:] {
				seen[strings.ToLower(h)] = true
			}
		}
	}
	return sc.Err()
}
