package dmarc

import (
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"
)

func TestRunReports(t *testing.T) {
	dir := t.TempDir()
	st, err := OpenBolt(filepath.Join(dir, "dmarc.db"), time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	t0 := time.Date(2026, 11, 21, 0, 0, 0, 0, time.UTC)
	for _, e := range sampleEntries(t0.Add(time.Hour)) {
		st.Add(context.Background(), e)
	}
	out := filepath.Join(dir, "out")
	os.Mkdir(out, 0o755)
	sum, err := RunReports(context.Background(), st, ReportRun{From: t0, To: t0.Add(24 * time.Hour), OutDir: out,
		Reporter: Reporter{OrgName: "R", Email: "r@receiver.example", Domain: "receiver.example"}, Prune: true})
	if err != nil || len(sum) != 2 || sum[0].Err != nil || sum[1].Err != nil {
		t.Fatalf("RunReports = %+v, %v", sum, err)
	}
	files, _ := filepath.Glob(filepath.Join(out, "receiver.example!*.xml.gz"))
	if len(files) != 2 {
		t.Errorf("files = %v", files)
	}
	n := 0
	st.Each(context.Background(), time.Time{}, t0.Add(48*time.Hour), func(Entry) error { n++; return nil })
	if n != 0 {
		t.Errorf("%d entries left after prune", n)
	}
}
