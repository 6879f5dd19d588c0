package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"

	"github.com/gomilter/gomilter/internal/bayes"
	"github.com/gomilter/gomilter/milter/spam"
	"github.com/redis/go-redis/v9"
)

// runSpamLearn is "gomilter spam learn" (see spam.go), like sa-learn.
// DefaultBayesStore is where spam learn keeps the bbolt database by default.
const DefaultBayesStore = "/var/lib/gomilter/bayes.db"

type learnFlags struct {
	spam, ham, forget  bool
	store, redisAddr   string
	redisPrefix, user  string
	rules, site, local string
	stats              bool
}

// newClassifier builds the classifier with the Bayes settings of the
// SpamAssassin configuration the milter scores with (bayes_ignore_header,
// bayes_ignore_from/to, the relay analysis under trusted_networks), so
// that learning and scoring tokenize alike.
func newClassifier(st bayes.Store, lf learnFlags) (*bayes.Classifier, error) {
	opts, _, err := spam.LoadBayesOptions(spam.Options{RuleDirs: []string{lf.rules}, SiteDir: lf.site, LocalCF: lf.local})
	if err != nil {
		return nil, err
	}
	opts.Store = st
	return bayes.New(opts)
}

func runSpamLearn(args []string, stdout, stderr io.Writer) int {
	var lf learnFlags
	fs := flag.NewFlagSet("spam learn", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.BoolVar(&lf.spam, "spam", false, "learn the messages as spam")
	fs.BoolVar(&lf.ham, "ham", false, "learn the messages as ham")
	fs.BoolVar(&lf.forget, "forget", false, "forget the messages")
	fs.BoolVar(&lf.stats, "stats", false, "print how many spam and ham messages the database learned")
	fs.StringVar(&lf.store, "store", DefaultBayesStore, "bbolt database file")
	fs.StringVar(&lf.redisAddr, "redis", "", "Redis host:port (instead of -store)")
	fs.StringVar(&lf.redisPrefix, "redis-prefix", bayes.DefaultRedisPrefix, "Redis key prefix")
	fs.StringVar(&lf.user, "user", "", "per-user database (default: the global one)")
	fs.StringVar(&lf.rules, "rules", "/usr/share/spamassassin", "rule directory (*.cf), as for spam check")
	fs.StringVar(&lf.site, "site", "/etc/spamassassin", `site directory (*.pre, local.cf); "-" for none`)
	fs.StringVar(&lf.local, "local", "", "extra configuration file read last")
	paths, err := parseInterleaved(fs, args)
	if err != nil {
		return 2
	}
	if lf.stats && len(paths) == 0 && !lf.spam && !lf.ham && !lf.forget {
		return learnStats(lf, stdout, stderr)
	}
	if n := btoi(lf.spam) + btoi(lf.ham) + btoi(lf.forget); n != 1 || len(paths) == 0 {
		fmt.Fprintln(stderr, "usage: gomilter spam learn --spam|--ham|--forget [-store FILE|-redis ADDR] [-user U] [-rules DIR] [-site DIR] [-local FILE] FILE|DIR|MAILDIR... | spam learn -stats [-store FILE|-redis ADDR] [-user U]")
		return 2
	}
	st, closeStore, err := openLearnStore(lf)
	if err != nil {
		fmt.Fprintln(stderr, "gomilter spam learn:", err)
		return 1
	}
	defer closeStore()
	c, err := newClassifier(st, lf)
	if err != nil {
		fmt.Fprintln(stderr, "gomilter spam learn:", err)
		return 1
	}
	learned, examined, err := learnPaths(context.Background(), c, lf, paths, stderr)
	fmt.Fprintf(stdout, "Learned tokens from %d message(s) (%d message(s) examined)\n", learned, examined)
	if err == nil && learned > 0 {
		// Bound the database as sa-learn's opportunistic expiry does.
		_, err = c.Expire(context.Background(), lf.user)
	}
	if err != nil {
		fmt.Fprintln(stderr, "gomilter spam learn:", err)
		return 1
	}
	return 0
}

// learnStats prints the class totals, like sa-learn --dump magic's nspam
// and nham lines.
func learnStats(lf learnFlags, stdout, stderr io.Writer) int {
	st, closeStore, err := openLearnStore(lf)
	if err != nil {
		fmt.Fprintln(stderr, "gomilter spam learn:", err)
		return 1
	}
	defer closeStore()
	nspam, nham, err := st.Totals(context.Background(), lf.user)
	if err != nil {
		fmt.Fprintln(stderr, "gomilter spam learn:", err)
		return 1
	}
	fmt.Fprintf(stdout, "nspam %d\nnham %d\n", nspam, nham)
	return 0
}

func btoi(b bool) int {
	if b {
		return 1
	}
	return 0
}

// openLearnStore opens the bbolt file (without fsync per message; synced
// once at the end) or connects to Redis.
func openLearnStore(lf learnFlags) (bayes.Store, func(), error) {
	if lf.redisAddr != "" {
		client := redis.NewClient(&redis.Options{Addr: lf.redisAddr})
		if err := client.Ping(context.Background()).Err(); err != nil {
			client.Close()
			return nil, nil, fmt.Errorf("redis %s: %w", lf.redisAddr, err)
		}
		return bayes.NewRedisStore(client, lf.redisPrefix), func() { client.Close() }, nil
	}
	if err := os.MkdirAll(filepath.Dir(lf.store), 0o750); err != nil {
		return nil, nil, err
	}
	b, err := bayes.OpenBolt(lf.store, bayes.BoltOptions{NoSync: true})
	if err != nil {
		return nil, nil, err
	}
	return b, func() { b.Sync(); b.Close() }, nil
}

// learnPaths learns every message file under paths. Unreadable files are
// reported and skipped; the first store error stops the run.
func learnPaths(ctx context.Context, c *bayes.Classifier, lf learnFlags, paths []string, stderr io.Writer) (learned, examined int, err error) {
	files, err := messageFiles(paths)
	if err != nil {
		return 0, 0, err
	}
	for _, f := range files {
		raw, rerr := os.ReadFile(f)
		if rerr != nil {
			fmt.Fprintln(stderr, "gomilter spam learn:", rerr)
			continue
		}
		examined++
		msg := bayes.ParseMessage(raw)
		var ok bool
		if lf.forget {
			ok, err = c.Forget(ctx, msg, lf.user)
		} else {
			ok, err = c.Learn(ctx, msg, lf.spam, lf.user)
		}
		if err != nil {
			return learned, examined, fmt.Errorf("%s: %w", f, err)
		}
		learned += btoi(ok)
	}
	return learned, examined, nil
}

// messageFiles lists regular files in name order, walking directories; a
// Maildir's tmp/ (messages being delivered) and dot files are skipped.
func messageFiles(paths []string) ([]string, error) {
	var out []string
	for _, p := range paths {
		st, err := os.Stat(p)
		if err != nil {
			return nil, err
		}
		if !st.IsDir() {
			out = append(out, p)
			continue
		}
		var sub []string
		err = filepath.WalkDir(p, func(path string, d os.DirEntry, err error) error {
			if err != nil {
				return err
			}
			name := d.Name()
			if d.IsDir() && path != p && (name == "tmp" || name[0] == '.') {
				return filepath.SkipDir
			}
			if d.Type().IsRegular() && name[0] != '.' {
				sub = append(sub, path)
			}
			return nil
		})
		if err != nil {
			return nil, err
		}
		sort.Strings(sub)
		out = append(out, sub...)
	}
	if len(out) == 0 {
		return nil, errors.New("no message files found")
	}
	return out, nil
}
