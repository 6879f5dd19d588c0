package dmarc

import (
	"context"
	"database/sql"
	"fmt"
	"os"
	"testing"
	"time"

	_ "github.com/go-sql-driver/mysql"
	_ "github.com/lib/pq"

	"github.com/gomilter/gomilter/internal/testenv"
)

func TestSQLStore(t *testing.T) {
	for _, tc := range []struct{ dialect, addr, dsn string }{
		{"mysql", "127.0.0.1:3306", "root@tcp(127.0.0.1:3306)/"},
		{"postgres", "127.0.0.1:5432", "postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable"},
	} {
		t.Run(tc.dialect, func(t *testing.T) {
			testenv.Service(t, tc.addr)
			ctx := context.Background()
			dsn := tc.dsn
			if tc.dialect == "mysql" {
				// MariaDB needs a database: a private one for these tests.
				dsn += "gomilter_dmarc_test"
				admin, err := sql.Open("mysql", tc.dsn)
				if err != nil {
					t.Fatal(err)
				}
				_, err = admin.ExecContext(ctx, "CREATE DATABASE IF NOT EXISTS gomilter_dmarc_test")
				admin.Close()
				if err != nil {
					t.Fatal(err)
				}
			}
			db, err := sql.Open(tc.dialect, dsn)
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { db.Close() }) // after the DROP below (cleanups run last-in first-out)
			table := fmt.Sprintf("dmarc_test_%d_%d", os.Getpid(), time.Now().UnixNano()%1e6)
			t.Cleanup(func() { db.Exec("DROP TABLE IF EXISTS " + table) })
			st, err := OpenSQL(ctx, db, tc.dialect, table)
			if err != nil {
				t.Fatal(err)
			}
			defer st.Close()
			storeContract(t, st)
		})
	}
}

// storeContract is what every Store must do.
func storeContract(t *testing.T, st Store) {
	ctx := context.Background()
	t0 := time.Date(2026, 11, 21, 0, 0, 0, 0, time.UTC)
	for _, e := range sampleEntries(t0.Add(time.Hour)) {
		if err := st.Add(ctx, e); err != nil {
			t.Fatal(err)
		}
	}
	st.Add(ctx, sampleEntries(t0.Add(-time.Hour))[0])
	count := func(from, to time.Time) int {
		n := 0
		if err := st.Each(ctx, from, to, func(Entry) error { n++; return nil }); err != nil {
			t.Fatal(err)
		}
		return n
	}
	if n := count(t0, t0.Add(24*time.Hour)); n != 5 {
		t.Errorf("Each = %d entries, want 5", n)
	}
	if err := st.Prune(ctx, t0); err != nil {
		t.Fatal(err)
	}
	if n := count(time.Unix(0, 0), t0.Add(24*time.Hour)); n != 5 {
		t.Errorf("after Prune %d entries, want 5", n)
	}
}

func TestBoltStoreContract(t *testing.T) {
	st, err := OpenBolt(t.TempDir()+"/d.db", time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	storeContract(t, st)
}
