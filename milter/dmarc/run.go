package dmarc

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"time"
)

// ReportRun is one `gomilter dmarc report` invocation.
type ReportRun struct {
	From, To time.Time // entries with From <= t < To
	OutDir   string    // write <Filename> here when set
	Reporter Reporter
	Sender   *Sender // mail the reports when set
	Prune    bool    // delete entries before To afterwards
}

// ReportSummary says what a run did, one line per report.
type ReportSummary struct {
	Domain string
	Rows   int
	File   string   // path written, if any
	SentTo []string // addresses mailed, if any
	Err    error    // a failure for this domain only
}

// RunReports aggregates the stored entries and writes and/or sends one
// report per policy domain. A failing domain does not stop the others.
func RunReports(ctx context.Context, st Store, run ReportRun) ([]ReportSummary, error) {
	var entries []Entry
	rua := map[string][]string{}
	err := st.Each(ctx, run.From, run.To, func(e Entry) error {
		entries = append(entries, e)
		rua[e.Published.Domain] = e.Published.RUA // the newest record wins
		return nil
	})
	if err != nil {
		return nil, err
	}
	var out []ReportSummary
	for _, f := range Aggregate(entries, run.Reporter, run.From, run.To) {
		s := ReportSummary{Domain: f.Published.Domain, Rows: len(f.Records)}
		if run.OutDir != "" {
			s.File = filepath.Join(run.OutDir, f.Filename(run.Reporter.Domain))
			s.Err = writeFile(s.File, f)
		}
		if run.Sender != nil && s.Err == nil {
			s.SentTo, s.Err = run.Sender.Send(ctx, f, rua[s.Domain])
		}
		out = append(out, s)
	}
	if run.Prune {
		if err := st.Prune(ctx, run.To); err != nil {
			return out, err
		}
	}
	return out, nil
}

func writeFile(path string, f *Feedback) error {
	tmp := path + ".tmp"
	fh, err := os.OpenFile(tmp, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, 0o640)
	if err != nil {
		return err
	}
	if err := f.WriteGzip(fh); err != nil {
		fh.Close()
		os.Remove(tmp)
		return err
	}
	if err := fh.Close(); err != nil {
		return err
	}
	if err := os.Rename(tmp, path); err != nil {
		return fmt.Errorf("dmarc: %w", err)
	}
	return nil
}
